#!/usr/bin/env bash
# Install, migrate, seed the demo compound (only into an empty database) and serve on :8000.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
mkdir -p data
.venv/bin/python -m alembic upgrade head
if [ "${GONGJUE_DEMO_DATA:-true}" = "true" ]; then
  .venv/bin/python -m app.demo
fi
exec .venv/bin/python -m app.serve app.main:create_app --factory \
  --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" --proxy-headers
