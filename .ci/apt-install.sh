#!/usr/bin/env bash
# Installs the Debian packages named as arguments (callers pass only the missing ones), via sudo when
# not root. A policy-rc.d that exits 101 keeps any packaged service from starting meanwhile (the
# tests run their own registry on 127.0.0.1, not docker-registry's service on :5000).
set -euo pipefail
[ $# -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing Debian packages: $*" >&2
policy=/usr/sbin/policy-rc.d
had_policy=0
[ -e "$policy" ] && had_policy=1
if [ $had_policy -eq 0 ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
fi
trap '[ $had_policy -eq 0 ] && $sudo rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
