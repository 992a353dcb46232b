# ezm-ci/mariadb: Debian's MariaDB standing in for mysql:8.4, for CI only (deploy/compose/test.sh builds it; no image
# registry is reachable there). Not MySQL: results with it say so. What compose uses of the official image is
# reproduced: MYSQL_USER with MYSQL_PASSWORD(_FILE), MYSQL_ROOT_PASSWORD(_FILE), the scripts in
# /docker-entrypoint-initdb.d on the first start, data in /var/lib/mysql, `mysqladmin ping` answering only once the
# real server listens on TCP, and the `mysql` client (demo-setup).
ARG BASE_IMAGE=ezm-ci/debian:bookworm-slim
FROM ${BASE_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends mariadb-server mariadb-client \
 && rm -rf /var/lib/apt/lists/* /var/lib/mysql \
 && install -d -o mysql -g mysql -m 0750 /var/lib/mysql \
 && install -d -o mysql -g mysql /run/mysqld /docker-entrypoint-initdb.d \
 && printf '[mysqld]\nbind-address = 0.0.0.0\nskip-name-resolve\n' >/etc/mysql/mariadb.conf.d/99-ezm-ci.cnf \
 && command -v mysql mysqladmin mariadbd >/dev/null
COPY mariadb-entrypoint.sh /usr/local/bin/ezm-ci-entrypoint
EXPOSE 3306
ENTRYPOINT ["/usr/local/bin/ezm-ci-entrypoint"]
CMD ["mariadbd"]
