#!/usr/bin/env bash
# The whole test suite: Python tests (SQLite by default, PostgreSQL when
# GONGJUE_TEST_DATABASE_URL is set) and the browser tests in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
status=0
.venv/bin/python -m pytest -p no:cacheprovider "$@" || status=$?
if [ -z "${SKIP_E2E:-}" ] && [ -x frontend/e2e/run.sh ]; then
  GONGJUE_PYTHON="$PWD/.venv/bin/python" frontend/e2e/run.sh || status=$?
fi
exit $status
