#!/usr/bin/env bash
# Installs what a fresh machine with Node 20 and npm lacks, then builds the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v pnpm >/dev/null 2>&1; then
  echo "setup: installing pnpm 10 with npm" >&2
  npm install -g pnpm@10 >/dev/null
fi
# No prompt when an earlier install used another store (no TTY to answer it on).
pnpm install --frozen-lockfile --config.confirmModulesPurge=false
pnpm build
