# syntax=docker/dockerfile:1
# teamcache: `docker compose up -d` (see docs/deployment.md) or
#   docker build -t teamcache . && docker run -e DATABASE_URL=... -e JWT_SECRET=... teamcache

# Node 24, the Active LTS line (supported until April 2028), pinned to a release: both stages use
# the same tag, so the code runs on the Node it was compiled and installed with.
# Build: compile TypeScript with the dev dependencies.
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: "prepare" would build before the sources are here.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
RUN npx tsc -p tsconfig.build.json

# Runtime: production dependencies and the compiled code only.
FROM node:24.21.0-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional drops the embedded PostgreSQL binaries (~60 MB): containers always use
# DATABASE_URL (without it, start-up fails with "set DATABASE_URL instead").
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
# Files the admin UI serves at run time.
COPY src/admin-ui/public ./src/admin-ui/public
# `teamcache` on PATH, for `docker compose exec app teamcache teams list`.
RUN ln -s /app/bin/teamcache.js /usr/local/bin/teamcache \
    && mkdir -p /data && chown node:node /data
# The image's own non-root user (uid 1000).
USER node
EXPOSE 3000
# On the public PORT, which always serves /healthz (ADMIN_PORT moves only the admin routes).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "require('http').get({host:'127.0.0.1',port:process.env.PORT||3000,path:'/healthz',timeout:2000},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]
# Exec form: node is PID 1 and gets SIGTERM itself (in-flight requests drain on shutdown).
CMD ["teamcache", "serve"]
