#!/usr/bin/env bash
# Quick start: set everything up, then run the executor with working local defaults
# (standalone mode: no control plane; workspace under ./.state unless WORKSPACE_PATH is set).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export WORKSPACE_PATH="${WORKSPACE_PATH:-$PWD/.state/workspace}"
export LOG_FORMAT="${LOG_FORMAT:-text}"
mkdir -p "$WORKSPACE_PATH"
# the server's memory settings, as in the image (scripts/server-memory.env); the caller's own win
while IFS='=' read -r name value; do
  if [[ $name =~ ^[A-Z_]+$ && -z ${!name:-} ]]; then export "$name=$value"; fi
done < scripts/server-memory.env
exec node dist/src/cli/main.js serve
