// The xprofiler GC trace ({startTime, stopTime (s), gc: [{type, start, end (ms), timeFromStart, before[], after[]}]}):
// pauses by type, a distribution of pause lengths, and the heap spaces before and after collections.

export interface GcSpace {
  name: string
  space_size?: number
  space_used_size?: number
  space_available_size?: number
  physical_space_size?: number
}

export interface GcEvent {
  /** scavenge, marksweep, marking, weakcallbacks, or V8's GCType number for others. */
  type: string | number
  start: number
  end: number
  timeFromStart?: number
  before?: GcSpace[]
  after?: GcSpace[]
}

export interface GcProfile {
  startTime?: number
  stopTime?: number
  gc: GcEvent[]
}

export function isGcProfile(value: unknown): value is GcProfile {
  return typeof value === 'object' && value !== null && Array.isArray((value as GcProfile).gc)
}

function typeName(e: GcEvent): string {
  return e.type === undefined || e.type === null || e.type === '' ? 'unknown' : String(e.type)
}

/** ms: xprofiler writes start and end in ms since the trace began (startTime and stopTime are in seconds). */
export function pauseOf(e: GcEvent): number {
  const d = Number(e.end) - Number(e.start)
  return Number.isFinite(d) && d > 0 ? d : 0
}

export interface PauseStats {
  type: string
  count: number
  /** ms */
  total: number
  avg: number
  max: number
  /** Share of all pause time. */
  share: number
}

export function pausesByType(profile: GcProfile): PauseStats[] {
  const by = new Map<string, PauseStats>()
  let all = 0
  for (const e of profile.gc) {
    const p = pauseOf(e)
    all += p
    const type = typeName(e)
    const s = by.get(type) ?? { type, count: 0, total: 0, avg: 0, max: 0, share: 0 }
    s.count++
    s.total += p
    s.max = Math.max(s.max, p)
    by.set(type, s)
  }
  const rows = [...by.values()]
  for (const s of rows) {
    s.avg = s.count ? s.total / s.count : 0
    s.share = all ? s.total / all : 0
  }
  return rows.sort((a, b) => b.total - a.total || a.type.localeCompare(b.type))
}

export interface GcSummary {
  /** Seconds the trace ran (stopTime - startTime), or undefined without both. */
  duration?: number
  count: number
  /** ms */
  totalPause: number
  maxPause: number
  /** Pause time over the traced time; undefined without a duration. */
  pauseShare?: number
}

export function gcSummary(profile: GcProfile): GcSummary {
  const pauses = profile.gc.map(pauseOf)
  const totalPause = pauses.reduce((a, b) => a + b, 0)
  const duration =
    typeof profile.startTime === 'number' && typeof profile.stopTime === 'number' && profile.stopTime >= profile.startTime
      ? profile.stopTime - profile.startTime
      : undefined
  return {
    duration,
    count: pauses.length,
    totalPause,
    maxPause: pauses.length ? Math.max(...pauses) : 0,
    pauseShare: duration ? totalPause / (duration * 1000) : undefined,
  }
}

/** Bucket upper bounds in ms; the last bucket is open ("≥ 100 ms"). */
export const BUCKETS = [1, 2, 5, 10, 20, 50, 100] as const

export function bucketLabel(i: number): string {
  if (i === 0) return `< ${BUCKETS[0]} ms`
  if (i >= BUCKETS.length) return `≥ ${BUCKETS[BUCKETS.length - 1]} ms`
  return `${BUCKETS[i - 1]}–${BUCKETS[i]} ms`
}

export function bucketOf(pause: number): number {
  const i = BUCKETS.findIndex((b) => pause < b)
  return i === -1 ? BUCKETS.length : i
}

/** For a stacked bar chart: bucket labels and, per type, the count of pauses in each bucket. */
export function pauseDistribution(profile: GcProfile): { labels: string[]; series: { type: string; counts: number[] }[] } {
  const labels = Array.from({ length: BUCKETS.length + 1 }, (_, i) => bucketLabel(i))
  const by = new Map<string, number[]>()
  for (const e of profile.gc) {
    const type = typeName(e)
    const counts = by.get(type) ?? new Array(labels.length).fill(0)
    counts[bucketOf(pauseOf(e))]++
    by.set(type, counts)
  }
  const order = pausesByType(profile).map((s) => s.type)
  return { labels, series: order.map((type) => ({ type, counts: by.get(type)! })) }
}

export interface SpaceStats {
  name: string
  /** Mean used bytes just before and just after a collection, and bytes freed in all. */
  avgBefore: number
  avgAfter: number
  freed: number
  /** Size (committed) after the last collection. */
  lastSize: number
  samples: number
}

export function heapBySpace(profile: GcProfile): SpaceStats[] {
  const by = new Map<string, { before: number; after: number; freed: number; n: number; lastSize: number; order: number }>()
  for (const e of profile.gc) {
    const after = new Map((e.after ?? []).map((s) => [s.name, s]))
    for (const b of e.before ?? []) {
      const a = after.get(b.name)
      if (!a) continue
      const used0 = Number(b.space_used_size ?? 0)
      const used1 = Number(a.space_used_size ?? 0)
      const s = by.get(b.name) ?? { before: 0, after: 0, freed: 0, n: 0, lastSize: 0, order: by.size }
      s.before += used0
      s.after += used1
      s.freed += Math.max(0, used0 - used1)
      s.n++
      s.lastSize = Number(a.space_size ?? 0)
      by.set(b.name, s)
    }
  }
  return [...by.entries()]
    .sort((x, y) => x[1].order - y[1].order)
    .map(([name, s]) => ({ name, avgBefore: s.n ? s.before / s.n : 0, avgAfter: s.n ? s.after / s.n : 0, freed: s.freed, lastSize: s.lastSize, samples: s.n }))
}
