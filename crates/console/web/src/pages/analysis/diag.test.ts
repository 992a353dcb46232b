import { describe, expect, it } from 'vitest'
// The real report captured from xprofiler 3.1.0 (../shared/fixtures).
import raw from '../../../../../../../shared/fixtures/xtransit-3.1.0/artifacts/sample.diag?raw'
import { envPairs, filterHandles, frameText, handleTypes, heapTotals, isDiagReport, otherSystem, overview, stackLines, truthy, usedShare, type DiagReport } from './diag'

const report = JSON.parse(raw) as DiagReport

describe('diagnostic report', () => {
  it('recognises the fixture', () => {
    expect(isDiagReport(report)).toBe(true)
    expect(isDiagReport({ gc: [] })).toBe(false)
    expect(isDiagReport([])).toBe(false)
  })
  it('lists the overview', () => {
    const o = overview(report)
    expect(o.find((r) => r.key === 'pid')?.value).toBe('30876')
    expect(o.find((r) => r.key === 'nodeVersion')?.value).toBe('v20.20.2')
    expect(o.find((r) => r.key === 'thread')?.value).toBe('0')
    expect(o.map((r) => r.key)).toContain('dumpTime')
  })
  it('counts and filters the libuv handles', () => {
    const types = handleTypes(report.libuvHandles)
    expect(types.reduce((n, t) => n + t.count, 0)).toBe(report.libuvHandles!.length)
    expect(types.map((t) => t.type)).toContain('timer')
    expect(types[0].count).toBeGreaterThanOrEqual(types[types.length - 1].count)
    const timers = filterHandles(report.libuvHandles, 'timer')
    expect(timers.length).toBe(types.find((t) => t.type === 'timer')!.count)
    expect(timers.every((h) => h.type === 'timer')).toBe(true)
    expect(filterHandles(report.libuvHandles, null, 'timeout in').every((h) => h.detail?.includes('timeout in'))).toBe(true)
    expect(filterHandles(report.libuvHandles, null)).toHaveLength(report.libuvHandles!.length)
    expect(truthy(1)).toBe(true)
    expect(truthy(0)).toBe(false)
  })
  it('reads the system section', () => {
    expect(envPairs(report.system?.env)).toContainEqual({ name: 'APP_MS', value: '40000' })
    expect(envPairs(['A=b=c', 'X'])).toEqual([{ name: 'A', value: 'b=c' }, { name: 'X', value: '' }])
    expect(report.system?.resourceLimits?.[0]).toMatchObject({ type: 'core file size (blocks)', softLimit: '0' })
    expect(otherSystem(report.system).map((r) => r.key)).not.toContain('env')
  })
  it('orders the heap totals and measures spaces', () => {
    expect(heapTotals(report.heapStatistics).map((r) => r.key)).toEqual(['heapTotal', 'heapTotalCommitted', 'heapTotalUsed', 'heapTotalAvailable', 'heapLimit'])
    const old = report.heapSpaceStatistics!.find((s) => s.name === 'old_space')!
    expect(usedShare(old)).toBeGreaterThan(0)
    expect(usedShare({ used: 1, size: 0 })).toBe(0)
  })
  it('prints stack frames of any shape', () => {
    expect(stackLines(report.jsStacks)).toEqual([])
    expect(frameText('at foo (a.js:1:2)')).toBe('at foo (a.js:1:2)')
    expect(frameText({ name: 'foo', script: 'a.js', line: 3, column: 4 })).toBe('foo (a.js:3:4)')
    expect(frameText({ pc: '0x1', symbol: 'uv_run' })).toBe('0x1  uv_run')
    // xprofiler's own shapes
    expect(frameText({ pcAddress: 'nullptr', functionName: 'handle', scriptName: '/srv/app.js', lineNumber: 12, column: 5, frameType: 'userjs' })).toBe('handle (/srv/app.js:12:5)')
    expect(frameText({ pcAddress: '0x7f', functionName: 'anonymous', scriptName: 'x.js', lineNumber: 1, column: 1, frameType: 'eval' })).toBe('0x7f  anonymous (x.js:1:1) [eval]')
    expect(frameText({ pcAddress: '0x55d0', symbolName: 'uv_run', sharedObjectName: '/usr/bin/node' })).toBe('0x55d0  uv_run (/usr/bin/node)')
    expect(frameText({ other: 1 })).toBe('{"other":1}')
  })
})
