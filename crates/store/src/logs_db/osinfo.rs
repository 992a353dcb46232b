//! `osinfo_DD`: one row per agent per minute at position 0 (the system), and at position 1 the gc and http figures
//! of its Node processes, averaged or summed.

use std::sync::LazyLock;

/// The columns the manager inserts, in order. Declared once; `db/logs.sql` is held to it by a test.
pub const COLUMNS: [&str; 31] = [
    "app", "agent", "log_time", "position", "version", "total_memory", "free_memory", "disks", "response_codes",
    "uptime", "used_cpu", "cpu_count", "load1", "load5", "load15", "node_count", "total_gc_times",
    "total_gc_duration", "total_scavange_duration", "total_marksweep_duration", "total_incremental_marking_duration",
    "gc_time_during_last_record", "scavange_duration_last_record", "marksweep_duration_last_record",
    "incremental_marking_duration_last_record", "live_http_request", "http_response_close", "http_response_sent",
    "http_request_timeout", "http_patch_timeout", "http_rt",
];

pub(crate) static COLUMN_LIST: LazyLock<String> = LazyLock::new(|| COLUMNS.join(", "));

#[cfg(test)]
mod tests {
    #[test]
    fn the_columns_are_the_schemas() {
        let schema = crate::schema::columns_of(crate::schema::LOGS_SQL, "osinfo");
        for column in super::COLUMNS {
            assert!(schema.iter().any(|c| c == column), "{column} is not a column of osinfo in db/logs.sql");
        }
        let written: Vec<&String> = schema.iter().filter(|c| !["id", "gm_create", "gm_modified"].contains(&c.as_str())).collect();
        assert_eq!(written.len(), super::COLUMNS.len(), "{written:?}");
    }
}
