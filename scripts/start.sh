#!/usr/bin/env bash
# The main job: set up, then run the skein CLI on a Codex home (CODEX_HOME, ~/.codex, or a demo home).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
exec node apps/cli/dist/main.js "${@:-list}"
