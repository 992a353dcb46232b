//! `process_DD`: one row per Node process per minute (and per xprofiler log), the original's columns.

use std::sync::LazyLock;

/// The columns the manager inserts, in order: the row's identity, the 70 xprofiler metrics, `response_codes`.
/// Declared once; `db/logs.sql` is held to it by a test.
pub const COLUMNS: [&str; 76] = [
    "app", "agent", "pid", "log_time", "version", "cpu_now", "cpu_15", "cpu_30", "cpu_60", "rss", "heap_used",
    "heap_available", "heap_total", "heap_limit", "heap_executeable", "total_physical_size", "malloced_memory",
    "amount_of_external_allocated_memory", "new_space_size", "new_space_used", "new_space_available",
    "new_space_committed", "old_space_size", "old_space_used", "old_space_available", "old_space_committed",
    "code_space_size", "code_space_used", "code_space_available", "code_space_committed", "map_space_size",
    "map_space_used", "map_space_available", "map_space_committed", "lo_space_size", "lo_space_used",
    "lo_space_available", "lo_space_committed", "read_only_space_size", "read_only_space_used",
    "read_only_space_available", "read_only_space_committed", "new_lo_space_size", "new_lo_space_used",
    "new_lo_space_available", "new_lo_space_committed", "code_lo_space_size", "code_lo_space_used",
    "code_lo_space_available", "code_lo_space_committed", "uptime", "total_gc_times", "total_gc_duration",
    "total_scavange_duration", "total_marksweep_duration", "total_incremental_marking_duration",
    "gc_time_during_last_record", "scavange_duration_last_record", "marksweep_duration_last_record",
    "incremental_marking_duration_last_record", "active_handles", "active_file_handles",
    "active_and_ref_file_handles", "active_tcp_handles", "active_and_ref_tcp_handles", "active_udp_handles",
    "active_and_ref_udp_handles", "active_timer_handles", "active_and_ref_timer_handles", "live_http_request",
    "http_response_close", "http_response_sent", "http_request_timeout", "http_patch_timeout", "http_rt",
    "response_codes",
];

/// The 70 metric columns (`cpu_now` … `http_rt`), in the original's insert order.
pub const METRICS: &[&str] = COLUMNS.split_at(5).1.split_at(70).0;

pub(crate) static COLUMN_LIST: LazyLock<String> = LazyLock::new(|| COLUMNS.join(", "));

#[cfg(test)]
mod tests {
    #[test]
    fn the_columns_are_the_schemas() {
        let schema = crate::schema::columns_of(crate::schema::LOGS_SQL, "process");
        for column in super::COLUMNS {
            assert!(schema.iter().any(|c| c == column), "{column} is not a column of process in db/logs.sql");
        }
        // Every schema column but the generated ones is written.
        let written: Vec<&String> = schema.iter().filter(|c| !["id", "gm_create", "gm_modified"].contains(&c.as_str())).collect();
        assert_eq!(written.len(), super::COLUMNS.len(), "{written:?}");
        assert_eq!((super::METRICS[0], super::METRICS[69]), ("cpu_now", "http_rt"));
    }
}
