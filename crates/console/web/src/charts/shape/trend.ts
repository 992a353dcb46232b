// Trend replies (`/xapi/process_trend`, `/xapi/system_trend`: {list: [{time, key: value…}], limit?, extra?, yAxis?})
// turned into chart series, with the units and health bands the original shows. Pure: tested in trend.test.ts.
import type { TrendReply } from '@/api/types'

export type ProcessTrendType = 'heapTrend' | 'cpuTrend' | 'heapSpaceTrend' | 'gcTrend' | 'uvTrend' | 'qpsTrend' | 'timerTrend' | 'tcpTrend' | 'udpTrend'
export type SystemTrendType = 'osCpuTrend' | 'osMemoryTrend' | 'loadTrend' | 'nodeCountTrend' | 'osGcTrend' | 'diskUsageTrend' | 'qpsTrend' | 'httpResponseTrend'
export type Unit = 'percent' | 'bytes' | 'ms' | 's' | 'count'

export const PROCESS_TRENDS: ProcessTrendType[] = ['heapTrend', 'cpuTrend', 'heapSpaceTrend', 'gcTrend', 'uvTrend', 'qpsTrend', 'timerTrend', 'tcpTrend', 'udpTrend']
export const SYSTEM_TRENDS: SystemTrendType[] = ['osCpuTrend', 'osMemoryTrend', 'loadTrend', 'nodeCountTrend', 'osGcTrend', 'diskUsageTrend', 'qpsTrend', 'httpResponseTrend']
export const DURATIONS = [24, 72, 168] as const

const PROCESS_KEYS: Record<ProcessTrendType, { keys: string[]; unit: Unit }> = {
  heapTrend: { keys: ['rss', 'heap_total', 'heap_used', 'external'], unit: 'bytes' },
  cpuTrend: { keys: ['cpu_15', 'cpu_30', 'cpu_60'], unit: 'percent' },
  heapSpaceTrend: { keys: ['old_space', 'new_space', 'map_space', 'lo_space', 'code_space', 'read_only_space', 'new_lo_space', 'code_lo_space'], unit: 'bytes' },
  gcTrend: { keys: ['scavenge_duration', 'marksweep_duration', 'total_gc_duration'], unit: 'ms' },
  uvTrend: { keys: ['active_handles'], unit: 'count' },
  qpsTrend: { keys: ['qps'], unit: 'count' },
  timerTrend: { keys: ['active_timers'], unit: 'count' },
  tcpTrend: { keys: ['active_tcp_handles'], unit: 'count' },
  udpTrend: { keys: ['active_udp_handles'], unit: 'count' },
}

const SYSTEM_KEYS: Record<SystemTrendType, { keys: string[]; unit: Unit }> = {
  osCpuTrend: { keys: ['os_cpu'], unit: 'percent' },
  osMemoryTrend: { keys: ['os_memory'], unit: 'percent' },
  loadTrend: { keys: ['load1', 'load5', 'load15'], unit: 'count' },
  nodeCountTrend: { keys: ['node_count'], unit: 'count' },
  osGcTrend: { keys: ['scavenge_avg', 'marksweep_avg', 'total_gc_avg'], unit: 'ms' },
  diskUsageTrend: { keys: [], unit: 'percent' },
  qpsTrend: { keys: ['qps'], unit: 'count' },
  httpResponseTrend: { keys: ['response_time'], unit: 'ms' },
}

export interface Series {
  key: string
  points: [number, number | null][]
}

export interface Shaped {
  series: Series[]
  unit: Unit
  /** The reply's `extra`, shown after the title. */
  extra?: string
}

function toNumber(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null
  const n = Number(v)
  return Number.isFinite(n) ? n : null
}

function shape(reply: TrendReply | undefined, keys: string[], unit: Unit): Shaped {
  const list = Array.isArray(reply?.list) ? reply!.list : []
  let series = keys.map((key) => ({ key, points: list.map((row) => [Number(row.time), toNumber(row[key])] as [number, number | null]) }))
  // Milliseconds switch to seconds when the largest value passes 1000, as the original does.
  if (unit === 'ms') {
    const max = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[1] ?? 0)))
    if (max > 1000) {
      series = series.map((s) => ({ key: s.key, points: s.points.map(([t, v]) => [t, v === null ? null : v / 1000]) }))
      unit = 's'
    }
  }
  return { series, unit, extra: reply?.extra || undefined }
}

export function processSeries(type: ProcessTrendType, reply: TrendReply | undefined): Shaped {
  const { keys, unit } = PROCESS_KEYS[type]
  return shape(reply, keys, unit)
}

export function systemSeries(type: SystemTrendType, reply: TrendReply | undefined): Shaped {
  const { keys, unit } = SYSTEM_KEYS[type]
  // Disk usage: one series per mount, named by the reply's yAxis.
  return shape(reply, type === 'diskUsageTrend' ? (reply?.yAxis ?? []) : keys, unit)
}

export type Health = 'ok' | 'warn' | 'bad' | 'none'

/** The band of a percentage: below 60 fine, 60–85 warning, above 85 bad. */
export function band(percent: number | null | undefined, warn = 60, bad = 85): Health {
  if (percent === null || percent === undefined || !Number.isFinite(percent)) return 'none'
  if (percent >= bad) return 'bad'
  if (percent >= warn) return 'warn'
  return 'ok'
}

function last(reply: TrendReply | undefined): Record<string, number | null> | undefined {
  const list = reply?.list
  return Array.isArray(list) && list.length ? list[list.length - 1] : undefined
}

/** The health badge of a process chart, as the original: heap used / limit, cpu_60, GC time share of a minute. */
export function processHealth(type: ProcessTrendType, reply: TrendReply | undefined): Health {
  const row = last(reply)
  if (!row) return 'none'
  if (type === 'heapTrend') {
    const limit = Number(reply?.limit)
    return limit > 0 ? band((Number(row.heap_used) / limit) * 100) : 'none'
  }
  if (type === 'cpuTrend') return band(toNumber(row.cpu_60))
  if (type === 'gcTrend') {
    const share = ((Number(row.scavenge_duration) || 0) + (Number(row.marksweep_duration) || 0)) / 60000
    return band(share * 100, 5, 15)
  }
  return 'none'
}

/** Formats a value in its unit for axes and tooltips. */
export function formatValue(value: number | null | undefined, unit: Unit): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-'
  switch (unit) {
    case 'percent':
      return `${round(value)}%`
    case 'bytes':
      return `${round(value / 1024 / 1024)} MB`
    case 'ms':
      return `${round(value)} ms`
    case 's':
      return `${round(value)} s`
    default:
      return String(round(value))
  }
}

function round(v: number): number {
  return Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 100) / 100
}
