# syntax=docker/dockerfile:1
# The app from source on Node 22 LTS, Debian slim. Same commands and variables as `npm start`
# and the single binary (README: Configuration, Command line); backups go to /data/backups.
# Build: docker build -t zhicheng .
# Run:   docker run -p 3000:3000 -v zhicheng-data:/data zhicheng        (prints the setup link)
#        docker run --rm -v zhicheng-data:/data zhicheng node --import tsx src/cli.ts backup /data/manual.tar.gz

FROM node:22-bookworm-slim AS deps
WORKDIR /app
# better-sqlite3 compiles when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# npm ci runs `prepare` (scripts/compile.mjs); without esbuild (a production install) it does nothing.
COPY scripts/compile.mjs ./scripts/
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
# Chromium and a CJK font for the review-form PDF (print issue); everything else works without them.
RUN apt-get update && apt-get install -y --no-install-recommends chromium fonts-noto-cjk ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
COPY fixtures ./fixtures
COPY views ./views
COPY public ./public
COPY fonts ./fonts
RUN useradd --system --uid 10001 --home-dir /data zhicheng && mkdir -p /data && chown zhicheng /data
USER zhicheng
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/data CHROMIUM_PATH=/usr/bin/chromium
# Fails the build if a runtime dependency is missing from the production install.
RUN node --import tsx src/cli.ts --version
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--import", "tsx", "src/cli.ts", "serve"]
