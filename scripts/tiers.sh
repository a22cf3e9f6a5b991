#!/usr/bin/env bash
# Both test tiers (built workspace assumed), then one closing line over both:
# "N passed, M failed, K skipped". Exits non-zero on any failure or missing report.
set -uo pipefail
cd "$(dirname "$0")/.."
rm -rf .test-results
bash scripts/test-tier.sh fast
bash scripts/test-tier.sh interop
node scripts/test-summary.mjs
