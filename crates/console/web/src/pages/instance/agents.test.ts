import { describe, expect, it } from 'vitest'
import { agentOptions } from './agents'

describe('agent picker', () => {
  it('lists online agents first and marks offline ones', () => {
    const options = agentOptions([{ agentId: 'b', online: false }, { agentId: 'c' }, { agentId: 'a', online: true }], 'offline')
    expect(options).toEqual([
      { value: 'a', label: 'a' },
      { value: 'c', label: 'c' },
      { value: 'b', label: 'b (offline)' },
    ])
  })
})
