# Build: docker build -t tradesphere .
# Used by docker-compose.yml for both the service and the daily backup loop.

# ---- build stage: the release binary --------------------------------------------------------------------
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY migrations ./migrations
COPY src ./src
COPY config ./config
# Declared as [[test]] / [[bench]] targets in Cargo.toml, so cargo needs them present to read the manifest.
COPY tests ./tests
COPY benches ./benches
RUN cargo build --release --locked --bin tradesphere

# ---- runtime stage --------------------------------------------------------------------------------------
FROM debian:bookworm-slim
# ca-certificates: TLS to the Zalo and LLM APIs. postgresql-client: pg_dump/pg_restore for
# `tradesphere backup` / `tradesphere restore` (bookworm ships 15; keep it >= the server's major version, see
# the postgres image in docker-compose.yml). curl: the health check below.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tradesphere \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin tradesphere \
 && mkdir -p /app /data /backups \
 && chown tradesphere:tradesphere /data /backups
WORKDIR /app
# The defaults are compiled into the binary; this copy is for reading and for TRADESPHERE_CONFIG overrides.
COPY config ./config
COPY --from=build /src/target/release/tradesphere /usr/local/bin/tradesphere
# Numeric, so runtimes that enforce "run as non-root" can verify it.
USER 10001:10001
# /data holds the SQLite file when no DATABASE_URL is given; /backups is where the compose backup loop writes.
ENV DATABASE_URL="sqlite:///data/tradesphere.db?mode=rwc" \
    TRADESPHERE_LISTEN="0.0.0.0:8080" \
    TRADESPHERE_LOG_FORMAT="json"
EXPOSE 8080
VOLUME ["/data"]
# Ready = database answers, migrations applied, every actor runs (GET /readyz). Assumes the default port.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["tradesphere"]
CMD ["serve"]
