#!/usr/bin/env bash
# Installs the Debian packages only `make bench` needs, when missing: debootstrap (builds the Debian
# minbase image), time (/usr/bin/time, for peak RSS) and curl (the raw `curl | gzip -d | tar -x` pipe). `make deps` installs the rest (registry,
# skopeo, umoci).
set -euo pipefail
need=()
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
[ -x /usr/bin/time ] || need+=(time)
command -v curl >/dev/null || need+=(curl)
[ ${#need[@]} -eq 0 ] && exit 0
exec bash "$(dirname "$0")/apt-install.sh" "${need[@]}"
