# One image for the whole app.
#   web (default):  python -m product_importer web   (migrates, then frontend + API on $PORT)
#   worker:         dramatiq product_importer.worker --processes 1 --threads 2
# Both need DATABASE_URL and REDIS_URL; see compose.yaml.

# Reflex builds its frontend with Node (>= 22) and bun.
FROM node:22-bookworm-slim AS node

FROM python:3.11-slim-bookworm

COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && useradd --create-home --uid 1000 app

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=3000

WORKDIR /app

COPY requirements.txt ./
RUN pip install -r requirements.txt

# bun from the npm registry, where rxconfig.py looks for it (Reflex would download it).
RUN npm install --prefix /app/.tools --no-audit --no-fund bun@1.4.4

COPY . .

# Install the frontend packages and build once, so a container start only re-bundles.
# Naming the registry skips Reflex's probe for a mirror.
RUN NPM_CONFIG_REGISTRY="$(npm config get registry)" reflex export --frontend-only --no-zip \
    && rm -rf .states \
    && chown -R app:app /app

USER app
EXPOSE 3000

HEALTHCHECK --interval=10s --timeout=5s --start-period=300s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/health', timeout=4)"

CMD ["python", "-m", "product_importer", "web"]
