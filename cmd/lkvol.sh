#!/bin/sh
# The lkvol command. Node gets a small young generation: V8 reads heap flags only at start-up, and
# --max-semi-space-size=4 keeps a large build under 150 MB at no cost in speed. It runs lkvol bundled
# into one file by make build (dist/bundle/lkvol.cjs, run by start.cjs with its V8 code cache), which
# starts ~160 ms sooner than the ~330 modules of dist/cmd/lkvol.js loaded one by one.
# Run as itself (not through a symlink, as npm links it), its directory is in $0: no readlink and dirname to start.
if [ -L "$0" ]; then here=$(dirname "$(readlink -f "$0")"); else case $0 in */*) here=${0%/*} ;; *) here=. ;; esac; fi
# Node reads the certificates of NODE_EXTRA_CA_CERTS before it runs any script (~36 ms for a system bundle of 140), for
# every command and every registry, TLS or not: lkvol takes the file over under another name, gives the variable back
# to the programs it starts and trusts the file when a registry speaks TLS (cmd/env.ts takeExtraCaCerts).
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then
  LKVOL_NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS
  export LKVOL_NODE_EXTRA_CA_CERTS
  unset NODE_EXTRA_CA_CERTS
fi
# glibc keeps what each thread frees in an arena of that thread's (up to 8 per core): one arena for all of lkvol's
# threads keeps a cold build 6–12 MB smaller at its peak at no cost in speed. Only where the user set none; the programs
# lkvol starts get the variable back as it was (cmd/env.ts restoreMallocArenaMax).
if [ -z "${MALLOC_ARENA_MAX+set}" ]; then
  MALLOC_ARENA_MAX=1
  LKVOL_MALLOC_ARENA_MAX=unset
  export MALLOC_ARENA_MAX LKVOL_MALLOC_ARENA_MAX
fi
exec node --max-semi-space-size=4 "$here/../dist/bundle/start.cjs" "$@"
