#!/usr/bin/env bash
# Runs the test runner given as arguments as root: the suite checks what only root can do (owners, setuid bits,
# security.capability, device nodes, runc, a tmpfs for ENOSPC) and, from root, what an ordinary user gets (the
# rootless tests build as uid 65534). Run by another user, it goes through sudo, as the package installs do; without
# passwordless sudo it stops here with one message instead of failing every such test.
set -euo pipefail
[ "$(id -u)" -eq 0 ] && exec "$@"
if ! command -v sudo >/dev/null 2>&1 || ! sudo -n true 2>/dev/null; then
  echo "the tests need root, and $(id -un) has no passwordless sudo: run them as root (sudo make test)" >&2
  exit 1
fi
# sudo resets PATH: name node by its full path, and keep PATH for the tools the tests start.
node=$(command -v "$1")
shift
exec sudo -n env "PATH=$PATH" "$node" "$@"
