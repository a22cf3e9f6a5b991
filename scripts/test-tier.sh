#!/usr/bin/env bash
# Runs one test tier (fast, interop or reliability) in one vitest run over every package (root
# vitest.config.ts), and leaves its JSON report and exit status in .test-results/ for
# scripts/test-summary.mjs. Extra arguments go to vitest (a file filter, --project fast:cli).
# The reliability tier also collects each test's figures (kills, items acknowledged, lost,
# requests, unanswered) and prints them as a table at its end.
set -uo pipefail
cd "$(dirname "$0")/.."
tier=${1:?usage: test-tier.sh fast|interop|reliability [vitest args]}
shift
mkdir -p .test-results
rm -f ".test-results/$tier.json" ".test-results/$tier.status"
if [ "$tier" = reliability ]; then
  export SKEIN_RELIABILITY_FIGURES="$PWD/.test-results/reliability-figures.jsonl"
  rm -f "$SKEIN_RELIABILITY_FIGURES"
fi
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
if [ "$tier" = reliability ]; then
  node scripts/reliability-figures.mjs "$SKEIN_RELIABILITY_FIGURES" || true
fi
echo "$status" >".test-results/$tier.status"
exit "$status"
