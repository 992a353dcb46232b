//! Everything the services keep in MySQL and Redis, in one place: the schema (`db/*.sql`, created idempotently at
//! start-up), one module per table group with all of its SQL, and the Redis key names. Only this crate holds SQL
//! and key strings; the services call its functions with their pools.
//!
//! Who writes what (an invariant the services keep):
//!
//! | table / keys | written by | read by |
//! |---|---|---|
//! | `process_DD`, `osinfo_DD` | manager (agent logs) | console |
//! | `alarm_DD` | manager (alarm engine, later) | console |
//! | `apps`, `user`, `members`, `strategies`, `contacts` | console | manager reads `apps.secret` |
//! | `files` | console (created, transferred); manager: `status` 0 → 1 when the agent reports the file done | both |
//! | `coredumps` | manager (reported by agents); console (transfers) | both |
//! | `XTRANSIT_*` registry, error logs, packages | manager | manager |
//! | `XTRANSIT_UPLOAD_NONCE::*` | console | console |
//! | `EZM_INGESTED::*` | manager | manager |
//!
//! No actix here: this crate is about data, not HTTP.

pub mod console_db;
pub mod keys;
pub mod logs_db;
pub mod schema;
