// A saved trend file: the JSON map of /xapi/process_trend replies ({heapTrend: {list, limit, extra}, …}); only the
// nine process trends with a list are kept, so a foreign JSON file shows "no trend data" instead of broken charts.
import type { TrendReply } from '@/api/types'
import { PROCESS_TRENDS, type ProcessTrendType } from '@/charts/shape/trend'

export function savedTrends(saved: unknown): Partial<Record<ProcessTrendType, TrendReply>> {
  const out: Partial<Record<ProcessTrendType, TrendReply>> = {}
  if (typeof saved !== 'object' || saved === null || Array.isArray(saved)) return out
  for (const type of PROCESS_TRENDS) {
    const reply = (saved as Record<string, unknown>)[type] as TrendReply | undefined
    if (reply && typeof reply === 'object' && Array.isArray(reply.list)) out[type] = reply
  }
  return out
}
