#!/usr/bin/env bash
# Prints the path of a versitygw binary (a real S3-compatible server over a local directory, for
# the tests of the S3 artifact store), building it once with Go into a cache outside the checkout.
# Order: $VERSITYGW_PATH, a `versitygw` on PATH, the cache, a Go build into the cache.
set -euo pipefail
# shellcheck source=lib/go-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/go-install.sh"

VERSION="v1.8.0"
CACHE_DIR="${CLIPFLOW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clipflow}/versitygw-${VERSION}"
BIN="$CACHE_DIR/versitygw"

if [[ -n "${VERSITYGW_PATH:-}" ]]; then
  [[ -x "$VERSITYGW_PATH" ]] || { echo "VERSITYGW_PATH=$VERSITYGW_PATH is not an executable file" >&2; exit 2; }
  echo "$VERSITYGW_PATH"; exit 0
fi
if on_path="$(command -v versitygw 2>/dev/null)"; then echo "$on_path"; exit 0; fi
if [[ -x "$BIN" ]]; then echo "$BIN"; exit 0; fi
command -v go >/dev/null 2>&1 || { echo "no versitygw and no Go toolchain to build it (set VERSITYGW_PATH)" >&2; exit 3; }

mkdir -p "$CACHE_DIR"
# One build at a time: parallel test files may all ask at once.
exec 9>"$CACHE_DIR/.lock"
flock 9
if [[ -x "$BIN" ]]; then echo "$BIN"; exit 0; fi
echo "building versitygw $VERSION into $CACHE_DIR (once; about 2 minutes on 2 cores)" >&2
go_install_into "$CACHE_DIR" "github.com/versity/versitygw/cmd/versitygw@$VERSION" versitygw
echo "$BIN"
