#!/usr/bin/env bash
# build.sh — build the lkvol LinuxKit oracle binary from a LinuxKit source tree.
#
# Usage:   build.sh LINUXKIT_DIR OUTPUT_BINARY
# Example: testdata/linuxkit/oracle/build.sh /work/linuxkit-src /tmp/lkvol-oracle
#
# What it does (idempotent; LINUXKIT_DIR is never modified):
#   1. copies LINUXKIT_DIR/src/cmd/linuxkit (the Go module incl. vendor/) into a
#      fresh temp dir;
#   2. drops our main.go in as src/cmd/linuxkit/lkvol-oracle/main.go (package main
#      importing LinuxKit's own packages moby and moby/build);
#   3. adds an "export shim" file to moby/build (our code, generated below) that
#      re-exports two unexported functions so main.go calls the real code:
#        updateMountsAndBindsFromVolumes (moby/build/volume.go:10)
#        filesystem                      (moby/build/build.go:728)
#   4. stubs vendor/golang.org/x/crypto/ssh/mlkem.go (needs Go 1.24 crypto/mlkem;
#      only reachable through registry/cache code the oracle never calls);
#   5. patches the temp go.mod / vendor/modules.txt so Go 1.23 accepts them, and
#      runs `go build -mod=vendor` fully offline.
#
# Toolchain: Go 1.23 from Debian bookworm-backports:
#   echo 'deb http://deb.debian.org/debian bookworm-backports main' \
#       > /etc/apt/sources.list.d/backports.list
#   apt-get update && apt-get install -y -t bookworm-backports golang-1.23-go
# (binary /usr/lib/go-1.23/bin/go; override with $GO).
#
# Why the go.mod patch: LinuxKit's go.mod says `go 1.24.3` + `toolchain
# go1.24.12`, and some vendored modules declare `go 1.24.x` in
# vendor/modules.txt. With no network there is no toolchain download
# (GOTOOLCHAIN=local), and Go 1.23 refuses a main module requiring a newer go
# and cannot compile packages with -lang=go1.24. We rewrite those version lines
# to 1.23 in the *temp copy only*; the code paths we use do not need any 1.24
# language feature (the build proves it).
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 LINUXKIT_DIR OUTPUT_BINARY" >&2
  exit 2
fi
LK=$(cd "$1" && pwd)
OUT=$2
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GO=${GO:-/usr/lib/go-1.23/bin/go}
[ -x "$GO" ] || GO=$(command -v go)

MOD="$LK/src/cmd/linuxkit"
[ -f "$MOD/go.mod" ] || { echo "no $MOD/go.mod" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lkvol-oracle-build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cp -a "$MOD" "$WORK/linuxkit"
T="$WORK/linuxkit"

# --- our program
mkdir -p "$T/lkvol-oracle"
cp "$HERE/main.go" "$T/lkvol-oracle/main.go"

# --- export shims (our own code; they only alias unexported LinuxKit identifiers)
cat > "$T/moby/build/zz_lkvol_oracle_export.go" <<'GO'
package build

// Added by lkvol's testdata/linuxkit/oracle/build.sh (not part of LinuxKit).
// Re-exports unexported helpers of this package so the oracle calls the real code.
var (
	// used by outputImage (build.go:108), defined in volume.go:10
	LkvolOracleUpdateMountsAndBindsFromVolumes = updateMountsAndBindsFromVolumes
	// used by Build (build.go:394), defined in build.go:728
	LkvolOracleFilesystem = filesystem
)
GO

# --- golang.org/x/crypto/ssh (vendored, v0.42.0) needs Go 1.24's crypto/mlkem
# for one SSH key-exchange algorithm. moby/build reaches x/crypto/ssh only
# through the image cache / registry code (never called by the oracle).
# Replace that one file in the temp copy with a stub of the same type.
cat > "$T/vendor/golang.org/x/crypto/ssh/mlkem.go" <<'GO'
package ssh

// Stub written by lkvol's oracle build.sh: Go 1.23 has no crypto/mlkem.

import (
	"errors"
	"io"
)

type mlkem768WithCurve25519sha256 struct{}

func (kex *mlkem768WithCurve25519sha256) Client(c packetConn, rand io.Reader, magics *handshakeMagics) (*kexResult, error) {
	return nil, errors.New("mlkem768x25519-sha256 unavailable (lkvol oracle build)")
}

func (kex *mlkem768WithCurve25519sha256) Server(c packetConn, rand io.Reader, magics *handshakeMagics, priv AlgorithmSigner, algo string) (*kexResult, error) {
	return nil, errors.New("mlkem768x25519-sha256 unavailable (lkvol oracle build)")
}
GO

# --- let Go 1.23 accept the module (temp copy only)
sed -i -E 's/^go 1\.2[4-9](\.[0-9]+)?$/go 1.23/; /^toolchain /d' "$T/go.mod"
sed -i -E 's/^## explicit; go 1\.2[4-9](\.[0-9]+)?$/## explicit; go 1.23/' "$T/vendor/modules.txt"

# The LinuxKit commit, reported in the oracle's output (linuxkitCommit):
# $LINUXKIT_COMMIT, else `git rev-parse HEAD` of the tree, else 3bf33c3a1
# (the commit of the unpacked, git-less /work/linuxkit-src this was written for).
COMMIT=${LINUXKIT_COMMIT:-}
if [ -z "$COMMIT" ] && git -C "$LK" rev-parse --show-toplevel 2>/dev/null | grep -qx "$LK"; then
  COMMIT=$(git -C "$LK" rev-parse HEAD)
fi
if [ -z "$COMMIT" ]; then
  COMMIT=3bf33c3a1
  echo "note: $LK is not a git checkout; assuming LinuxKit commit $COMMIT (set LINUXKIT_COMMIT to override)" >&2
fi

mkdir -p "$(dirname "$OUT")"
(
  cd "$T"
  export GOFLAGS=-mod=vendor GOTOOLCHAIN=local GOPROXY=off GONOSUMDB='*' \
         CGO_ENABLED=0 GOCACHE="${GOCACHE:-$HOME/.cache/lkvol-oracle-gocache}"
  "$GO" build -trimpath -ldflags "-X main.linuxkitCommit=$COMMIT" -o "$OUT" ./lkvol-oracle
)
echo "built $OUT (LinuxKit $COMMIT, $("$GO" version))"
