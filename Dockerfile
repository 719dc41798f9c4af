# syntax=docker/dockerfile:1
# afk's container image: docs/deploy.md ("Container image") says how to run it.
#
# bubblewrap needs, inside a container, what a default Docker or Kubernetes profile takes away:
#   --security-opt seccomp=unconfined     the default seccomp profile refuses unshare/clone with new
#                                         user namespaces to a process without CAP_SYS_ADMIN
#   --security-opt apparmor=unconfined    the docker-default AppArmor profile refuses mount(), which
#                                         bubblewrap uses to build the sandbox's filesystem
#   --security-opt systempaths=unconfined Docker masks parts of /proc (kcore, keys, timer_list...);
#                                         the kernel then refuses the fresh /proc a sandbox with its
#                                         own pid namespace mounts ("Can't mount proc ... Operation
#                                         not permitted", dmesg: "VFS: Mount too revealing")
#   --device /dev/net/tun                 slirp4netns makes the network of a network-on command
#                                         (setup, network: true) with a tun device
# and the host kernel must allow unprivileged user namespaces (Ubuntu 24.04+:
# kernel.apparmor_restrict_unprivileged_userns=0). These widen what the container may ask of the
# kernel, not what it may reach: the process still runs as an unprivileged user with no
# capabilities, and the agent's commands run in bubblewrap inside it. Never use --privileged.
# Instead of those flags, a runtime that gives each container its own user namespace with a
# procfs of its own (Sysbox, or rootless Podman with --security-opt unmask=ALL) works too.
# `docker exec <container> afk doctor` says whether the sandbox works in the running container.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: dev dependencies and the TypeScript compiler, nothing of it reaches the runtime image.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies, the compiled App, its prompts, and the system packages.
FROM ${NODE_IMAGE} AS runtime
# The same script .ci/run runs, so CI exercises this step on every run.
COPY scripts/install-system-packages.sh /usr/local/lib/afk/install-system-packages.sh
RUN bash /usr/local/lib/afk/install-system-packages.sh --clean

# A dedicated user with no password and no capabilities; it owns only the cache volume.
RUN useradd --system --create-home --home-dir /home/afk --uid 10001 --user-group --shell /usr/sbin/nologin afk \
  && mkdir -p /var/cache/afk && chown afk:afk /var/cache/afk

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# prompts/ is read at run time (dist/executor/render-prompt.js → ../../prompts); app.yml is the
# App's manifest, read by Probot from the working directory.
COPY prompts ./prompts
COPY app.yml ./
# `afk doctor` and `afk run` inside the container.
RUN printf '#!/bin/sh\nexec node /app/dist/cli/afk.js "$@"\n' > /usr/local/bin/afk && chmod 0755 /usr/local/bin/afk

# NODE_ENV=production: Probot refuses to start its setup flow without APP_ID and a private key
# (register the App first: docs/deploy.md). LOG_FORMAT=json: one JSON object per line (Probot
# logs "pretty" unless told, even in production). HOST=0.0.0.0: Probot listens on localhost
# otherwise, which nothing outside the container can reach.
ENV NODE_ENV=production \
    LOG_FORMAT=json \
    HOST=0.0.0.0 \
    PORT=3000 \
    AFK_CACHE_DIR=/var/cache/afk
# Repository mirrors, package caches and each run's worktree; keep it across restarts (it is a cache:
# deleting it while no run is active only costs the next run a fresh clone).
VOLUME ["/var/cache/afk"]
EXPOSE 3000
USER afk

# afk's /healthz answers while the process serves HTTP. (/readyz also checks GitHub, the model and
# the cache directory: a health check on it would restart afk whenever GitHub is unreachable.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 3000}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# What `npm start` runs once it has built (the build happened in the build stage).
CMD ["node", "dist/main.js"]
