// The app card's status dots and counters, as the original shows them.

/** Status 0 grey (no data), 1 green, 2 orange, anything else red. */
export function eggClass(status: number): string {
  if (status === 0) return 'egg-idle'
  if (status === 1) return 'egg-ok'
  if (status === 2) return 'egg-warn'
  return 'egg-bad'
}

/** A counter: numbers as they are (over 9999 as "12.3K"), anything else "-". */
export function compactCount(value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '-'
  if (value > 9999) return `${(value / 1000).toFixed(1)}K`
  return String(value)
}
