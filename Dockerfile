# Multi-stage build: compile with the lock file, ship only the binary on a minimal non-root base.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin meshgate

# distroless/cc: glibc and libgcc, no shell, runs as uid 65532 ("nonroot").
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/meshgate /usr/local/bin/meshgate
USER 65532:65532
EXPOSE 8443 8080
ENTRYPOINT ["/usr/local/bin/meshgate", "serve"]
