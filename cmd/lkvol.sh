#!/bin/sh
# The lkvol command: Node with a small young generation (--max-semi-space-size=4 keeps a large build
# under 150 MB of memory at no cost in speed; V8 reads heap flags only at start-up), then dist/cmd/lkvol.js.
here=$(dirname "$(readlink -f "$0")")
exec node --max-semi-space-size=4 "$here/../dist/cmd/lkvol.js" "$@"
