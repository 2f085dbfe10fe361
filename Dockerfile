# Escalator: escalator serve on port 3000, SQLite on the /data volume by default, or
# PostgreSQL by DATABASE_URL (compose.yaml). EXTRAS are the pip extras built in:
# `postgres` (asyncpg, the default) or "" for an image that only runs on SQLite.
FROM python:3.11-slim

ARG EXTRAS=postgres

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    DATABASE_URL=sqlite+aiosqlite:////data/escalator.db

# Noto CJK: the month's review chart has Chinese labels.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
# The message catalogs are compiled into the package (the bot would compile them at start).
RUN pip install "Babel>=2.14,<3" \
    && pybabel compile --domain messages --directory bot/slack/locale --statistics \
    && pip install ".${EXTRAS:+[${EXTRAS}]}" \
    && useradd --system --uid 10001 --home-dir /data escalator \
    && mkdir -p /data && chown escalator /data

USER escalator
VOLUME ["/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["escalator"]
CMD ["serve", "--host", "0.0.0.0", "--port", "3000"]
