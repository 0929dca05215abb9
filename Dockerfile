# Build: docker build -t tradesphere .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY migrations ./migrations
COPY src ./src
COPY config ./config
COPY tests ./tests
COPY benches ./benches
RUN cargo build --release --locked --bin tradesphere

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /data tradesphere \
 && mkdir -p /data && chown tradesphere /data
COPY --from=build /src/target/release/tradesphere /usr/local/bin/tradesphere
USER tradesphere
WORKDIR /data
ENV DATABASE_URL="sqlite:///data/tradesphere.db?mode=rwc" \
    TRADESPHERE_LISTEN="0.0.0.0:8080" \
    TRADESPHERE_LOG_FORMAT="json"
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["tradesphere"]
CMD ["serve"]
