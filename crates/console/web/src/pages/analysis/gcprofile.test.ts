import { describe, expect, it } from 'vitest'
import { bucketLabel, bucketOf, gcSummary, heapBySpace, isGcProfile, pauseDistribution, pausesByType, type GcProfile } from './gcprofile'

const space = (name: string, used: number, size = 1000) => ({ name, space_size: size, space_used_size: used, space_available_size: size - used, physical_space_size: size })
// Shaped like xprofiler's GC trace: seconds for start/stopTime, ms for each collection.
const trace: GcProfile = {
  startTime: 1700000000,
  stopTime: 1700000010,
  gc: [
    { type: 'scavenge', start: 100, end: 100.5, timeFromStart: 100, before: [space('new_space', 900), space('old_space', 400)], after: [space('new_space', 100), space('old_space', 420)] },
    { type: 'scavenge', start: 200, end: 201.5, timeFromStart: 200, before: [space('new_space', 800), space('old_space', 420)], after: [space('new_space', 200), space('old_space', 430)] },
    { type: 'marksweep', start: 300, end: 330, timeFromStart: 300, before: [space('new_space', 300), space('old_space', 900)], after: [space('new_space', 300), space('old_space', 300, 800)] },
    { type: 'marking', start: 400, end: 400, timeFromStart: 400 },
  ],
}

describe('gc trace', () => {
  it('recognises a trace', () => {
    expect(isGcProfile(trace)).toBe(true)
    expect(isGcProfile({ nodes: [] })).toBe(false)
  })
  it('sums pauses by type', () => {
    expect(pausesByType(trace)).toEqual([
      { type: 'marksweep', count: 1, total: 30, avg: 30, max: 30, share: 30 / 32 },
      { type: 'scavenge', count: 2, total: 2, avg: 1, max: 1.5, share: 2 / 32 },
      { type: 'marking', count: 1, total: 0, avg: 0, max: 0, share: 0 },
    ])
  })
  it('summarises the trace', () => {
    expect(gcSummary(trace)).toEqual({ duration: 10, count: 4, totalPause: 32, maxPause: 30, pauseShare: 32 / 10000 })
    expect(gcSummary({ gc: [] })).toEqual({ duration: undefined, count: 0, totalPause: 0, maxPause: 0, pauseShare: undefined })
  })
  it('buckets the pauses', () => {
    expect(bucketOf(0.5)).toBe(0)
    expect(bucketOf(1)).toBe(1)
    expect(bucketOf(30)).toBe(5)
    expect(bucketOf(1000)).toBe(7)
    expect(bucketLabel(0)).toBe('< 1 ms')
    expect(bucketLabel(7)).toBe('≥ 100 ms')
    const d = pauseDistribution(trace)
    expect(d.labels).toHaveLength(8)
    expect(d.series.map((s) => s.type)).toEqual(['marksweep', 'scavenge', 'marking'])
    expect(d.series[1].counts).toEqual([1, 1, 0, 0, 0, 0, 0, 0])
    expect(d.series[0].counts[5]).toBe(1)
  })
  it('compares heap spaces before and after', () => {
    expect(heapBySpace(trace)).toEqual([
      { name: 'new_space', avgBefore: 2000 / 3, avgAfter: 200, freed: 800 + 600, lastSize: 1000, samples: 3 },
      { name: 'old_space', avgBefore: 1720 / 3, avgAfter: 1150 / 3, freed: 600, lastSize: 800, samples: 3 },
    ])
  })
})
