// Times on the wire are epoch ms (or the original's "YYYY-MM-DD HH:mm:ss" in a few replies); they are shown in the
// viewer's time zone, or in UTC when the viewer chose it (the same setting drives the charts' useUTC).
import { ref } from 'vue'

export type Zone = 'browser' | 'utc'
const KEY = 'ezm.zone'

function initialZone(): Zone {
  try {
    return localStorage.getItem(KEY) === 'utc' ? 'utc' : 'browser'
  } catch {
    return 'browser'
  }
}

/** The chosen zone, reactive. */
export const zone = ref<Zone>(typeof window === 'undefined' ? 'browser' : initialZone())

export function setZone(next: Zone) {
  zone.value = next
  try {
    localStorage.setItem(KEY, next)
  } catch {
    /* private mode: not remembered */
  }
}

const cache = new Map<string, Intl.DateTimeFormat>()

function formatter(locale: string, utc: boolean, style: 'full' | 'short'): Intl.DateTimeFormat {
  const key = `${locale}|${utc}|${style}`
  let f = cache.get(key)
  if (!f) {
    const options: Intl.DateTimeFormatOptions =
      style === 'full'
        ? { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }
        : { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
    if (utc) options.timeZone = 'UTC'
    f = new Intl.DateTimeFormat(locale, options)
    cache.set(key, f)
  }
  return f
}

/** Epoch ms, a numeric string, or "YYYY-MM-DD HH:mm:ss" (read as the server's UTC... or local) → a Date. */
export function toDate(value: number | string | null | undefined): Date | null {
  if (value === null || value === undefined || value === '') return null
  if (typeof value === 'number') return new Date(value)
  if (/^\d+$/.test(value)) return new Date(Number(value))
  const d = new Date(value.includes('T') ? value : value.replace(' ', 'T'))
  return Number.isNaN(d.getTime()) ? null : d
}

/** A time for tables and titles: "2026/12/01 08:30:00" (zh-CN) or "12/01/2026, 08:30:00" (en-US). */
export function formatTime(value: number | string | null | undefined, locale: string, z: Zone = zone.value): string {
  const d = toDate(value)
  return d ? formatter(locale, z === 'utc', 'full').format(d) : '-'
}

/** A short time for chart axes: month, day, hour and minute. */
export function formatShort(value: number, locale: string, z: Zone = zone.value): string {
  return formatter(locale, z === 'utc', 'short').format(new Date(value))
}

/** "3d 4h", "5m 2s": how long something has run. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-'
  const s = Math.floor(ms / 1000)
  const d = Math.floor(s / 86400)
  const h = Math.floor((s % 86400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  if (d) return `${d}d ${h}h`
  if (h) return `${h}h ${m}m`
  if (m) return `${m}m ${s % 60}s`
  return `${s}s`
}

/** Bytes as "12.3 MB". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(Number(bytes))) return '-'
  let n = Number(bytes)
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let i = 0
  while (Math.abs(n) >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`
}
