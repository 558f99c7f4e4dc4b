# syntax=docker/dockerfile:1
# Builds the web app and the server, then runs `tradesage serve` as an unprivileged user.
# `docker compose up --build` uses it (docker-compose.yml); see OPERATIONS.md.

FROM node:20-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM rust:1-bookworm AS server
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY migrations ./migrations
COPY data/common-passwords.txt data/README.md ./data/
COPY benches ./benches
# The web app goes inside the binary (src/http/web.rs).
COPY --from=web /src/web/dist ./web/dist
# The registry and target caches survive between builds (BuildKit); the binary is copied out
# of the cached target folder, which is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin tradesage \
    && cp target/release/tradesage /usr/local/bin/tradesage

FROM debian:bookworm-slim
# A fixed uid, so that a volume's files keep their owner across image rebuilds. The data folder
# is made here, the user's and 0700: a named volume mounted on it starts as a copy of it, and
# so is writable by the server (generated keys, the embedded database).
ARG TRADESAGE_UID=10001
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid "$TRADESAGE_UID" tradesage \
    && useradd --system --uid "$TRADESAGE_UID" --gid tradesage --home-dir /var/lib/tradesage --create-home \
       --shell /usr/sbin/nologin tradesage \
    && install -d -o tradesage -g tradesage -m 0700 /var/lib/tradesage/data
WORKDIR /var/lib/tradesage
COPY --from=server /usr/local/bin/tradesage /usr/local/bin/tradesage
USER tradesage:tradesage
ENV TRADESAGE_BIND=0.0.0.0:8080 TRADESAGE_DATA_DIR=/var/lib/tradesage/data LOG_FORMAT=json
VOLUME ["/var/lib/tradesage/data"]
EXPOSE 8080
# `tradesage health` asks this container's own /health (TRADESAGE_BIND, 0.0.0.0 → loopback).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s CMD ["/usr/local/bin/tradesage", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/tradesage"]
CMD ["serve"]
