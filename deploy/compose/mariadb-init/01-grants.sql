-- Runs once, when the MariaDB volume is first initialised (docker-entrypoint-initdb.d).
-- The entrypoint has already created MARIADB_USER ('ezm'); the manager creates both databases and their tables
-- itself at start-up, so the user may create and own exactly these two databases and nothing else.
GRANT ALL PRIVILEGES ON `xprofiler_console`.* TO 'ezm'@'%';
GRANT ALL PRIVILEGES ON `xprofiler_logs`.* TO 'ezm'@'%';
FLUSH PRIVILEGES;
