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
# The whole tier, unless the arguments name projects of their own (--project fast:cli).
projects=(--project "$tier:*")
for arg in "$@"; do
  case "$arg" in --project | --project=*) projects=() ;; esac
done
if [ "$status" = 0 ]; then
  pnpm exec vitest run "${projects[@]}" --reporter=default --reporter=json \
    --outputFile.json=".test-results/$tier.json" "$@" || status=$?
fi
echo "$status" >".test-results/$tier.status"
exit "$status"
