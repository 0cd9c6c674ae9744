# syntax=docker/dockerfile:1
# auth-service container image.
#
# Build context is the repository root (the Cargo workspace):
#   docker build -f deploy/auth-service.Dockerfile -t ghcr.io/example/auth-service:0.1.0 .
# Needs BuildKit (the default builder since Docker 23) for the cache mounts: the cargo registry and the
# target directory persist between builds, so a code change recompiles only the workspace crates.
# The target cache id is shared with todo-service.Dockerfile: both build the same workspace.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Only what cargo needs to build the workspace (all members must be present to load it).
COPY Cargo.toml Cargo.lock ./
COPY shared-claims ./shared-claims
COPY service-kit ./service-kit
COPY auth-service ./auth-service
COPY todo-service ./todo-service
COPY system-tests ./system-tests
# What build_info{version,commit} reports (empty: the crate version); build arguments reach the RUN
# below as environment variables. Pass the image tag and the commit, e.g.
#   --build-arg BUILD_VERSION=0.1.0 --build-arg BUILD_COMMIT="$(git rev-parse --short HEAD)"
ARG BUILD_VERSION=""
ARG BUILD_COMMIT=unknown
# The binary is copied out of the cache mount within the same RUN: a cache mount is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,id=todo-app-cargo-target,sharing=locked \
    cargo build --release --locked -p auth-service \
    && install -D -m 0755 target/release/auth-service /out/auth-service

# glibc-based (aws-lc-rs links libc dynamically), no shell, no package manager. Same Debian release as
# the build stage, so the glibc the binary was linked against is there.
FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="auth-service" \
      org.opencontainers.image.description="Authentication service: users, sessions, RS256 tokens, JWKS" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"
COPY --from=build /out/auth-service /usr/local/bin/auth-service
# Listen on every interface inside the container; the healthcheck subcommand reads the port from here.
ENV AUTH_LISTEN_ADDR=0.0.0.0:8080
# The distroless "nonroot" user, numeric so the kubelet can verify runAsNonRoot.
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD ["/usr/local/bin/auth-service", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/auth-service"]
