#!/usr/bin/env bash
# The whole test suite: Python tests (SQLite by default, PostgreSQL when
# GONGJUE_TEST_DATABASE_URL is set) and, side by side with them, the browser tests in Chromium.
# Arguments go to pytest. Env: SKIP_E2E=1 leaves out the browser tests; GONGJUE_TEST_WORKERS sets
# pytest-xdist's processes (default auto: one per core; 0 runs pytest in one process);
# GONGJUE_SKIP_SETUP=1 skips scripts/setup.sh (when it has just run, as in .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${GONGJUE_SKIP_SETUP:-0}" != 1 ]; then
  ./scripts/setup.sh
fi

# The browser tests start first, in their own process group, and print when they are done (their
# output would otherwise interleave with pytest's); their log is kept while they run.
e2e_pid=""
e2e_log=""
if [ -z "${SKIP_E2E:-}" ] && [ -x frontend/e2e/run.sh ]; then
  e2e_log="$(mktemp "${TMPDIR:-/tmp}/gongjue-e2e-XXXXXX.log")"
  echo "browser tests running alongside pytest; their log: $e2e_log"
  GONGJUE_PYTHON="$PWD/.venv/bin/python" setsid -w frontend/e2e/run.sh >"$e2e_log" 2>&1 &
  e2e_pid=$!
  trap '[ -n "$e2e_pid" ] && kill -TERM -- "-$e2e_pid" 2>/dev/null; rm -f "$e2e_log"' EXIT
fi

status=0
.venv/bin/python -m pytest -p no:cacheprovider -n "${GONGJUE_TEST_WORKERS:-auto}" \
  --dist worksteal "$@" || status=$?

if [ -n "$e2e_pid" ]; then
  e2e_status=0
  wait "$e2e_pid" || e2e_status=$?
  e2e_pid=""
  echo "== browser tests (frontend/e2e/run.sh)"
  cat "$e2e_log"
  if [ "$e2e_status" -ne 0 ]; then status=$e2e_status; fi
fi
exit $status
