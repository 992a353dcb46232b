import { describe, expect, it } from 'vitest'
import { savedTrends } from './trend'

describe('saved trend', () => {
  it('keeps the process trends that have a list', () => {
    const heap = { list: [{ time: 1, heap_used: 10 }], limit: 100 }
    expect(savedTrends({ heapTrend: heap, cpuTrend: { list: 'x' }, osCpuTrend: { list: [] }, other: 1 })).toEqual({ heapTrend: heap })
  })
  it('ignores what is not a trend map', () => {
    expect(savedTrends(null)).toEqual({})
    expect(savedTrends([{ heapTrend: { list: [] } }])).toEqual({})
    expect(savedTrends({ nodes: [] })).toEqual({})
  })
})
