#!/usr/bin/env bash
# The cloned child's code (native/child/, built as the sandbox_child archive) runs in the
# server's memory between clone(CLONE_VM) and execve: it may call nothing outside itself, no libc
# function and nothing the compiler substitutes for a loop (strlen, memset, memcpy), nor the
# stack protector's __stack_chk_fail. So every symbol its objects leave undefined (nm -u) must be
# defined by another of its objects. No exceptions are allowed today; list one here, with why, if
# it ever must be.
#   usage: check-native-freestanding.sh ARCHIVE...   (default: both build systems' archives)
set -euo pipefail
cd "$(dirname "$0")/.."
allowed=()  # e.g. ("symbol  # why it is safe")
archives=("$@")
if [ ${#archives[@]} -eq 0 ]; then
  for candidate in build-cmake/libsandbox_child.a build/Release/obj.target/sandbox_child.a; do
    [ -f "$candidate" ] && archives+=("$candidate")
  done
fi
if [ ${#archives[@]} -eq 0 ]; then
  echo "check-native-freestanding: no sandbox_child archive found: build the addon first" >&2
  exit 1
fi
status=0
for archive in "${archives[@]}"; do
  undefined=$(nm -u "$archive" | awk 'NF == 2 && $1 == "U" { print $2 }' | sort -u)
  defined=$(nm --defined-only "$archive" | awk 'NF == 3 { print $3 }' | sort -u)
  outside=$(comm -23 <(echo "$undefined") <(echo "$defined") | grep -v '^$' || true)
  for symbol in "${allowed[@]+"${allowed[@]%% *}"}"; do outside=$(echo "$outside" | grep -vx "$symbol" || true); done
  if [ -n "$outside" ]; then
    echo "check-native-freestanding: $archive calls outside the child's code:" >&2
    echo "$outside" | sed 's/^/  /' >&2
    status=1
  else
    echo "check-native-freestanding: $archive: no undefined symbols outside itself"
  fi
done
exit $status
