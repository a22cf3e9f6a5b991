#!/usr/bin/env bash
# The three test tiers (built workspace assumed): fast, interop, reliability; then one closing
# line over all of them: "N passed, M failed, K skipped". Exits non-zero on any failure or
# missing report.
set -uo pipefail
cd "$(dirname "$0")/.."
rm -rf .test-results
bash scripts/test-tier.sh fast
bash scripts/test-tier.sh interop
bash scripts/test-tier.sh reliability
node scripts/test-summary.mjs
