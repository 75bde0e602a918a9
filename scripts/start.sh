#!/usr/bin/env bash
# Quick start: set everything up, then run the executor with working local defaults
# (standalone mode: no control plane; workspace under ./.state unless WORKSPACE_PATH is set).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export WORKSPACE_PATH="${WORKSPACE_PATH:-$PWD/.state/workspace}"
export LOG_FORMAT="${LOG_FORMAT:-text}"
mkdir -p "$WORKSPACE_PATH"
# the server's memory settings, as in the image (docs/deployment.md, "9. Configuration")
export NODE_OPTIONS="${NODE_OPTIONS:---max-semi-space-size=1}" MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-1}"
exec node dist/src/cli/main.js serve
