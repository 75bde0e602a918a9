#!/usr/bin/env bash
# Quick start: set everything up, then run the executor with working local defaults
# (standalone mode: no control plane; workspace under ./.state unless WORKSPACE_PATH is set).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export WORKSPACE_PATH="${WORKSPACE_PATH:-$PWD/.state/workspace}"
export LOG_FORMAT="${LOG_FORMAT:-text}"
mkdir -p "$WORKSPACE_PATH"
exec node dist/src/cli/main.js serve
