#!/usr/bin/env python3
"""Prints the URI of the host's first enabled apt source that serves a suite (e.g. bookworm).

    apt-source-uri.py SUITE [ROOT]

Reads ROOT/etc/apt/sources.list and ROOT/etc/apt/sources.list.d/*.list (one-line format) and
*.sources (deb822 format), in the order apt reads them. Exits 1, saying so on stderr, when no
source serves SUITE: the container test then asks for DEBIAN_MIRROR instead of guessing a host.
"""
import glob
import os
import sys


def one_line_sources(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if not words or words[0] != "deb":
                continue
            words = words[1:]
            if words and words[0].startswith("["):  # options: [arch=amd64 signed-by=...]
                while words and not words[0].endswith("]"):
                    words = words[1:]
                words = words[1:]
            if len(words) >= 2:
                yield words[0], [words[1]]


def deb822_sources(path):
    with open(path, encoding="utf-8") as f:
        stanzas = f.read().split("\n\n")
    for stanza in stanzas:
        fields, key = {}, None
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t" and key:  # continuation line
                fields[key] += " " + line.strip()
                continue
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            yield uri, fields.get("suites", "").split()


def sources(root):
    main = os.path.join(root, "etc/apt/sources.list")
    if os.path.exists(main):
        yield from one_line_sources(main)
    for path in sorted(glob.glob(os.path.join(root, "etc/apt/sources.list.d/*"))):
        if path.endswith(".list"):
            yield from one_line_sources(path)
        elif path.endswith(".sources"):
            yield from deb822_sources(path)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    suite, root = sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else "/"
    for uri, suites in sources(root):
        if suite in suites:
            print(uri.rstrip("/"))
            return
    print(f"no enabled apt source for suite {suite} in {root.rstrip('/')}/etc/apt/sources.list or sources.list.d/", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    main()
