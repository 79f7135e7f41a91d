#!/usr/bin/env bash
# Prints the path of a Temporal CLI (dev server) binary, building it once if needed.
# Order: $TEMPORAL_CLI_PATH, a `temporal` on PATH, the cache outside the checkout, a Go build
# into that cache. Prints nothing and exits 3 when none is possible (the caller then lets the
# Temporal SDK download its own).
set -euo pipefail

VERSION="v1.5.1" # later tags carry a replace directive and cannot be `go install`ed
CACHE_DIR="${CLIPFLOW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clipflow}/temporal-cli-${VERSION}"
BIN="$CACHE_DIR/temporal"

if [[ -n "${TEMPORAL_CLI_PATH:-}" ]]; then
  [[ -x "$TEMPORAL_CLI_PATH" ]] || { echo "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable file" >&2; exit 2; }
  echo "$TEMPORAL_CLI_PATH"; exit 0
fi
if on_path="$(command -v temporal 2>/dev/null)"; then echo "$on_path"; exit 0; fi
if [[ -x "$BIN" ]]; then echo "$BIN"; exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  echo "no Temporal CLI and no Go toolchain: the Temporal SDK will download the dev server" >&2
  exit 3
fi

mkdir -p "$CACHE_DIR"
# One build at a time: parallel test files may all ask at once.
exec 9>"$CACHE_DIR/.lock"
flock 9
if [[ -x "$BIN" ]]; then echo "$BIN"; exit 0; fi

echo "building the Temporal CLI $VERSION into $CACHE_DIR (once; a few minutes on 2 cores)" >&2
build() { GOBIN="$CACHE_DIR/.build" CGO_ENABLED=0 go install "github.com/temporalio/cli/cmd/temporal@$VERSION" >&2; }
if ! build; then
  # The checksum database may be out of reach while the module proxy is not; for this one
  # pinned build the proxy alone is trusted.
  echo "retrying with GOSUMDB=off (module proxy only)" >&2
  GOSUMDB=off build
fi
mv "$CACHE_DIR/.build/temporal" "$BIN"
rmdir "$CACHE_DIR/.build" 2>/dev/null || true
echo "$BIN"
