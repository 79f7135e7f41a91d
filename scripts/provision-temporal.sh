#!/usr/bin/env bash
# The Temporal CLI (dev server) binary clipflow runs, pinned to one version.
#
#   provision-temporal.sh find    print the path of one already on this machine; exit 3 if none
#   provision-temporal.sh build   build it once with Go into the cache and print its path; exit 3 without Go
#   provision-temporal.sh dir     print the cache directory (the Temporal SDK's download goes there too)
#   provision-temporal.sh         find, else build (CI: it has no internet for the SDK's download)
#
# find looks at $TEMPORAL_CLI_PATH, a `temporal` on PATH, then the cache outside the checkout,
# ${CLIPFLOW_CACHE_DIR:-~/.cache/clipflow}/temporal-cli-v1.5.1/, which holds a Go build (`temporal`)
# or the SDK's download (`temporal-v1.5.1`). src/dev-server/temporal-cli.ts tries that download
# (seconds) before a build (minutes). Only paths go to stdout; everything else to stderr.
set -euo pipefail
# shellcheck source=lib/go-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/go-install.sh"

VERSION="v1.5.1" # later tags carry a replace directive and cannot be `go install`ed
CACHE_DIR="${CLIPFLOW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clipflow}/temporal-cli-${VERSION}"
BUILT="$CACHE_DIR/temporal"
DOWNLOADED="$CACHE_DIR/temporal-${VERSION}" # the name the SDK gives its download
BUILD_TIME="about 4 minutes on 2 cores" # measured here, with Go's module cache empty

cached() {
  local bin
  for bin in "$BUILT" "$DOWNLOADED"; do
    if [[ -x "$bin" ]]; then echo "$bin"; return 0; fi
  done
  return 1
}

find_cli() {
  if [[ -n "${TEMPORAL_CLI_PATH:-}" ]]; then
    [[ -x "$TEMPORAL_CLI_PATH" ]] || { echo "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable file" >&2; exit 2; }
    echo "$TEMPORAL_CLI_PATH"; return 0
  fi
  command -v temporal 2>/dev/null && return 0
  cached
}

build_cli() {
  if ! command -v go >/dev/null 2>&1; then
    echo "no Go toolchain to build the Temporal CLI $VERSION with" >&2
    exit 3
  fi
  mkdir -p "$CACHE_DIR"
  # One build at a time: parallel test files may all ask at once.
  exec 9>"$CACHE_DIR/.lock"
  if ! flock -n 9; then
    echo "another process is building the Temporal CLI into $CACHE_DIR; waiting for it" >&2
    flock 9
  fi
  cached && return 0

  echo "building the Temporal CLI $VERSION from source with Go into $CACHE_DIR (once; $BUILD_TIME)" >&2
  go_install_into "$CACHE_DIR" "github.com/temporalio/cli/cmd/temporal@$VERSION" temporal
  echo "$BUILT"
}

case "${1:-}" in
  find) find_cli || exit 3 ;;
  build) build_cli ;;
  dir) echo "$CACHE_DIR" ;;
  "") find_cli || build_cli ;;
  *) echo "usage: provision-temporal.sh [find|build|dir]" >&2; exit 2 ;;
esac
