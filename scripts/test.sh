#!/usr/bin/env bash
# The test command: set up, then every package's tests (real files, SQLite, processes, PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
find packages apps -maxdepth 2 -name .test-results.json -delete
status=0
# Strict types and one lint/format check over the whole workspace, then the tests.
pnpm typecheck || status=$?
pnpm lint || status=$?
pnpm test || status=$?
node scripts/test-summary.mjs || status=$?
exit "$status"
