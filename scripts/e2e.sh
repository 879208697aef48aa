#!/usr/bin/env bash
# End-to-end tests in the system Chromium. Never downloads a browser.
set -euo pipefail
cd "$(dirname "$0")/.."

chromium="${CHROMIUM_PATH:-}"
if [[ -z "$chromium" ]]; then
  chromium=/usr/bin/chromium
  if [[ ! -x "$chromium" ]]; then
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
      echo "Chromium not found: installing Debian's chromium package" >&2
      apt-get update
      DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
    else
      echo "Chromium not found: install Debian's chromium package (sudo apt-get install chromium) or set CHROMIUM_PATH" >&2
      exit 1
    fi
  fi
fi
if [[ ! -x "$chromium" ]]; then
  echo "Chromium not found at $chromium: install Debian's chromium package (sudo apt-get install chromium) or set CHROMIUM_PATH" >&2
  exit 1
fi
export CHROMIUM_PATH="$chromium"

npx vite build
npx playwright test "$@"
