//! Accounts: signing in (with the failure limits, the one-time upgrade of the original's MD5 passwords and, when
//! enabled, the original's self-registration), and the first administrator at start-up.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::{Rng, RngCore};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use store::console_db::users::{self, NewUser};

use crate::domain::password::{self, Verdict};
use crate::error::ConsoleError;
use crate::reasons;
use crate::state::AppState;

/// The signed-in user.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: u64,
    pub name: String,
    pub nick: String,
    pub identity: String,
    /// A global administrator: sees and manages every app.
    pub admin: bool,
}

impl CurrentUser {
    pub async fn load(db: &mysql_async::Pool, user: users::User) -> Result<CurrentUser, ConsoleError> {
        let admin = users::is_admin(db, user.id).await?;
        Ok(CurrentUser { id: user.id, name: user.name, nick: user.nick, identity: user.identity, admin })
    }
}

/// The name of the account generated when nothing else is configured.
pub const GENERATED_ADMIN: &str = "admin@localhost";

/// Checks `name` and `password`; on success the user (a self-registered one when allowed and unknown).
pub async fn sign_in(state: &AppState, name: &str, password: &str, address: &str) -> Result<CurrentUser, ConsoleError> {
    let name = name.trim();
    let refused = || ConsoleError::BadCredentials((&reasons::BAD_CREDENTIALS).into());
    if name.is_empty() || password.is_empty() || name.len() > 100 {
        return Err(refused());
    }
    let limits = &state.signin_limits;
    if let Some(wait) = limits.blocked(name, address).await? {
        tracing::warn!(account = name, address, "sign-in refused: too many failures");
        return Err(ConsoleError::TooManyAttempts(wait));
    }
    let db = &state.console_db;
    let Some(user) = users::by_name(db, name).await? else {
        if state.auth.self_registration {
            return register(state, name, password).await;
        }
        // Same work as for a known user, so timing does not tell which names exist.
        let _ = blocking(|| password::verify(DUMMY_HASH, "x")).await;
        limits.failed(name, address).await?;
        return Err(refused());
    };
    let (stored, given) = (user.pass.clone(), password.to_owned());
    let verdict = blocking(move || password::verify(&stored, &given)).await?;
    match verdict {
        Verdict::Invalid => {
            limits.failed(name, address).await?;
            tracing::info!(account = name, address, "sign-in failed");
            Err(refused())
        }
        Verdict::ValidLegacy => {
            let given = password.to_owned();
            let upgraded = blocking(move || password::hash(&given)).await?;
            users::set_pass(db, user.id, &upgraded).await?;
            tracing::info!(user_id = user.id, "upgraded a password from the original's md5 to argon2id");
            limits.succeeded(name).await?;
            CurrentUser::load(db, user).await
        }
        Verdict::Valid => {
            limits.succeeded(name).await?;
            CurrentUser::load(db, user).await
        }
    }
}

/// The original's behaviour on an unknown e-mail: create the account (nick = the part before `@`).
async fn register(state: &AppState, name: &str, password: &str) -> Result<CurrentUser, ConsoleError> {
    if !is_email(name) {
        return Err(ConsoleError::BadCredentials((&reasons::EMAIL_REQUIRED).into()));
    }
    let given = password.to_owned();
    let hash = blocking(move || password::hash(&given)).await?;
    let nick = name.split('@').next().unwrap_or(name);
    let new = NewUser { name, nick, pass: &hash, mail: name };
    let user = match users::insert(&state.console_db, &new, new_identity).await? {
        Some(user) => user,
        // Registered concurrently: sign in normally.
        None => return Err(ConsoleError::BadCredentials((&reasons::BAD_CREDENTIALS).into())),
    };
    tracing::info!(user_id = user.id, "self-registered a new account");
    CurrentUser::load(&state.console_db, user).await
}

