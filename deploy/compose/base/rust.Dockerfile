# ezm-ci/rust: a stand-in for rust:1-bookworm, for CI only (deploy/compose/test.sh builds it; no image registry is
# reachable there). The Rust toolchain is this machine's own active one (rustc --print sysroot: bin, lib), copied by
# test.sh into the build context as toolchain/; cargo and rustc are on PATH directly (no rustup inside). The C
# toolchain is what the workspace's build scripts use (ring, aws-lc-sys, zstd-sys: cc; cmake for aws-lc-sys'
# fallback build).
ARG BASE_IMAGE=ezm-ci/debian:bookworm-slim
FROM ${BASE_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates gcc g++ libc6-dev make cmake pkg-config git \
 && rm -rf /var/lib/apt/lists/*
ENV CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY toolchain/ /usr/local/rust/
RUN mkdir -p /usr/local/cargo/bin && cargo --version && rustc --version
