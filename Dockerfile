# Multi-stage build: compile with the lock file, ship only the binary on a minimal non-root base.
FROM rust:1.95-bookworm AS build
WORKDIR /src
# The dependencies first, in a layer of their own, built against empty stand-ins for meshgate's
# sources: a change to meshgate rebuilds meshgate only. The bench targets are declared in
# Cargo.toml, so they need stand-ins too.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches \
    && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && echo 'fn main() {}' > benches/catalog.rs && echo 'fn main() {}' > benches/check.rs \
    && cargo build --release --locked --bin meshgate \
    && rm -rf src benches
COPY . .
# Newer than the stand-ins, whatever times the build context carried.
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin meshgate

# distroless/cc: glibc and libgcc, no shell, runs as uid 65532 ("nonroot").
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/meshgate /usr/local/bin/meshgate
USER 65532:65532
EXPOSE 8443 8080
ENTRYPOINT ["/usr/local/bin/meshgate", "serve"]
