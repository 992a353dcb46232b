// The real profile captured from xprofiler 3.1.0 (../shared/fixtures).
import raw from '../../../../../../../shared/fixtures/xtransit-3.1.0/artifacts/sample.cpuprofile?raw'
import { describe, expect, it } from 'vitest'
import { cpuSelfTimes, cpuTopFunctions, filterRows, heapTopAllocations, isCpuProfile, isHeapProfile, location, type CpuProfile, type HeapProfile } from './profile'

const fixture = JSON.parse(raw) as CpuProfile
const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0 })

describe('cpu profile', () => {
  it('recognises the fixture', () => {
    expect(isCpuProfile(fixture)).toBe(true)
    expect(isHeapProfile(fixture)).toBe(false)
  })
  it('spreads the whole duration over the samples', () => {
    const self = cpuSelfTimes(fixture)
    const sum = [...self.values()].reduce((a, b) => a + b, 0)
    const first = fixture.startTime + fixture.timeDeltas![0]
    expect(sum).toBeCloseTo(fixture.endTime - first, 0)
  })
  it('ranks the functions of the real profile', () => {
    const { rows, whole, samples } = cpuTopFunctions(fixture)
    expect(samples).toBe(fixture.samples!.length)
    expect(rows.find((r) => r.name === '(root)')).toBeUndefined()
    expect(rows[0].self).toBeGreaterThanOrEqual(rows[1].self)
    expect(rows.reduce((a, r) => a + r.self, 0)).toBeCloseTo(whole, 3)
    const idle = rows.find((r) => r.name === '(idle)')!
    expect(idle.self).toBeGreaterThan(0)
    expect(idle.total).toBeCloseTo(idle.self, 6)
    for (const r of rows) {
      expect(r.total).toBeGreaterThanOrEqual(r.self - 1e-6)
      expect(r.totalShare).toBeLessThanOrEqual(1 + 1e-9)
    }
    const app = rows.filter((r) => r.url === '/srv/demo/app.js')
    expect(app.length).toBeGreaterThan(0)
    expect(app.every((r) => r.line >= 1)).toBe(true)
  })
  it('counts a recursive function once in its total', () => {
    // root → a → a → b; samples: b for 10, a (inner) for 5
    const p: CpuProfile = {
      startTime: 0,
      endTime: 20,
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2] },
        { id: 2, callFrame: frame('a', 'x.js', 1), children: [3] },
        { id: 3, callFrame: frame('a', 'x.js', 1), children: [4] },
        { id: 4, callFrame: frame('b', 'x.js', 9) },
      ],
      samples: [4, 3, 4],
      timeDeltas: [0, 10, 5],
    }
    const { rows, whole } = cpuTopFunctions(p)
    expect(whole).toBe(20)
    const a = rows.find((r) => r.name === 'a')!
    const b = rows.find((r) => r.name === 'b')!
    expect(a).toMatchObject({ self: 5, total: 20, line: 2 })
    expect(b).toMatchObject({ self: 15, total: 15, line: 10 })
    expect(location(b)).toBe('x.js:10:1')
  })
  it('falls back to hit counts without timings', () => {
    const p: CpuProfile = { startTime: 0, endTime: 100, nodes: [{ id: 1, callFrame: frame('(root)'), children: [2] }, { id: 2, callFrame: frame('f'), hitCount: 4 }] }
    expect(cpuTopFunctions(p).rows[0]).toMatchObject({ name: 'f', self: 100, total: 100, selfShare: 1 })
  })
})

describe('heap profile', () => {
  it('sums self and total bytes', () => {
    const p: HeapProfile = {
      head: { id: 1, selfSize: 0, callFrame: frame('(root)'), children: [
        { id: 2, selfSize: 100, callFrame: frame('alloc', 'a.js', 4), children: [{ id: 3, selfSize: 50, callFrame: frame('', 'a.js', 8) }] },
      ] },
      samples: [{ size: 100, nodeId: 2 }],
    }
    expect(isHeapProfile(p)).toBe(true)
    const { rows, whole } = heapTopAllocations(p)
    expect(whole).toBe(150)
    expect(rows.map((r) => [r.name, r.self, r.total])).toEqual([['alloc', 100, 150], ['(anonymous)', 50, 50]])
  })
})

describe('table', () => {
  it('searches name and url and sorts', () => {
    const { rows } = cpuTopFunctions(fixture)
    expect(filterRows(rows, 'APP.JS').every((r) => r.url.includes('app.js') || r.name.toLowerCase().includes('app.js'))).toBe(true)
    const byTotal = filterRows(rows, '', 'total')
    expect(byTotal[0].total).toBeGreaterThanOrEqual(byTotal[byTotal.length - 1].total)
    const byName = filterRows(rows, '', 'name', false)
    expect(byName[0].name.localeCompare(byName[1].name)).toBeLessThanOrEqual(0)
    expect(filterRows(rows, 'no-such-function')).toEqual([])
  })
})
