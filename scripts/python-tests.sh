#!/usr/bin/env bash
# The Python trainer's tests (python/clim_torch, issue 18) on Debian's
# interpreter and packages: python3-torch, python3-pil, python3-pytest.
# Installs them with apt-get when missing and root, as e2e.sh does Chromium;
# never pip (PyPI is not reachable here).
set -euo pipefail
cd "$(dirname "$0")/.."

python=/usr/bin/python3
packages=(python3-torch python3-pil python3-pytest python3-numpy)
if ! "$python" -c 'import torch, PIL, pytest, numpy' >/dev/null 2>&1; then
  if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
    echo "Python test packages missing: installing Debian's ${packages[*]}" >&2
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"
  else
    echo "Python test packages missing: sudo apt-get install ${packages[*]}" >&2
    exit 1
  fi
fi
# No bytecode or cache files in the work tree.
export PYTHONDONTWRITEBYTECODE=1
exec "$python" -m pytest -p no:cacheprovider -q python/tests "$@"
