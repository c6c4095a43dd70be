# syntax=docker/dockerfile:1
# One image, three commands: the worker (default), the notifications app (`node dist/notifications/main.js`) and the
# API (`node dist/api/main.js`).
# Node 24 LTS on glibc: Temporal's native core (the Rust SDK core) does not support Alpine/musl.
# The service runs as compiled JavaScript under plain `node`: no tsx, no TypeScript at run time.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Exactly the locked versions (the lock holds every platform's binaries; see scripts/ensure-deps.cjs).
RUN npm ci --no-audit --no-fund
COPY . .
# The runtime code to dist/ (tsconfig.build.json), and the workflow bundle once, so workers load it instead
# of running webpack at start and every replica runs the same workflow code; and the web page the API serves.
RUN npx tsc -p tsconfig.build.json && npx tsx scripts/bundle-workflows.ts /app/dist/workflow-bundle.js /app/dist/notifications-bundle.js \
 && npx tsx scripts/build-web.ts /app/dist/web/dist

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js \
    NOTIFICATIONS_WORKFLOW_BUNDLE_PATH=/app/dist/notifications-bundle.js
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json ./
COPY --from=build --chown=node:node /app/dist ./dist
USER node
# API 8000, worker health 8081, worker metrics 9464.
EXPOSE 8000 8081 9464
# Node is PID 1 and handles SIGTERM itself (api/main.ts, worker/main.ts): exec form, no shell in between.
CMD ["node", "--enable-source-maps", "dist/worker/main.js"]
