# Signet agent and CLI on Node.js 20, run as the unprivileged `node` user.
#   docker build -t signet .
#   docker run --rm signet operator keygen
# docker-compose.yml runs a cluster from this image; docs/containers.md describes both.

FROM node:20-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
# Scripts are skipped because the `prepare` script would compile before the sources are copied.
# The native modules (classic-level, msgpackr-extract) ship prebuilt binaries and need no script.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/signet
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /build/dist/src ./dist/src
# `signet` on the PATH, for `docker exec CONTAINER signet ...`. The data folder belongs to `node`
# with mode 0700, because the Raft log in it holds every token secret. A named volume mounted on
# it starts with that owner and mode.
RUN ln -s /opt/signet/dist/src/cli/main.js /usr/local/bin/signet \
  && mkdir -p /opt/signet/data \
  && chown node:node /opt/signet/data \
  && chmod 700 /opt/signet/data
USER node
VOLUME ["/opt/signet/data"]
# HTTP API and server RPC (clients dial the servers on 4647 too).
EXPOSE 4646 4647
ENTRYPOINT ["node", "/opt/signet/dist/src/cli/main.js"]
CMD ["--help"]
