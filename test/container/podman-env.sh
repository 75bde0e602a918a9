# Sourced by run.sh. Points podman at configuration files kept under the cache directory
# instead of /etc, so the host's own podman setup is left alone.
#   CONTAINER_TEST_CACHE  cache root (default /var/cache/sandbox-executor)

CONTAINER_TEST_CACHE=${CONTAINER_TEST_CACHE:-/var/cache/sandbox-executor}
PODMAN_CONF_DIR="$CONTAINER_TEST_CACHE/podman"
mkdir -p "$PODMAN_CONF_DIR"

# runc: crun refuses hybrid cgroup layouts ("cgroups in hybrid mode not supported").
# Explicit ulimits: podman's defaults ask for more than root's hard limits on such hosts
# ("setrlimit RLIMIT_NOFILE: Operation not permitted"); take the lower of ours and the host's.
host_nofile=$(ulimit -Hn)
host_nproc=$(ulimit -Hu)
clamp() { if [ "$2" = unlimited ] || [ "$1" -le "$2" ]; then echo "$1"; else echo "$2"; fi; }
nofile=$(clamp 20000 "$host_nofile")
nproc=$(clamp 32768 "$host_nproc")

cat >"$PODMAN_CONF_DIR/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"

# Debian's podman also ships a CNI config whose plugins are not installed; netavark is.
[network]
network_backend = "netavark"
EOF

cat >"$PODMAN_CONF_DIR/storage.conf" <<EOF
[storage]
driver = "overlay"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
EOF

export CONTAINERS_CONF="$PODMAN_CONF_DIR/containers.conf"
export CONTAINERS_STORAGE_CONF="$PODMAN_CONF_DIR/storage.conf"
unset clamp
