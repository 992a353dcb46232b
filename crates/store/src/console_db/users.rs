//! `user`: accounts. `name` is the sign-in e-mail, `identity` the 6-digit "工号" others invite by, `pass` either the
//! original's unsalted MD5 hex or (ours) an argon2id PHC string. `ezm_admins` (ours) lists global administrators.

use mysql_async::prelude::Queryable;
use mysql_async::Pool;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: u64,
    pub name: String,
    pub nick: String,
    pub pass: String,
    pub identity: String,
    pub mail: String,
}

type Row = (u64, String, String, String, String, String);

fn user(row: Row) -> User {
    let (id, name, nick, pass, identity, mail) = row;
    User { id, name, nick, pass, identity, mail }
}

const COLUMNS: &str = "id, name, nick, pass, identity, mail";

pub async fn by_name(pool: &Pool, name: &str) -> Result<Option<User>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let row: Option<Row> = conn.exec_first(format!("SELECT {COLUMNS} FROM user WHERE name = ?"), (name,)).await?;
    Ok(row.map(user))
}

pub async fn by_id(pool: &Pool, id: u64) -> Result<Option<User>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let row: Option<Row> = conn.exec_first(format!("SELECT {COLUMNS} FROM user WHERE id = ?"), (id,)).await?;
    Ok(row.map(user))
}

pub async fn by_identity(pool: &Pool, identity: &str) -> Result<Option<User>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let row: Option<Row> = conn.exec_first(format!("SELECT {COLUMNS} FROM user WHERE identity = ?"), (identity,)).await?;
    Ok(row.map(user))
}

/// Users by id, for showing names next to ids.
pub async fn by_ids(pool: &Pool, ids: &[u64]) -> Result<Vec<User>, mysql_async::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; ids.len()].join(", ");
    let mut conn = pool.get_conn().await?;
    let rows: Vec<Row> = conn.exec(format!("SELECT {COLUMNS} FROM user WHERE id IN ({marks})"), ids.to_vec()).await?;
    Ok(rows.into_iter().map(user).collect())
}

pub async fn count(pool: &Pool) -> Result<u64, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    Ok(conn.query_first("SELECT COUNT(*) FROM user").await?.unwrap_or(0))
}

/// What a new account needs; `identity` is chosen by [`insert`].
pub struct NewUser<'a> {
    pub name: &'a str,
    pub nick: &'a str,
    pub pass: &'a str,
    pub mail: &'a str,
}

/// Creates an account with the first free identity `pick_identity` yields (the original picked one random 6-digit
/// number and answered 500 when it was taken). `None` when the name is taken.
pub async fn insert(pool: &Pool, new: &NewUser<'_>, mut pick_identity: impl FnMut() -> String) -> Result<Option<User>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    for _ in 0..20 {
        let identity = pick_identity();
        let result = conn
            .exec_drop("INSERT INTO user (name, nick, pass, identity, mail) VALUES (?, ?, ?, ?, ?)", (new.name, new.nick, new.pass, &identity, new.mail))
            .await;
        match result {
            Ok(()) => {
                let id = conn.last_insert_id().unwrap_or(0);
                return Ok(Some(User { id, name: new.name.into(), nick: new.nick.into(), pass: new.pass.into(), identity, mail: new.mail.into() }));
            }
            Err(e) if super::is_duplicate(&e) => {
                let taken: Option<u64> = conn.exec_first("SELECT id FROM user WHERE name = ?", (new.name,)).await?;
                if taken.is_some() {
                    return Ok(None);
                }
                // The identity was taken: try another one.
            }
            Err(e) => return Err(e),
        }
    }
    Err(mysql_async::Error::Other("no free user identity after 20 tries".into()))
}

pub async fn set_pass(pool: &Pool, id: u64, pass: &str) -> Result<(), mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop("UPDATE user SET pass = ? WHERE id = ?", (pass, id)).await
}

pub async fn is_admin(pool: &Pool, id: u64) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let found: Option<u64> = conn.exec_first("SELECT user FROM ezm_admins WHERE user = ?", (id,)).await?;
    Ok(found.is_some())
}

pub async fn make_admin(pool: &Pool, id: u64) -> Result<(), mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop("INSERT IGNORE INTO ezm_admins (user) VALUES (?)", (id,)).await
}

/// An account as the administration page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub user: User,
    pub admin: bool,
    /// `gm_create` in epoch ms (0 when unknown).
    pub created_ms: i64,
}

/// id, name, nick, pass, identity, mail, the administrator row's user, creation time in ms.
type ListedRow = (u64, String, String, String, String, String, Option<u64>, Option<i64>);

/// Every account, oldest first, with the administrator flag (administrators).
pub async fn all(pool: &Pool) -> Result<Vec<Listed>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let rows: Vec<ListedRow> = conn
        .query(
            "SELECT u.id, u.name, u.nick, u.pass, u.identity, u.mail, a.user, \
             CAST(UNIX_TIMESTAMP(u.gm_create) * 1000 AS SIGNED) \
             FROM user u LEFT JOIN ezm_admins a ON a.user = u.id ORDER BY u.id",
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, nick, pass, identity, mail, admin, created)| Listed {
            user: User { id, name, nick, pass, identity, mail },
            admin: admin.is_some(),
            created_ms: created.unwrap_or(0),
        })
        .collect())
}
