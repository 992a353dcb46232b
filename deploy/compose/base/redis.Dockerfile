# ezm-ci/redis: a stand-in for redis:7, for CI only (deploy/compose/test.sh builds it; no image registry is reachable
# there): Debian's redis-server, run as compose runs the official image (`redis-server --appendonly yes`, data in
# /data, `redis-cli ping` as the health check).
ARG BASE_IMAGE=ezm-ci/debian:bookworm-slim
FROM ${BASE_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server redis-tools \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o redis -g redis -m 0750 /data
COPY redis-entrypoint.sh /usr/local/bin/ezm-ci-entrypoint
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["/usr/local/bin/ezm-ci-entrypoint"]
CMD ["redis-server"]
