#!/usr/bin/env python3
"""Derive deploy/seccomp/executor.json from Docker's default seccomp profile.

Docker's default profile allows the namespace and mount syscalls only to containers holding
CAP_SYS_ADMIN. The executor runs with every capability dropped and builds each sandbox inside
a fresh user namespace, where the kernel itself checks the privileges; so this profile keeps
the default untouched and appends one rule that allows exactly the syscalls sandbox creation
makes (native backend and bwrap fallback). The new mount API (fsopen, open_tree, move_mount...)
and clone3 stay as in the default: neither backend calls them.

Usage:
  generate.py [--default PATH] [--output PATH]   write the derived profile
  generate.py --check [--default PATH]           exit 1 if the committed profile is stale

The default profile is a data file of Debian's golang-github-docker-docker-dev package
(apt-get install golang-github-docker-docker-dev), or profiles/seccomp/default.json in a
moby/moby checkout of the Docker version you deploy on.
"""
import argparse
import json
import pathlib
import sys

DEBIAN_DEFAULT = "/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json"
HERE = pathlib.Path(__file__).resolve().parent

# Every syscall here is still checked by the kernel against the caller's user namespace: without
# CAP_SYS_ADMIN in the container, only namespaces the process creates itself can be changed.
SANDBOX_RULE = {
    "names": [
        # Each was measured necessary: dropping any one makes a backend refuse to start (setns:
        # makes the native backend stop joining network namespaces made ahead, see the README).
        # unshare is not among them: bwrap needed it for a second user namespace only to mount a
        # devpts, and the sandbox's /dev has none (src/sandbox/policy.ts, DEV).
        "clone",       # native and bwrap: CLONE_NEWUSER|NEWNS|NEWPID|NEWIPC|NEWUTS|NEWCGROUP[|NEWNET]
        "setns",       # native: joins a user and network namespace it made ahead
        "mount",       # both: private propagation, bind mounts, tmpfs, a fresh procfs
        "umount2",     # both: detach the old root after pivot_root
        "pivot_root",  # both: the sandbox's own root (Docker's default never allows it)
        "sethostname", # both: a neutral hostname in the sandbox's UTS namespace
    ],
    "action": "SCMP_ACT_ALLOW",
    "args": [],
    "comment": "sandbox-executor: namespaces and mounts for unprivileged sandboxes (deploy/seccomp/generate.py)",
    "includes": {},
    "excludes": {},
}


def derive(default_profile: dict) -> dict:
    profile = json.loads(json.dumps(default_profile))
    # clone3 stays ENOSYS as in the default: its flags live in memory seccomp cannot inspect, and
    # glibc falls back to clone, which the rule above allows.
    profile["syscalls"].append(SANDBOX_RULE)
    return profile


def render(profile: dict) -> str:
    return json.dumps(profile, indent=2) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--default", default=DEBIAN_DEFAULT, help="Docker's default.json")
    parser.add_argument("--output", default=str(HERE / "executor.json"))
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()

    try:
        default_profile = json.loads(pathlib.Path(args.default).read_text())
    except FileNotFoundError:
        print(f"{args.default} not found: apt-get install golang-github-docker-docker-dev, "
              "or pass --default PATH", file=sys.stderr)
        return 2
    text = render(derive(default_profile))
    output = pathlib.Path(args.output)
    if args.check:
        if not output.exists() or output.read_text() != text:
            print(f"{output} is stale: run deploy/seccomp/generate.py", file=sys.stderr)
            return 1
        print(f"{output} is up to date")
        return 0
    output.write_text(text)
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
