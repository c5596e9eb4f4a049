#!/bin/sh
# Build the front end if needed, then run the browser tests against a real back end.
# Usage: sh e2e/run.sh [test files...]   (from frontend/ or anywhere; default: unit/ and e2e/)
# Env: GONGJUE_PYTHON (default <repo>/.venv/bin/python), GONGJUE_CHROMIUM (default
#      /usr/bin/chromium), GONGJUE_E2E_SEED (a seed script instead of `python -m app.demo`),
#      GONGJUE_E2E_REBUILD=1 (build even if dist exists), GONGJUE_E2E_CONCURRENCY (test files at once).
set -u
# Test files given relative to the caller's directory stay valid after the cd below.
orig="$PWD"
for arg in "$@"; do
  shift
  case "$arg" in
    /* | -*) set -- "$@" "$arg" ;;
    *) set -- "$@" "$orig/$arg" ;;
  esac
done
cd "$(dirname "$0")/.." || exit 2

if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund || exit 2
fi
if [ ! -f dist/index.html ] || [ "${GONGJUE_E2E_REBUILD:-0}" = "1" ]; then
  npm run build || exit 2
fi

if [ "$#" -eq 0 ]; then
  set -- unit/*.test.mjs e2e/*.test.mjs
fi

tap="$(mktemp)"
trap 'rm -f "$tap"' EXIT
node --test \
  --test-concurrency="${GONGJUE_E2E_CONCURRENCY:-2}" \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  "$@"
status=$?

passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
echo "${passed:-0} passed, ${failed:-0} failed"
if [ "$status" -ne 0 ] && [ "${failed:-0}" = "0" ]; then
  echo "the test runner exited with $status" >&2
fi
exit "$status"
