import { describe, expect, it } from 'vitest'
import { compactCount, eggClass } from './eggs'

describe('app card', () => {
  it('colours dots as the original', () => {
    expect([0, 1, 2, 3, 7].map(eggClass)).toEqual(['egg-idle', 'egg-ok', 'egg-warn', 'egg-bad', 'egg-bad'])
  })
  it('shows counters as the original', () => {
    expect(compactCount(12)).toBe('12')
    expect(compactCount(12345)).toBe('12.3K')
    expect(compactCount(false)).toBe('-')
    expect(compactCount('-')).toBe('-')
  })
})
