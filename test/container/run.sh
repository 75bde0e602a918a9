#!/usr/bin/env bash
# Container test: builds the image and runs it the way production does, with rootful podman.
#
#   sudo npm run test:container          (or: bash test/container/run.sh)
#
# Installs what it needs (podman, runc, debootstrap, podman-compose, Docker's default seccomp
# profile), builds the Debian base locally (no registry is needed), builds the image, then checks
# the hardened run (--cap-drop ALL, no-new-privileges, uid 1000, deploy/seccomp/executor.json,
# unmasked /proc) against a stand-in control plane, the control plane's forced command, SIGTERM,
# a pod shaped like deploy/k8s, the Compose file, and the failures the docs promise (masked /proc,
# Docker's default profile, a profile missing any syscall we add).
#
#   CONTAINER_TEST_OPTIONAL=1  a machine that cannot run podman skips (exit 0) instead of failing
#   CONTAINER_TEST_CACHE       base rootfs, podman config, logs (default /var/cache/sandbox-executor)
#   CONTAINER_TEST_IMAGE       tag to build (default localhost/sandbox-executor:container-test)
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
image=${CONTAINER_TEST_IMAGE:-localhost/sandbox-executor:container-test}
profile="$repo/deploy/seccomp/executor.json"
docker_default=/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json
token=container-test-token
run_id="ctest-$$"
cp_name="$run_id-cp"
exec_name="$run_id-executor"
forced_name="$run_id-forced"

banner() { printf '\n%s\n%s\n%s\n\n' "========================================================================" "$1" "========================================================================"; }

skip_or_fail() {
  if [ "${CONTAINER_TEST_OPTIONAL:-0}" = 1 ]; then
    banner "CONTAINER TEST SKIPPED: $1 (CONTAINER_TEST_OPTIONAL=1)"
    exit 0
  fi
  banner "CONTAINER TEST FAILED: $1 (set CONTAINER_TEST_OPTIONAL=1 to skip on such machines)"
  exit 1
}

# --- prerequisites -------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || skip_or_fail "must run as root (rootful podman, apt-get, debootstrap)"
command -v node >/dev/null || skip_or_fail "node is needed on the host for the HTTP checks"
command -v dpkg >/dev/null && command -v apt-get >/dev/null || skip_or_fail "not a Debian-based host (needs apt-get)"

packages=(podman runc debootstrap golang-github-docker-docker-dev netavark aardvark-dns iptables podman-compose)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    >/tmp/sandbox-executor-container-apt.log 2>&1 \
    || { tail -n 20 /tmp/sandbox-executor-container-apt.log; skip_or_fail "could not install ${missing[*]}"; }
fi

# shellcheck source=podman-env.sh
. "$here/podman-env.sh"
logs="$CONTAINER_TEST_CACHE/logs/$run_id"
mkdir -p "$logs"
# Keep the logs of the last five runs.
ls -1dt "$CONTAINER_TEST_CACHE"/logs/ctest-* 2>/dev/null | tail -n +6 | xargs -r rm -rf
podman info >"$logs/podman-info.txt" 2>&1 || skip_or_fail "podman does not work here (see $logs/podman-info.txt)"
bash "$here/base-image.sh" || skip_or_fail "no base image (debootstrap failed)"
podman run --rm docker.io/library/debian:bookworm-slim true >"$logs/podman-smoke.txt" 2>&1 \
  || { cat "$logs/podman-smoke.txt"; skip_or_fail "podman cannot run a container on this machine"; }

