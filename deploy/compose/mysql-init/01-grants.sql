-- Runs once, when the MySQL data volume is first initialised (docker-entrypoint-initdb.d of the mysql image).
-- The entrypoint has already created MYSQL_USER ('ezm', caching_sha2_password, the MySQL 8 default); the manager
-- creates both databases and their tables itself at start-up, so the user may create and own exactly these two
-- databases and nothing else.
GRANT ALL PRIVILEGES ON `xprofiler_console`.* TO 'ezm'@'%';
GRANT ALL PRIVILEGES ON `xprofiler_logs`.* TO 'ezm'@'%';
