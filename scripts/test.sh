#!/usr/bin/env bash
# The test command: set up, then strict types, lint, the published packages (packed, linted
# with publint and attw, installed with npm into an empty project, compiled by a strict tsc, the
# README program run), and both test tiers (fast: unit, stores, CLI, app-server, SQLite and
# PostgreSQL; interop: the real codex from npm). Ends with one line over both tiers,
# "N passed, M failed, K skipped"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
status=0
pnpm typecheck || status=$?
pnpm lint || status=$?
node scripts/check-packages.mjs || status=$?
bash scripts/tiers.sh || status=$?
exit "$status"
