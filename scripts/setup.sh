#!/usr/bin/env bash
# Install everything the app and its tests need: a Python venv and the built front end.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c constraints.txt -e '.[dev]'

if [ -f frontend/package.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm is required to build the front end (apt-get install nodejs npm)" >&2
    exit 1
  fi
  (cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
fi
