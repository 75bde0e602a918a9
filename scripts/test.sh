#!/usr/bin/env bash
# Set everything up and run the whole test suite: as the current user and, when that is root,
# again as an unprivileged uid (65534), the two ways the executor runs in production.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== tests as $(id -un) (uid $(id -u))"
npm test

if [ "$(id -u)" -eq 0 ] && [ "${SKIP_UNPRIVILEGED_TESTS:-0}" != "1" ]; then
  unpriv=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  dir=$PWD
  if ! "${unpriv[@]}" test -r "$dir/package.json" -a -x "$dir/dist"; then
    # The checkout is not readable by uid 65534 (e.g. under /root): test a world-readable copy.
    dir=$(mktemp -d /tmp/sandbox-executor-unprivileged.XXXXXX)
    cp -a package.json dist node_modules build-cmake deploy "$dir"/
    # src/: the runtimes' bootstrap files, and the sources test/layers.test.ts scans
    cp -a src "$dir/"
    # the unit tier compiles sandbox-init's frame parser (test/unit/command-frame.test.ts)
    mkdir -p "$dir/native" && cp -a native/init "$dir/native/"
    mkdir -p "$dir/test" && cp -a test/container "$dir/test/"
    # the server's memory settings (the bench's executor child reads them; test/deploy compares
    # them with the Dockerfile and scripts/start.sh)
    cp -a Dockerfile scripts "$dir/"
    # the Python fork server probe (test/bench/python-fork-probe.test.ts)
    mkdir -p "$dir/tools/bench" && cp -a tools/bench/python-fork-probe.py "$dir/tools/bench/"
    chmod -R a+rX "$dir"
    trap 'rm -rf "$dir"' EXIT
  fi
  echo "== tests as uid 65534 (unprivileged server)"
  (cd "$dir" && env -u STATE_PATH HOME=/tmp "${unpriv[@]}" npm test --cache /tmp/.npm-65534)
fi
