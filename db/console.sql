-- xprofiler_console: the console's tables (the manager reads apps/strategies/contacts/user and writes files/coredumps).
-- Same columns and keys as the original console's db/init.sql, created only when missing: an existing original
-- database is used as it is. New databases get utf8mb4 (the original's utf8 rejects 4-byte characters).

CREATE TABLE IF NOT EXISTS `user` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `name` VARCHAR(100) NOT NULL COMMENT 'login e-mail',
  `nick` VARCHAR(100) NOT NULL,
  `pass` VARCHAR(200) NOT NULL,
  `identity` VARCHAR(20) NOT NULL,
  `mail` VARCHAR(250) NOT NULL,
  `gm_modified` DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `gm_create` DATETIME DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY (`name`),
  UNIQUE KEY (`identity`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `apps` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT 'the agent appId',
  `name` VARCHAR(50) NOT NULL,
  `owner` INT UNSIGNED NOT NULL,
  `secret` VARCHAR(50) NOT NULL COMMENT 'the agent appSecret',
  `gm_modified` DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `gm_create` DATETIME DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY (`owner`, `name`),
  INDEX (`owner`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `members` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `app` INT UNSIGNED NOT NULL,
  `user` INT UNSIGNED NOT NULL,
  `status` INT UNSIGNED NOT NULL COMMENT '1 inviting, 2 joined',
  `gm_modified` DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `gm_create` DATETIME DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY (`app`, `user`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `files` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `app` INT NOT NULL,
  `agent` VARCHAR(50) NOT NULL,
  `type` VARCHAR(50) NOT NULL,
  `file` VARCHAR(250) NOT NULL,
  `storage` VARCHAR(250) DEFAULT '',
  `user` INT UNSIGNED NOT NULL,
  `status` TINYINT UNSIGNED DEFAULT 0 COMMENT '0 creating, 1 created, 2 transferring, 3 transferred',
  `favor` TINYINT UNSIGNED DEFAULT 0,
  `token` VARCHAR(50) DEFAULT '',
  `gm_modified` DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `gm_create` DATETIME DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY (`app`, `agent`, `file`, `storage`),
  INDEX (`id`, `app`, `type`),
  -- ours: the files page, newest first per app (added to an original database by store::schema)
  INDEX `app_gm_create` (`app`, `gm_create`),
  -- ours: the files page filtered by type or favourites (counted and read in index order)
  INDEX `app_type_gm_create` (`app`, `type`, `gm_create`),
  INDEX `app_favor_gm_create` (`app`, `favor`, `gm_create`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `coredumps` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `app` INT NOT NULL,
  `agent` VARCHAR(50) NOT NULL,
  `file` VARCHAR(250) NOT NULL,
  `file_storage` VARCHAR(250) DEFAULT '',
  `file_status` TINYINT UNSIGNED DEFAULT 0,
  `node` VARCHAR(250) NOT NULL,
  `node_storage` VARCHAR(250) DEFAULT '',
  `node_status` TINYINT UNSIGNED DEFAULT 0 COMMENT '99 create-failed',
  `user` INT UNSIGNED NOT NULL COMMENT '999999 = System',
  `favor` TINYINT UNSIGNED DEFAULT 0,
  `token` VARCHAR(50) DEFAULT '',
  `gm_modified` DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `gm_create` DATETIME DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY (`app`, `agent`, `file`, `file_storage`),
  INDEX (`id`, `app`),
  -- ours: the files page, newest first per app (added to an original database by store::schema)
  INDEX `app_gm_create` (`app`, `gm_create`),
  INDEX `app_favor_gm_create` (`app`, `favor`, `gm_create`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `strategies` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `app` INT NOT NULL,
  `context` VARCHAR(50) NOT NULL,
  `push` VARCHAR(50) NOT NULL,
  `webhook` TINYINT UNSIGNED DEFAULT 0,
  `wtype` VARCHAR(20) DEFAULT '',
  `waddress` VARCHAR(200) DEFAULT '',
  `wsign` VARCHAR(100) DEFAULT '',
  `expression` VARCHAR(150) NOT NULL,
  `content` VARCHAR(150) NOT NULL,
  `status` TINYINT UNSIGNED DEFAULT 1,
  `gm_modified` DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `gm_create` DATETIME DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  INDEX (`id`, `app`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `contacts` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `strategy` INT UNSIGNED NOT NULL,
  `user` INT UNSIGNED NOT NULL,
  `gm_modified` DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `gm_create` DATETIME DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY (`strategy`, `user`),
  INDEX (`strategy`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- ours: global administrators (see and manage every app). A separate table, so an original database keeps its
-- `user` table untouched.
CREATE TABLE IF NOT EXISTS `ezm_admins` (
  `user` INT UNSIGNED NOT NULL,
  `gm_create` DATETIME DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`user`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Ours: the automatic action of an alarm rule (a profile of the process that fired it, taken by the manager and
-- recorded in `files` as the console records actions), one row per rule that has one.
CREATE TABLE IF NOT EXISTS `ezm_alarm_actions` (
  `strategy` INT UNSIGNED NOT NULL,
  `action` VARCHAR(20) NOT NULL,
  `gm_modified` DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `gm_create` DATETIME DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`strategy`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
