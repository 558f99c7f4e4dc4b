# Builds the web app and the server, then runs `tradesage serve` as an unprivileged user.
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
RUN cargo build --release --bin tradesage

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/tradesage --create-home tradesage
WORKDIR /var/lib/tradesage
COPY --from=server /src/target/release/tradesage /usr/local/bin/tradesage
USER tradesage
ENV TRADESAGE_BIND=0.0.0.0:8080 TRADESAGE_DATA_DIR=/var/lib/tradesage/data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=4s CMD ["/usr/local/bin/tradesage", "health"]
ENTRYPOINT ["/usr/local/bin/tradesage"]
CMD ["serve"]
