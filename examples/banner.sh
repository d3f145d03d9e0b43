#!/bin/sh
# The provisioner of examples/web.yml's "banner" volume: writes the volume's content as a tar on stdout.
# lkvol runs it in this directory with LKVOL_VOLUME, LKVOL_PLATFORM, SOURCE_DATE_EPOCH, PATH and HOME.
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf 'Welcome to the lkvol example appliance (%s, %s).\n' "$LKVOL_VOLUME" "$LKVOL_PLATFORM" > "$dir/banner.txt"
tar -c -C "$dir" --owner=0 --group=0 --mtime=@0 banner.txt
