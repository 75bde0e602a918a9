#!/bin/sh
# Builds sandbox-init (statically: it runs inside sandboxes whatever their /lib holds), for both
# build systems (CMakeLists.txt and binding.gyp call this), so the choice below lives in one place.
#
# musl when available: a static glibc binary probes the CPU at start-up (dozens of CPUID
# instructions, each a VM exit on a virtual machine), which cost 0.3 ms of every sandbox's start
# on the machines we measured; musl's start-up makes no such probes.
#   usage: build.sh OUTPUT SOURCE...
set -eu
out=$1
shift
if cc=$(command -v musl-gcc); then
  :
else
  cc=${CC:-cc}
  echo "sandbox-init: musl-gcc not found, linking with glibc (0.3 ms slower per sandbox start; apt-get install musl-tools)" >&2
fi
exec "$cc" -O2 -Wall -Wextra -Werror -static -o "$out" "$@"
