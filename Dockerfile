# syntax=docker/dockerfile:1
# edge-relay container image. Build: docker build -t edge-relay:0.1.0 .
# Three stages on the official Node 24 image: production dependencies, TypeScript build, runtime.
# test/deploy/production-layout.test.ts rebuilds the runtime stage's file layout from this file and starts it.

ARG NODE_IMAGE=node:24-bookworm-slim

# Production dependencies only. No package of the production tree has an install script, so none runs.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Compile TypeScript. --ignore-scripts skips the `node` devDependency's download of a second Node
# binary: the image's own Node 24 runs the compiler.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
# npm, npx, corepack and yarn are not needed to run the relay; removing them leaves scanners less to report
# (it does not shrink the image: they live in the base layers).
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* \
 && mkdir -p /var/lib/edge-relay \
 && chown 1000:1000 /var/lib/edge-relay
WORKDIR /app
ENV NODE_ENV=production
# The commit the image is built from, for edge_relay_build_info: docker build --build-arg EDGE_RELAY_COMMIT=$(git rev-parse HEAD)
ARG EDGE_RELAY_COMMIT=unknown
ENV EDGE_RELAY_COMMIT=${EDGE_RELAY_COMMIT}
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY proto ./proto
COPY config ./config
# The persistent sending queue (exporter.sending_queue.storage) is the only path the relay writes to,
# so the root filesystem can be mounted read-only.
VOLUME /var/lib/edge-relay
# The `node` user of the official image, by number so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 4318 8888
# Node is PID 1 and needs no init: the relay handles SIGTERM and SIGINT itself (readiness off, drain,
# exit), and it starts no child processes (its shards are threads), so there are no zombies to reap.
# --v8-pool-size=0: as bin/edge-relay, see docs/architecture.md, "Threads and priorities".
ENTRYPOINT ["node", "--v8-pool-size=0", "/app/dist/cli.js"]
CMD ["--config", "/app/config/relay.yaml"]