/// Creates the first administrator at start-up: `CONSOLE_ADMIN_USER` with `CONSOLE_ADMIN_PASSWORD` if no user has
/// that name; else, when the database has no user at all, `admin@localhost` with a one-time password written once to
/// the log. An existing account named by `CONSOLE_ADMIN_USER` is made an administrator and keeps its password.
pub async fn ensure_first_admin(state: &AppState, admin_user: &str, admin_password: &secrecy::SecretString) -> Result<(), ConsoleError> {
    let db = &state.console_db;
    let (name, password, generated) = match admin_user.trim() {
        "" if users::count(db).await? > 0 => return Ok(()),
        "" => (GENERATED_ADMIN.to_owned(), password::generate(), true),
        name => (name.to_owned(), admin_password.expose_secret().to_owned(), false),
    };
    if let Some(existing) = users::by_name(db, &name).await? {
        users::make_admin(db, existing.id).await?;
        return Ok(());
    }
    let hash = blocking({
        let password = password.clone();
        move || password::hash(&password)
    })
    .await?;
    let nick = name.split('@').next().unwrap_or(&name).to_owned();
    let new = NewUser { name: &name, nick: &nick, pass: &hash, mail: &name };
    let Some(user) = users::insert(db, &new, new_identity).await? else { return Ok(()) };
    users::make_admin(db, user.id).await?;
    match generated {
        // Printed once, on purpose: the operator has no other way to learn it. It is not stored anywhere.
        true => tracing::warn!(
            user = %name,
            password = %password,
            "FIRST SIGN-IN: no user existed, so an administrator was created with this one-time password; sign in \
             and change it, or set CONSOLE_ADMIN_USER and CONSOLE_ADMIN_PASSWORD"
        ),
        false => tracing::info!(user = %name, "created the administrator from CONSOLE_ADMIN_USER"),
    }
    Ok(())
}

/// HTTP Basic credentials that verified recently, so that a script or the original front-end (which sends them with
/// every request, six per app card) does not cost an argon2 hash per request. Keyed by a SHA-256 of the credentials
/// with a per-process salt (no password is kept); an entry lives [`BasicCache::TTL`], and the cache is emptied
/// when it reaches [`BasicCache::MAX`] entries.
pub struct BasicCache {
    salt: [u8; 16],
    entries: Mutex<HashMap<[u8; 32], (u64, Instant)>>,
}

impl Default for BasicCache {
    fn default() -> Self {
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        BasicCache { salt, entries: Mutex::new(HashMap::new()) }
    }
}

impl BasicCache {
    pub const TTL: Duration = Duration::from_secs(300);
    pub const MAX: usize = 10_000;

    fn key(&self, name: &str, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update(name.as_bytes());
        h.update([0]);
        h.update(password.as_bytes());
        h.finalize().into()
    }

    /// The user id these credentials verified as, if that was less than [`BasicCache::TTL`] ago.
    pub fn get(&self, name: &str, password: &str) -> Option<u64> {
        let key = self.key(name, password);
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(&key).filter(|(_, at)| at.elapsed() < Self::TTL).map(|(id, _)| *id)
    }

    pub fn put(&self, name: &str, password: &str, user: u64) {
        let key = self.key(name, password);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= Self::MAX {
            entries.clear();
        }
        entries.insert(key, (user, Instant::now()));
    }
}

/// HTTP Basic: [`sign_in`], with recent successes remembered in [`BasicCache`].
pub async fn sign_in_basic(state: &AppState, name: &str, password: &str, address: &str) -> Result<CurrentUser, ConsoleError> {
    if let Some(id) = state.basic_cache.get(name, password) {
        if let Some(user) = users::by_id(&state.console_db, id).await? {
            return CurrentUser::load(&state.console_db, user).await;
        }
    }
    let user = sign_in(state, name, password, address).await?;
    state.basic_cache.put(name, password, user.id);
    Ok(user)
}

/// A plausible e-mail: one `@`, a non-empty local part, a domain of dot-separated labels (or `localhost`). Dots and
/// `+` in the local part are fine (the original refused `john.doe@…`).
pub fn is_email(name: &str) -> bool {
    let Some((local, domain)) = name.split_once('@') else { return false };
    let label = |l: &str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let local_ok = !local.is_empty() && local.bytes().all(|b| b.is_ascii_alphanumeric() || b"._%+-".contains(&b));
    let domain_ok = domain == "localhost" || (domain.contains('.') && domain.split('.').all(label));
    local_ok && domain_ok && name.len() <= 100
}

/// A random 6-digit identity ("工号"), the original's format.
pub fn new_identity() -> String {
    rand::thread_rng().gen_range(100_000..1_000_000).to_string()
}

/// 32 random bytes as hex (CSRF secrets, one-time tokens).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// An argon2id hash of nothing anyone knows, verified for unknown names.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$9uYp+4nZq9aLQ1oN0xPcHvK5O2m6v3xG8k1Zq6xH8w0";

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ConsoleError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ConsoleError::Internal(format!("password worker: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn emails_with_dots_are_accepted() {
        for ok in ["a@b.co", "john.doe@example.com", "x+y@mail.example.org", "admin@localhost"] {
            assert!(super::is_email(ok), "{ok}");
        }
        for bad in ["", "a", "@b.co", "a@", "a@b", "a@b..co", "a b@c.de", "a@b.c_d"] {
            assert!(!super::is_email(bad), "{bad}");
        }
        let id = super::new_identity();
        assert_eq!(id.len(), 6);
    }
}
