// Process rows as /xapi/xprofiler_processes gives them.
import type { XprofilerProcess } from '@/api/types'

export const ACTIONS = ['cpuprofile', 'heapprofile', 'gcprofile', 'heapsnapshot', 'diag', 'core'] as const
export type Action = (typeof ACTIONS)[number]

/** A row with an empty command is a process that has exited (the original greys it). */
export function isAlive(p: Pick<XprofilerProcess, 'cmd'>): boolean {
  return typeof p.cmd === 'string' && p.cmd.trim() !== ''
}

/** Percentages arrive as numbers or numeric strings. */
export function pct(v: number | string | null | undefined): number | null {
  if (v === null || v === undefined || v === '') return null
  const n = Number(v)
  return Number.isFinite(n) ? n : null
}
