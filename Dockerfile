# Escalator: escalator serve on port 3000, SQLite on the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/escalator.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
# The message catalogs are compiled into the package (the bot would compile them at start).
RUN pip install "Babel>=2.14,<3" \
    && pybabel compile --domain messages --directory bot/slack/locale --statistics \
    && pip install . \
    && useradd --system --uid 10001 --home-dir /data escalator \
    && mkdir -p /data && chown escalator /data

USER escalator
VOLUME ["/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["escalator"]
CMD ["serve", "--host", "0.0.0.0", "--port", "3000"]
