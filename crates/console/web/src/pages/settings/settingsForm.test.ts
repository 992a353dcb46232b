import { describe, expect, it } from 'vitest'
import { deletionConfirmed, masked, nameProblem } from './settingsForm'

describe('settings checks', () => {
  it('takes names of 1 to 30 code points, trimmed', () => {
    expect(nameProblem('  ', 'a')).toBe('empty')
    expect(nameProblem('应'.repeat(30), 'a')).toBeUndefined()
    expect(nameProblem('x'.repeat(31), 'a')).toBe('tooLong')
    expect(nameProblem('😀'.repeat(30), 'a')).toBeUndefined()
    expect(nameProblem(' demo ', 'demo')).toBe('same')
  })
  it('needs the exact name to delete', () => {
    expect(deletionConfirmed('demo', 'demo')).toBe(true)
    expect(deletionConfirmed(' demo ', 'demo')).toBe(true)
    expect(deletionConfirmed('Demo', 'demo')).toBe(false)
    expect(deletionConfirmed('', '')).toBe(false)
  })
  it('masks a secret without telling its exact length', () => {
    expect(masked('abc')).toHaveLength(8)
    expect(masked('x'.repeat(64))).toHaveLength(24)
  })
})
