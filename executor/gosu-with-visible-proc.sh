#!/bin/sh
# Installed in the image as /usr/local/bin/gosu, ahead of the real one (/usr/sbin/gosu) on PATH.
#
# Why: the control plane's Docker scheduler starts an S3 session's container as root with
# CAP_SYS_ADMIN and runs `exec gosu sandbox ...` after mounting the bucket, but sets no
# `systempaths=unconfined`, so the runtime masks parts of /proc. The kernel lets a user namespace
# mount a procfs only where a fully visible one already exists in its mount namespace ("mount too
# revealing"), so no sandbox backend could start and the server would stop at start.
#
# What: while still root and only when /proc is masked (other mounts on top of it), mount one
# whole procfs in a directory only root may enter, then run the real gosu. Sandboxes never see it
# (each has a root of its own), nor does the server (uid 1000 after gosu). Anywhere else (not
# root, /proc already whole) this only runs the real gosu; a mount that fails is said, not fatal.
set -u
visible=/run/sandbox-executor/proc

proc_is_masked() { # a mount point below /proc (field 5 of mountinfo)
  while read -r _id _parent _device _root point _rest; do
    case $point in /proc/*) return 0 ;; esac
  done </proc/self/mountinfo
  return 1
}

if [ "$(id -u)" = 0 ] && proc_is_masked && ! mountpoint -q "$visible" 2>/dev/null; then
  if ! error=$({ install -d -m 0700 /run/sandbox-executor "$visible" && mount -t proc -o nosuid,nodev,noexec proc "$visible"; } 2>&1); then
    echo "gosu (sandbox-executor): /proc is masked and a whole procfs could not be mounted at $visible (${error:-no reason given}); sandboxes need one: start the container with systempaths=unconfined (Docker), unmask=ALL (podman) or procMount: Unmasked (Kubernetes)" >&2
  fi
fi
exec /usr/sbin/gosu "$@"
