# syntax=docker/dockerfile:1
# One image, two commands: the worker (default) and the API (`node --import tsx api/main.ts`).
# glibc base: Temporal's native core (the Rust SDK core) does not support Alpine/musl.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Not `npm ci`: the lock leaves out other platforms' optional binaries (see scripts/ensure-deps.cjs).
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim AS bundle
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# The workflow bundle is built once here; workers load it instead of running webpack at start.
RUN node --import tsx scripts/bundle-workflows.ts /app/dist/workflow-bundle.js

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js \
    TSX_TSCONFIG_PATH=/app/tsconfig.json
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json tsconfig.json ./
COPY --chown=node:node common ./common
COPY --chown=node:node entities ./entities
COPY --chown=node:node events ./events
COPY --chown=node:node activities ./activities
COPY --chown=node:node workflows ./workflows
COPY --chown=node:node worker ./worker
COPY --chown=node:node api ./api
COPY --from=bundle --chown=node:node /app/dist ./dist
USER node
# API 8000, worker health 8081, worker metrics 9464.
EXPOSE 8000 8081 9464
# Node is PID 1 and handles SIGTERM itself (api/main.ts, worker/main.ts): exec form, no shell in between.
CMD ["node", "--import", "tsx", "worker/main.ts"]
