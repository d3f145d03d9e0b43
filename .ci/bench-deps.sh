#!/usr/bin/env bash
# Installs the Debian packages only `make bench` needs, when missing: debootstrap (builds the Debian
# minbase image) and time (/usr/bin/time, for peak RSS). `make deps` installs the rest (registry,
# skopeo, umoci).
set -euo pipefail
need=()
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
[ -x /usr/bin/time ] || need+=(time)
[ ${#need[@]} -eq 0 ] && exit 0
exec bash "$(dirname "$0")/apt-install.sh" "${need[@]}"
