#!/usr/bin/env bash
# Makes docker.io/library/debian:bookworm-slim available to podman without a registry:
# debootstrap a minbase bookworm once, trim it the way Debian's slim images are trimmed, cache the
# rootfs tarball, import it and tag it with the name the Dockerfile's FROM uses.
#   CONTAINER_TEST_CACHE  cache root (default /var/cache/sandbox-executor)
#   DEBIAN_MIRROR           defaults to the host's apt source for bookworm (/etc/apt/sources.list{,.d/})
#   DEBIAN_SECURITY_MIRROR  defaults to the host's source for bookworm-security, else DEBIAN_MIRROR's
#                           sibling .../debian-security
set -euo pipefail

cache=${CONTAINER_TEST_CACHE:-/var/cache/sandbox-executor}
tarball="$cache/debian-bookworm-minbase.tar"
image=docker.io/library/debian:bookworm-slim

if podman image exists "$image"; then
  echo "base: $image already present"
  exit 0
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# No mirror is named here: the one this host's apt uses is the one that works from this network.
apt_source() { python3 "$here/apt-source-uri.py" "$1"; }

if [ ! -s "$tarball" ]; then
  mirror=${DEBIAN_MIRROR:-$(apt_source bookworm)} || {
    echo "base: no Debian mirror configured: set DEBIAN_MIRROR=http://<your-mirror>/debian (or add a bookworm source to /etc/apt)" >&2
    exit 1
  }
  mirror=${mirror%/}
  security=${DEBIAN_SECURITY_MIRROR:-$(apt_source bookworm-security 2>/dev/null || echo "${mirror%/debian}/debian-security")}
  rootfs=$(mktemp -d /var/tmp/bookworm-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  echo "base: debootstrap --variant=minbase bookworm from $mirror"
  started=$(date +%s)
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
    echo "base: debootstrap failed, last lines of $cache/debootstrap.log:" >&2
    tail -n 20 "$cache/debootstrap.log" >&2
    exit 1
  }

  # What the official slim image does: no docs, man pages or translations from later installs,
  # and apt caches cleaned after each install.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${security%/}
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* "$rootfs"/usr/share/info/*
  : >"$rootfs/etc/hostname"
  : >"$rootfs/etc/resolv.conf"

  tar --numeric-owner -C "$rootfs" -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
  echo "base: rootfs cached in $tarball ($(( $(date +%s) - started )) s)"
fi

podman import -q --change 'CMD ["bash"]' --message "debootstrap bookworm minbase (sandbox-executor container test)" \
  "$tarball" localhost/debian:bookworm-slim >/dev/null
podman tag localhost/debian:bookworm-slim "$image"
echo "base: imported $tarball as $image"
