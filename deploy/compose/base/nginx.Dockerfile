# ezm-ci/nginx: a stand-in for nginx:1.28, for CI only (deploy/compose/test.sh builds it; no image registry is
# reachable there): Debian's nginx with the official image's start-up step that compose relies on (every
# /etc/nginx/templates/*.template rendered by envsubst into /etc/nginx/conf.d, only the variables matching
# NGINX_ENVSUBST_FILTER), logs to stdout/stderr, curl for the health check.
ARG BASE_IMAGE=ezm-ci/debian:bookworm-slim
FROM ${BASE_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx gettext-base curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default \
 && ln -sf /dev/stdout /var/log/nginx/access.log \
 && ln -sf /dev/stderr /var/log/nginx/error.log
COPY nginx-entrypoint.sh /usr/local/bin/ezm-ci-entrypoint
EXPOSE 80
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/usr/local/bin/ezm-ci-entrypoint"]
CMD ["nginx", "-g", "daemon off;"]