# --- bookkeeping ---------------------------------------------------------------------------
names=() outcomes=() details=()
record() { # record NAME pass|fail DETAIL
  names+=("$1") outcomes+=("$2") details+=("$3")
  printf '%s  %-34s %s\n' "$([ "$2" = pass ] && echo PASS || echo FAIL)" "$1" "$3"
}
check() { # check NAME COMMAND...: the command's last output line is the detail
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then record "$name" pass "$(tail -n 1 <<<"$out")"; return 0; fi
  record "$name" fail "$(tail -n 3 <<<"$out" | tr '\n' ' ')"
  return 1
}
summary() {
  local passed=0 failed=0 i
  banner "container test summary ($logs)"
  for i in "${!names[@]}"; do
    printf '%s  %-34s %s\n' "$([ "${outcomes[$i]}" = pass ] && echo PASS || echo FAIL)" "${names[$i]}" "${details[$i]}"
    if [ "${outcomes[$i]}" = pass ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  done
  echo
  echo "container: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
cleanup() {
  podman rm -f --ignore -t 0 "$exec_name" "$forced_name" "$run_id-cp-docker" "$cp_name" "$run_id-refuse" "$run_id-pod" >/dev/null 2>&1 || true
  compose down >/dev/null 2>&1 || true
  podman network rm -f "${run_id}_sandbox" >/dev/null 2>&1 || true
  [ -n "${volumes_dir:-}" ] && rm -rf "$volumes_dir"
  return 0
}
trap cleanup EXIT

free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
now_ms() { date +%s%3N; }
checks() { node "$here/checks.mjs" "$@"; }
hardened=(--cap-drop ALL --security-opt no-new-privileges --security-opt "seccomp=$profile" --security-opt unmask=ALL)

# --- image ---------------------------------------------------------------------------------
check "seccomp profile up to date" python3 "$repo/deploy/seccomp/generate.py" --check --default "$docker_default"

# docker format: OCI images drop HEALTHCHECK. The label lets us prune our own superseded images.
build_label=org.sandbox-executor.container-test=1
build_args=(--pull=never --format docker --layers --label "$build_label" -t "$image" -f "$repo/Dockerfile")
# The registry this host's npm uses: no registry host is written in the Dockerfile.
build_args+=(--build-arg "NPM_REGISTRY=$(npm config get registry)")
# A TLS-intercepting proxy's CA reaches the downloads as a build secret, never a layer.
[ -s /etc/ssl/certs/ca-certificates.crt ] && build_args+=(--secret "id=build_ca,src=/etc/ssl/certs/ca-certificates.crt")
started=$(now_ms)
if podman build "${build_args[@]}" "$repo" >"$logs/build.log" 2>&1; then
  record "image build" pass "$(( ($(now_ms) - started) / 1000 )) s (log: $logs/build.log)"
  podman image prune -f --filter "label=$build_label" >/dev/null 2>&1
else
  tail -n 30 "$logs/build.log"
  record "image build" fail "see $logs/build.log"
  summary
  exit 1
fi

size_bytes=$(podman image inspect "$image" --format '{{.Size}}')
size_mb=$((size_bytes / 1000000))
breakdown=$(podman run --rm --user 0 --entrypoint '' "$image" sh -c \
  'du -xsm /usr/local/bin/node /usr/lib/python3* /usr/lib/x86_64-linux-gnu /app/node_modules /usr/bin /usr/share /var/lib/dpkg /app/dist 2>/dev/null | sort -rn | head -n 6' \
  2>/dev/null | awk '{printf "%s%s %s MB", sep, $2, $1; sep=", "}')
if [ "$size_mb" -lt 400 ]; then record "image size < 400 MB" pass "$size_mb MB; largest: $breakdown"
else record "image size < 400 MB" fail "$size_mb MB; largest: $breakdown"; fi
# the control plane's start script mounts the session's bucket with s3fs before it runs us
check "s3fs for the control plane" podman run --rm --entrypoint '' "$image" s3fs --version

# --- hardened run against a stand-in control plane -----------------------------------------
# The executor joins the stand-in's network namespace, so the control plane is on loopback.
port=$(free_port) cp_port=$(free_port)
base="http://127.0.0.1:$port" cp="http://127.0.0.1:$cp_port"
podman run -d --name "$cp_name" --no-healthcheck "${hardened[@]}" --user 1000:1000 \
  -p "127.0.0.1:$port:8080" -p "127.0.0.1:$cp_port:9000" \
  -v "$here/fake-control-plane.mjs:/opt/fake-control-plane.mjs:ro" \
  --entrypoint '' "$image" node /opt/fake-control-plane.mjs >"$logs/cp-run.txt" 2>&1 \
  || { cat "$logs/cp-run.txt"; record "stand-in control plane" fail "could not start"; summary; exit 1; }

# LOG_FILE in a mounted directory; WORKSPACE_RETENTION_HOURS of about 4 s (swept every second)
log_dir="$logs/executor-log-dir"
install -d -o 1000 -g 1000 "$log_dir"
started=$(now_ms)
podman run -d --name "$exec_name" --hostname "$exec_name" --network "container:$cp_name" \
  "${hardened[@]}" --user 1000:1000 -v "$log_dir:/var/log/executor" \
  -e LOG_FILE=/var/log/executor/executor.log -e WORKSPACE_RETENTION_HOURS=0.001 \
  -e CONTROL_PLANE_URL=http://127.0.0.1:9000 -e INTERNAL_API_TOKEN="$token" -e LOG_LEVEL=info \
  "$image" >"$logs/executor-run.txt" 2>&1 || cat "$logs/executor-run.txt"
if ! check "time to healthy" checks wait-healthy "$base" 60 "$started"; then
  podman logs --tail 30 "$exec_name" 2>&1 | sed 's/^/  executor: /'
fi
check "GET /health" checks health "$base"
check "containers/ready event" checks cp-event "$cp" ready "container_id=$exec_name" executor_port=8080
for language in python javascript shell; do
  check "execute $language (?wait=true)" checks execute "$base" "$language"
done
check "control-plane flow (ack+callback)" checks callback "$base" "$cp" "$token"
healthcheck() { podman healthcheck run "$exec_name" && echo "the image's HEALTHCHECK command reports healthy"; }
check "HEALTHCHECK (healthcheck cmd)" healthcheck
# The deployment guide's own commands, inside the container: curl -f, /info for jq, an interactive shell.
curl_health() { podman exec "$exec_name" curl -fsS http://localhost:8080/health && echo && echo "curl -f inside the container: healthy"; }
check "curl -f /health inside" curl_health
curl_info() { podman exec "$exec_name" curl -fsS http://localhost:8080/info | checks info-active; }
check "curl /info: active_executions" curl_info
# The image's memory settings (Dockerfile ENV, docs/deployment.md "9. Configuration") reach the
# server: its young generation is the 2 MiB of --max-semi-space-size=1 (a default server holds
# 5+ MiB there once it has served anything), and malloc keeps one arena. As uid 1000: the forced
# command's exec is root without capabilities, which may not read uid 1000's environ.
server_memory() {
  podman exec --user 1000 "$1" sh -c 'new=$(curl -fsS http://localhost:8080/metrics | sed -n "s/^nodejs_heap_space_size_total_bytes{space=\"new\"} //p")
    for s in /proc/[0-9]*/cmdline; do
      if tr "\0" " " <"$s" 2>/dev/null | grep -q "main.js serv[e]"; then
        arenas=$(tr "\0" "\n" <"${s%/cmdline}/environ" | sed -n "s/^MALLOC_ARENA_MAX=//p"); break; fi; done
    echo "young generation $new bytes, MALLOC_ARENA_MAX=$arenas"
    [ -n "$new" ] && [ "$new" -le 2097152 ] && [ "$arenas" = 1 ]'
}
check "server memory settings" server_memory "$exec_name"
exec_bash() { podman exec "$exec_name" /bin/bash -c 'echo "bash $BASH_VERSION as uid $(id -u)"'; }
check "exec /bin/bash" exec_bash
podman exec "$exec_name" node /app/dist/src/cli/main.js probe >"$logs/probe.json" 2>"$logs/probe.err"
check "probe selects native" checks probe-native <"$logs/probe.json"
retention() { # an idle session's workspace is gone within 30 s, a busy one is kept meanwhile
  checks execute-in "$base" ctest-idle 'echo x > /workspace/f' || return 1
  podman exec "$exec_name" test -f /workspace/ctest-idle/f || { echo "no workspace written"; return 1; }
  for _ in $(seq 60); do
    podman exec "$exec_name" test -e /workspace/ctest-idle || { echo "idle workspace removed by WORKSPACE_RETENTION_HOURS"; return 0; }
    sleep 0.5
  done
  echo "/workspace/ctest-idle still there after 30 s"; return 1
}
check "retention removes idle workspace" retention

# SIGTERM while an execution runs: it finishes within SHUTDOWN_GRACE_SECONDS, its result is
# delivered, then the exited event, then exit 0.
drain_id="ctest-drain-$(now_ms)"
check "submit, then SIGTERM at once" checks submit "$base" "$drain_id" 'sleep 2; echo drained'
started=$(now_ms)
podman stop -t 30 "$exec_name" >/dev/null 2>&1
stopped_ms=$(( $(now_ms) - started ))
exit_code=$(podman inspect "$exec_name" --format '{{.State.ExitCode}}' 2>/dev/null)
if [ "$exit_code" = 0 ]; then record "SIGTERM stop exits 0" pass "exit 0 after $stopped_ms ms (a 2 s execution was running)"
else record "SIGTERM stop exits 0" fail "exit code $exit_code after $stopped_ms ms"; fi
check "SIGTERM drains the execution" checks delivered "$cp" "$drain_id" 'drained\n'
check "containers/exited event" checks cp-event "$cp" exited exit_reason=sigterm exit_code=0
podman logs "$exec_name" >"$logs/executor.log" 2>&1
log_file() { # the mounted directory holds the JSON log, from the first line to the last of the shutdown
  local f
  f=$(ls -1 "$log_dir"/executor.*.log 2>/dev/null | tail -n 1)
  [ -n "$f" ] || { echo "no executor.*.log in the mounted directory"; return 1; }
  grep -q '"msg":"executor listening"' "$f" || { echo "$f lacks the start-up line"; return 1; }
  tail -n 1 "$f" | grep -q '"msg":"stopped"' || { echo "$f does not end with the shutdown's last line"; return 1; }
  echo "$(basename "$f"): $(wc -l <"$f") lines, ends with \"stopped\""
}
check "LOG_FILE in the mounted directory" log_file
podman rm -f --ignore -t 0 "$exec_name" "$cp_name" >/dev/null 2>&1

# --- the control plane's forced command (CONTRACT.md section 7) -----------------------------
# Run by root with the least it needs: SETUID/SETGID for gosu, KILL for tini (root forwarding
# SIGTERM to a uid-1000 process). Node itself ends up with no capability at all.
port=$(free_port)
base="http://127.0.0.1:$port"
started=$(now_ms)
podman run -d --name "$forced_name" --user 0 --cap-drop ALL --cap-add SETUID --cap-add SETGID --cap-add KILL \
  --security-opt no-new-privileges --security-opt "seccomp=$profile" --security-opt unmask=ALL \
  -e DISABLE_BWRAP=true -p "127.0.0.1:$port:8080" \
  "$image" sh -c 'cd /app && exec gosu sandbox python -m executor.interfaces.http.rest' >"$logs/forced-run.txt" 2>&1 \
  || cat "$logs/forced-run.txt"
if ! check "forced command: healthy" checks wait-healthy "$base" 60 "$started"; then
  podman logs --tail 30 "$forced_name" 2>&1 | sed 's/^/  forced: /'
fi
server_identity() {
  # The server is the process whose command line is `node .../main.js serve`.
  podman exec "$forced_name" sh -c 'for s in /proc/[0-9]*/cmdline; do
      if tr "\0" " " <"$s" 2>/dev/null | grep -q "main.js serv[e]"; then
        d=${s%/cmdline}; grep -E "^(Uid|CapEff):" "$d/status" | tr -s "\t" " " | tr "\n" " "; exit 0; fi; done; exit 1' \
    | grep -E 'Uid: 1000 1000 1000 1000 CapEff: 0000000000000000'
}
check "forced command: uid 1000, no caps" server_identity
check "forced command: execute shell" checks execute "$base" shell
check "forced command: memory settings" server_memory "$forced_name"
podman stop -t 30 "$forced_name" >/dev/null 2>&1
exit_code=$(podman inspect "$forced_name" --format '{{.State.ExitCode}}' 2>/dev/null)
if [ "$exit_code" = 0 ]; then record "forced command: SIGTERM exits 0" pass "exit 0"
else record "forced command: SIGTERM exits 0" fail "exit code $exit_code"; fi
podman logs "$forced_name" >"$logs/forced.log" 2>&1
podman rm -f --ignore -t 0 "$forced_name" >/dev/null 2>&1

# --- the control plane's Docker start of an S3 session --------------------------------------
# As its scheduler makes it: root, CAP_SYS_ADMIN added (for s3fs), /proc masked (no
# systempaths=unconfined), no seccomp option (so the daemon's default profile), its `sh -c`
# script ending in `exec gosu sandbox bash -c '... exec python -m executor.interfaces.http.rest'`
# (no bucket here: the script stops short of s3fs). The image's gosu mounts a whole procfs first
# (executor/gosu-with-visible-proc.sh); the daemon's default profile must be ours (Docker's refuses
# pivot_root): docs/deployment.md, section 4.
cp_docker_name="$run_id-cp-docker"
cp_docker() { # cp_docker SECCOMP_PROFILE GOSU [extra podman-run options...]: starts it detached on $port
  local seccomp=$1 gosu=$2
  shift 2
  podman run -d --name "$cp_docker_name" --user root --cap-add SYS_ADMIN --security-opt "seccomp=$seccomp" "$@" \
    -e DISABLE_BWRAP=false -e SESSION_ID=sess_docker -e CONTROL_PLANE_URL=None -p "127.0.0.1:$port:8080" \
    --entrypoint /bin/sh "$image" -c \
    "cd /app && export PYTHONPATH=/app:/workspace && exec $gosu sandbox bash -c 'export PYTHONPATH=\$PYTHONPATH; exec python -m executor.interfaces.http.rest'"
}
cp_docker_refuses() { # cp_docker_refuses EXPECTED_TEXT SECCOMP_PROFILE GOSU: it exits non-zero naming EXPECTED_TEXT
  local expected=$1 code
  shift
  cp_docker "$@" >/dev/null 2>&1
  code=$(timeout 60 podman wait "$cp_docker_name" 2>/dev/null)
  podman logs "$cp_docker_name" >"$logs/cp-docker-refused.log" 2>&1
  podman rm -f --ignore -t 0 "$cp_docker_name" >/dev/null 2>&1
  if [ -n "$code" ] && [ "$code" != 0 ] && grep -qF -- "$expected" "$logs/cp-docker-refused.log"; then
    echo "refused to start (exit $code), names: $expected"
    return 0
  fi
  echo "exit ${code:-none}; output: $(grep -v systemd "$logs/cp-docker-refused.log" | tail -n 3 | tr '\n' ' ')"
  return 1
}
port=$(free_port)
base="http://127.0.0.1:$port"
started=$(now_ms)
cp_docker "$profile" gosu >"$logs/cp-docker-run.txt" 2>&1 || cat "$logs/cp-docker-run.txt"
if ! check "control plane's Docker start: healthy" checks wait-healthy "$base" 60 "$started"; then
  podman logs --tail 30 "$cp_docker_name" 2>&1 | sed 's/^/  cp-docker: /'
fi
check "control plane's Docker start: execute" checks execute-in "$base" sess_docker 'test "$(id -u)" != 0 && echo ran'
podman logs "$cp_docker_name" >"$logs/cp-docker.log" 2>&1
podman rm -f --ignore -t 0 "$cp_docker_name" >/dev/null 2>&1
# What each half is for: the real gosu alone leaves /proc masked; Docker's own profile refuses pivot_root.
check "... without the image's gosu: refuses" cp_docker_refuses "systempaths=unconfined" "$profile" /usr/sbin/gosu
check "... Docker's default seccomp: refuses" cp_docker_refuses "deploy/seccomp/executor.json" "$docker_default" gosu

# --- deploy/k8s: what the Deployment asks for, reproduced with podman -----------------------
# hostUsers: false -> a user namespace of its own; readOnlyRootFilesystem -> --read-only;
# emptyDir volumes (root-owned, world-writable) -> host directories; procMount: Unmasked.
k8s_pod() {
  local port code
  volumes_dir=$(mktemp -d /var/tmp/sandbox-executor-ctest.XXXXXX)
  mkdir "$volumes_dir"/{workspace,state,dependencies,tmp}
  chmod 0777 "$volumes_dir"/* && chmod 1777 "$volumes_dir/tmp"
  port=$(free_port)
  podman run -d --name "$run_id-pod" --uidmap 0:300000:65536 --gidmap 0:300000:65536 \
    --read-only --read-only-tmpfs=false "${hardened[@]}" --user 1000:1000 -p "127.0.0.1:$port:8080" \
    -v "$volumes_dir/workspace:/workspace" -v "$volumes_dir/state:/var/lib/sandbox-executor" \
    -v "$volumes_dir/dependencies:/opt/sandbox-venv" -v "$volumes_dir/tmp:/tmp" \
    -e STATE_PATH=/var/lib/sandbox-executor/state "$image" >/dev/null 2>&1
  checks wait-healthy "http://127.0.0.1:$port" 60 "$(now_ms)" && checks execute "http://127.0.0.1:$port" python
  code=$?
  [ "$code" -eq 0 ] || podman logs --tail 5 "$run_id-pod" 2>&1 | grep -v systemd
  podman rm -f --ignore -t 0 "$run_id-pod" >/dev/null 2>&1
  rm -rf "$volumes_dir"
  return "$code"
}
check "k8s-like pod (userns, ro root)" k8s_pod

# --- one executor per session, as the control plane starts it (docs/deployment.md section 4) ---
# SESSION_ID and an s3:// WORKSPACE_PATH: the workspace volume IS the session's storage, so a
# file the control plane put in input/ is read by a handler and what it writes lands at the root.
single_session() {
  local port code volume
  volume=$(mktemp -d /var/tmp/sandbox-executor-ctest-session.XXXXXX)
  mkdir "$volume/input" && echo "from the control plane" >"$volume/input/hello.txt"
  chmod 0777 "$volume" && chmod 0755 "$volume/input" && chmod 0644 "$volume/input/hello.txt"
  port=$(free_port)
  podman run -d --name "$run_id-session" "${hardened[@]}" --user 1000:1000 -p "127.0.0.1:$port:8080" \
    -v "$volume:/workspace" -e SESSION_ID=ctest-session -e WORKSPACE_PATH=s3://bucket/sessions/ctest-session \
    "$image" >/dev/null 2>&1
  checks wait-healthy "http://127.0.0.1:$port" 60 "$(now_ms)" >/dev/null \
    && checks session-file "http://127.0.0.1:$port" ctest-session \
    && { [ "$(cat "$volume/output/result.txt" 2>/dev/null)" = "FROM THE CONTROL PLANE" ] \
      || { echo "output/result.txt not at the volume root: $(cd "$volume" && find . | head -n 10 | tr '\n' ' ')"; false; }; } \
    && echo "input/ read and output/result.txt written at the volume's root; another session is 409"
  code=$?
  [ "$code" -eq 0 ] || podman logs --tail 5 "$run_id-session" 2>&1 | grep -v systemd
  podman rm -f --ignore -t 0 "$run_id-session" >/dev/null 2>&1
  rm -rf "$volume"
  return "$code"
}
check "single session (SESSION_ID, workspace volume)" single_session

# --- deploy/compose, run by podman-compose (Docker Compose's file, podman as the engine) ---------
# Debian's podman-compose (1.0.3) ignores --scale, and merging a replicas override breaks its
# healthcheck parsing: scaling is checked on the file itself (test/deploy/compose.test.ts).
compose() {
  INTERNAL_API_TOKEN="$token" EXECUTOR_IMAGE="$image" \
    podman-compose -p "$run_id" -f "$repo/deploy/compose/docker-compose.yml" "$@" </dev/null
}
compose_up() {
  local address
  compose up -d executor >"$logs/compose-up.log" 2>&1 || { tail -n 5 "$logs/compose-up.log"; return 1; }
  address=$(podman port "${run_id}_executor_1" 8080 | head -n 1)
  checks wait-healthy "http://$address" 60 "$(now_ms)" && checks execute "http://$address" shell
}
check "compose file: executor serves" compose_up
compose down -v >"$logs/compose-down.log" 2>&1
podman network rm -f "${run_id}_sandbox" >/dev/null 2>&1

# --- what the docs promise when the container is not configured right ----------------------
refuses() { # refuses EXPECTED_TEXT podman-run-options...: serve exits non-zero and says EXPECTED_TEXT
  local expected=$1 out code
  shift
  out=$(timeout 60 podman run --rm --name "$run_id-refuse" --user 1000:1000 "$@" "$image" 2>&1)
  code=$?
  podman rm -f --ignore -t 0 "$run_id-refuse" >/dev/null 2>&1
  if [ "$code" -ne 0 ] && grep -qF -- "$expected" <<<"$out"; then
    echo "refused to start (exit $code), names: $expected"
    return 0
  fi
  echo "exit $code; output: $(grep -v systemd <<<"$out" | tail -n 3 | tr '\n' ' ')"
  return 1
}
check "masked /proc: refuses to start" refuses "systempaths=unconfined" \
  --cap-drop ALL --security-opt no-new-privileges --security-opt "seccomp=$profile"
check "Docker default seccomp: refuses" refuses "deploy/seccomp/executor.json" \
  --cap-drop ALL --security-opt no-new-privileges --security-opt "seccomp=$docker_default" --security-opt unmask=ALL

# Each syscall the profile adds is needed: without it, a backend fails (or, for setns, the native
# backend no longer joins network namespaces made ahead: prepared_networks false).
minimal() {
  local name dir failed_for=()
  dir=$(mktemp -d)
  for name in $(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["syscalls"][-1]["names"]))' "$profile"); do
    python3 - "$profile" "$name" "$dir/without-$name.json" <<'EOF'
import json, sys
profile = json.load(open(sys.argv[1]))
profile["syscalls"][-1]["names"].remove(sys.argv[2])
json.dump(profile, open(sys.argv[3], "w"))
EOF
    # probe exits 1 when no backend works: the JSON is what counts here.
    podman run --rm --user 1000:1000 --cap-drop ALL --security-opt no-new-privileges \
      --security-opt "seccomp=$dir/without-$name.json" --security-opt unmask=ALL \
      "$image" node /app/dist/src/cli/main.js probe >"$dir/probe.json" 2>/dev/null
    node -e 'let t="";process.stdin.on("data",c=>t+=c).on("end",()=>{const p=JSON.parse(t);const b=(p.backends||[]).filter(x=>!x.available).map(x=>x.backend);if((p.backends||[]).some(x=>x.backend==="native"&&x.available&&x.prepared_networks===false))b.push("native-prepared-networks");console.log(b.join("+"));process.exit(b.length?0:1)})' \
      <"$dir/probe.json" >"$dir/out" 2>&1 || { echo "without $name no backend failed ($(tail -n 1 "$dir/out")): not needed?"; rm -rf "$dir"; return 1; }
    failed_for+=("$name:$(cat "$dir/out")")
  done
  rm -rf "$dir"
  echo "each added syscall is needed (breaks without it) ${failed_for[*]}"
}
check "seccomp additions all needed" minimal

summary
