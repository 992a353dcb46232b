//! The console's 12 preset rules (reference: xprofiler-console §5.2, "预设规则列表"): context, expression and a
//! message template. The expressions are the reference's; the error-type list after `TypeError` and the message
//! texts are ours (the reference elides them).

/// One preset: `(name, context, expression, content)`.
pub type Preset = (&'static str, &'static str, &'static str, &'static str);

pub const PRESETS: [Preset; 12] = [
    ("heap", "xprofiler_log", "@heap_used / @heap_limit > 0.7", "进程 ${@pid} 堆内存占用 ${@heap_used / @heap_limit * 100}% 超过 70%"),
    ("cpu", "xprofiler_log", "@cpu_300 > 95", "进程 ${@pid} 5 分钟平均 CPU ${@cpu_300}% 超过 95%"),
    ("gc", "xprofiler_log", "@gc_60 > 15", "进程 ${@pid} 最近一分钟 GC 耗时占比 ${@gc_60}% 超过 15%"),
    ("slow requests", "system_log", "@expired_request > 0", "出现 ${@expired_request} 个超时请求"),
    (
        "4xx/5xx ratio",
        "system_log",
        "@code_4xx / @http_response_sent + @code_5xx / @http_response_sent > 0.5",
        "4xx/5xx 响应占比 ${(@code_4xx + @code_5xx) / @http_response_sent * 100}% 超过 50%",
    ),
    ("OS memory", "system_log", "@os_mem_usage > 80", "系统内存占用 ${@os_mem_usage}% 超过 80%"),
    ("OS CPU", "system_log", "@os_cpu_usage > 80", "系统 CPU 占用 ${@os_cpu_usage}% 超过 80%"),
    ("disk", "system_log", "@disk_usage > 85", "磁盘 ${@mounted_on} 占用 ${@disk_usage}% 超过 85%"),
    (
        "error type",
        "error_log",
        "@error_type == \"TypeError\" || @error_type == \"ReferenceError\" || @error_type == \"RangeError\"",
        "${@log_path} 出现 ${@error_type}: ${@stack}",
    ),
    ("npm vulnerabilities", "xtransit_notification", "@critical > 0 || @high > 0", "依赖存在 ${@critical} 个严重、${@high} 个高危漏洞"),
    ("coredump", "xtransit_notification", "@core_count > 0", "生成了 ${@core_count} 个 core 文件: ${@core_files}"),
    ("agent offline", "xtransit_notification", "@agentOffline", "实例 ${@agentId} 已离线"),
];
