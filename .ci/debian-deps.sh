#!/usr/bin/env bash
# Installs the Debian packages the tests and the example need, when missing: the CNCF distribution
# registry (docker-registry), umoci and skopeo (reference oracles), htpasswd and openssl, runc and
# busybox-static (the boot test runs containers of a built tree), tmux (the terminal progress test).
# docker-registry ships a service listening on :5000 on every address; apt-install.sh keeps it from
# starting, since the tests run their own instance on 127.0.0.1.
set -euo pipefail
need=()
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v umoci >/dev/null || need+=(umoci)
command -v skopeo >/dev/null || need+=(skopeo)
command -v htpasswd >/dev/null || need+=(apache2-utils)
command -v openssl >/dev/null || need+=(openssl)
command -v zstd >/dev/null || need+=(zstd)
command -v getfattr >/dev/null || need+=(attr)
command -v runc >/dev/null || need+=(runc)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v tmux >/dev/null || need+=(tmux)
[ ${#need[@]} -eq 0 ] && exit 0
bash "$(dirname "$0")/apt-install.sh" "${need[@]}"
# Belt and braces: if a service manager started the packaged registry anyway, stop it.
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
if command -v systemctl >/dev/null && systemctl is-active --quiet docker-registry 2>/dev/null; then $sudo systemctl stop docker-registry; fi
exit 0
