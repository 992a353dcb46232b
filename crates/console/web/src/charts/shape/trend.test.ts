import { describe, expect, it } from 'vitest'
import { band, formatValue, processHealth, processSeries, systemSeries } from './trend'

const t0 = 1_764_547_200_000

describe('trend shaping', () => {
  it('plots cpu_15/30/60 and not cpu_now', () => {
    const s = processSeries('cpuTrend', { list: [{ time: t0, cpu_now: 9, cpu_15: 1, cpu_30: 2, cpu_60: 3 }] })
    expect(s.series.map((x) => x.key)).toEqual(['cpu_15', 'cpu_30', 'cpu_60'])
    expect(s.series[2].points).toEqual([[t0, 3]])
    expect(s.unit).toBe('percent')
  })
  it('keeps gaps as null and decodes numeric strings', () => {
    const s = processSeries('uvTrend', { list: [{ time: t0, active_handles: '12' as never }, { time: t0 + 60000, active_handles: null }] })
    expect(s.series[0].points).toEqual([[t0, 12], [t0 + 60000, null]])
  })
  it('switches GC milliseconds to seconds past 1000', () => {
    const s = processSeries('gcTrend', { list: [{ time: t0, scavenge_duration: 1500, marksweep_duration: 500, total_gc_duration: 2000 }] })
    expect(s.unit).toBe('s')
    expect(s.series[2].points[0][1]).toBe(2)
    expect(processSeries('gcTrend', { list: [{ time: t0, scavenge_duration: 15, marksweep_duration: 5, total_gc_duration: 20 }] }).unit).toBe('ms')
  })
  it('an empty or odd reply gives empty series, never a throw', () => {
    expect(processSeries('heapTrend', {} as never).series.every((s) => s.points.length === 0)).toBe(true)
    expect(systemSeries('diskUsageTrend', undefined).series).toEqual([])
  })
  it('draws one disk series per yAxis mount', () => {
    const s = systemSeries('diskUsageTrend', { list: [{ time: t0, '/': 40, '/data': 80 }], yAxis: ['/', '/data'] })
    expect(s.series.map((x) => [x.key, x.points[0][1]])).toEqual([['/', 40], ['/data', 80]])
  })
  it('bands health as the original', () => {
    expect([band(10), band(60), band(85), band(null)]).toEqual(['ok', 'warn', 'bad', 'none'])
    expect(processHealth('heapTrend', { list: [{ time: t0, heap_used: 90 }], limit: 100 })).toBe('bad')
    expect(processHealth('gcTrend', { list: [{ time: t0, scavenge_duration: 6000, marksweep_duration: 0 }] })).toBe('warn')
    expect(processHealth('qpsTrend', { list: [{ time: t0, qps: 1 }] })).toBe('none')
  })
  it('formats values in their unit', () => {
    expect(formatValue(50 * 1024 * 1024, 'bytes')).toBe('50 MB')
    expect(formatValue(12.345, 'percent')).toBe('12.35%')
    expect(formatValue(null, 'ms')).toBe('-')
  })
})
