# clipflow worker: runs the generateClips workflow and its activities on a Temporal task queue.
# No build step: tsx runs the TypeScript sources directly (tsx is a runtime dependency), and
# ffmpeg/ffprobe come from the @ffmpeg-installer / @ffprobe-installer npm packages, so the image
# needs no system ffmpeg. Node.js 24 LTS, as in CI (.ci/run).
FROM node:24-bookworm-slim

ENV NODE_ENV=production \
    OUTPUT_DIR=/data/outputs \
    CLIPFLOW_DATA_DIR=/data/state

WORKDIR /app

# Dependencies first, so this layer is rebuilt only when the lockfile changes.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
    && npm cache clean --force

COPY tsconfig.json ./
COPY scripts/ ./scripts/
COPY src/ ./src/

# Run as the image's unprivileged `node` user (uid 1000). /data is created here and owned by it
# so that a named volume mounted on /data starts out writable.
RUN mkdir -p /data/outputs /data/state \
    && chown -R node:node /data
USER node

CMD ["npx", "tsx", "src/worker.ts"]
