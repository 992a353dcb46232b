import { describe, expect, it } from 'vitest'
import { dependencyRows, riskLevel } from './modules'

describe('modules', () => {
  it('joins lock versions and puts risky modules first', () => {
    const rows = dependencyRows(
      { dependencies: { b: '^1.0.0', a: '~2.0.0' }, devDependencies: { c: '*' }, lockModule: { a: { version: '2.0.3' } } },
      false,
      { b: [{ severity: 'low', name: 'x', url: 'u' }, { severity: 'high', name: 'y', url: 'u' }] },
    )
    expect(rows.map((r) => [r.name, r.version, r.severity])).toEqual([['b', undefined, 'high'], ['a', '2.0.3', undefined]])
  })
  it('lists dev dependencies when asked', () => {
    expect(dependencyRows({ dependencies: {}, devDependencies: { c: '*' }, lockModule: {} }, true).map((r) => r.name)).toEqual(['c'])
  })
  it('colours the banner by the worst finding', () => {
    expect(riskLevel({ vulnerabilities: { critical: 0, high: 1 } })).toBe('high')
    expect(riskLevel({ vulnerabilities: { moderate: 2 } })).toBe('moderate')
    expect(riskLevel({ vulnerabilities: {} })).toBe('none')
  })
})
