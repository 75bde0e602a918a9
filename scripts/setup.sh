#!/usr/bin/env bash
# Installs what sandbox-executor needs on a Debian/Ubuntu machine and builds it:
# system packages (when missing), npm dependencies, the native addon and the TypeScript.
# Safe to run again: it skips what is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
have() { command -v "$1" >/dev/null 2>&1; }
have bwrap || missing+=(bubblewrap)
# /usr/bin/python3, not whatever python3 is first on PATH (a pyenv shim): it is the sandboxes'
# interpreter, and dependency syncs run its pip so that the wheels match it
[ -x /usr/bin/python3 ] || missing+=(python3)
/usr/bin/python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
have cmake || missing+=(cmake)
have g++ || missing+=(g++)
have make || missing+=(make)
have bash || missing+=(bash)
[ -e /usr/include/seccomp.h ] || missing+=(libseccomp-dev)
# sandbox-init is linked statically (it runs inside sandboxes whatever their /lib holds), with
# musl: its start-up is 0.3 ms faster than glibc's on a VM (see native/init/build.sh)
have musl-gcc || missing+=(musl-tools)
# .ci/run checks native/ against .clang-format
have clang-format || missing+=(clang-format)
# the tests check deploy/observability with promtool and a real Prometheus scraping an executor
{ have promtool && have prometheus; } || missing+=(prometheus)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing system packages: ${missing[*]}" >&2
    echo "setup: run this script as root, or install them first: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  if ! have apt-get; then
    echo "setup: missing ${missing[*]} and no apt-get to install them with: install them with your package manager" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js 20 or newer is required (found $(node -v 2>/dev/null || echo none))" >&2
  exit 1
fi

# npm ci only when the lock file changed since the last install (it rebuilds better-sqlite3).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "setup: building the native addon (cmake-js) and TypeScript" >&2
npm run --silent build:native >/dev/null
npm run --silent build:ts
echo "setup: done" >&2
