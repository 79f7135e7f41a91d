#!/usr/bin/env bash
# Installs Debian's Chromium for the Web UI browser test, when it is missing and apt can be used.
# Prints the browser's path; exits 3 (and the test skips, saying why) when it cannot be had.
set -uo pipefail
for candidate in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [[ -n "$candidate" && -x "$candidate" ]]; then echo "$candidate"; exit 0; fi
done
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: not root or no apt-get; install Chromium yourself and set CHROMIUM_PATH" >&2
  exit 3
fi
{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >&2 || {
  echo "install-chromium: apt-get could not install chromium" >&2
  exit 3
}
echo /usr/bin/chromium
