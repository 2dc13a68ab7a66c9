# memberflow's worker image: the compiled build on Node.js 20 slim, production dependencies only,
# run as the unprivileged `node` user. One image for every worker; the command picks the worker:
#   docker build -t memberflow .
#   docker run --env-file prod.env -p 9464:9464 memberflow run points-accrual
# test/integration/container-files.test.ts runs these install and start steps in a fresh directory.

# ---- build: compile TypeScript to dist/ (dev dependencies: the compiler)
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/ ./scripts/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY shared/ ./shared/
COPY services/ ./services/
COPY cli/ ./cli/
COPY schemas/ ./schemas/
COPY config/ ./config/
COPY stack/ ./stack/
COPY data/online-retail/ ./data/online-retail/
COPY data/demo/ ./data/demo/
RUN npm run build

# ---- runtime: production dependencies and the compiled build, nothing else
FROM node:20-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/patch-kafkajs.mjs ./scripts/
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin/ ./bin/
COPY --from=build /app/dist/ ./dist/
USER node
# The operations port: /metrics, /healthz, /readyz (docs/OPERATIONS.md).
ENV MEMBERFLOW_METRICS_PORT=9464
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s CMD ["node", "-e", "fetch('http://127.0.0.1:9464/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/memberflow.js"]
CMD ["run", "all"]
