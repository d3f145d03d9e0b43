#!/usr/bin/env bash
# Installs the Debian packages the tests and the example need, when missing: the CNCF distribution
# registry (docker-registry), umoci and skopeo (reference oracles), htpasswd and openssl.
# docker-registry ships a service listening on :5000 on every address; a policy-rc.d that exits 101
# keeps it from starting, since the tests run their own instance on 127.0.0.1.
set -euo pipefail
need=()
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v umoci >/dev/null || need+=(umoci)
command -v skopeo >/dev/null || need+=(skopeo)
command -v htpasswd >/dev/null || need+=(apache2-utils)
command -v openssl >/dev/null || need+=(openssl)
command -v zstd >/dev/null || need+=(zstd)
command -v getfattr >/dev/null || need+=(attr)
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing Debian packages: ${need[*]}" >&2
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
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Belt and braces: if a service manager started the packaged registry anyway, stop it.
if command -v systemctl >/dev/null && systemctl is-active --quiet docker-registry 2>/dev/null; then $sudo systemctl stop docker-registry; fi
exit 0
