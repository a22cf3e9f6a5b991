#!/usr/bin/env bash
# Runs one test tier, fast or interop, in one vitest run over every package (root
# vitest.config.ts), and leaves its JSON report and exit status in .test-results/ for
# scripts/test-summary.mjs. Extra arguments go to vitest (a file filter, --project fast:cli).
set -uo pipefail
cd "$(dirname "$0")/.."
tier=${1:?usage: test-tier.sh fast|interop [vitest args]}
shift
mkdir -p .test-results
rm -f ".test-results/$tier.json" ".test-results/$tier.status"
status=0
if [ "$tier" = interop ]; then
  node scripts/interop-preflight.mjs || status=$?
fi
if [ "$status" = 0 ]; then
  pnpm exec vitest run --project "$tier:*" --reporter=default --reporter=json \
    --outputFile.json=".test-results/$tier.json" "$@" || status=$?
fi
echo "$status" >".test-results/$tier.status"
exit "$status"
