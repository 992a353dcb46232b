import { describe, expect, it } from 'vitest'
import { mergeQuery } from './query'

describe('query state', () => {
  it('merges, removes empty values and drops non-string entries', () => {
    expect(mergeQuery({ tab: 'system', page: '2', list: ['a'] }, { page: undefined, agentId: 'x', file: '' })).toEqual({ tab: 'system', agentId: 'x' })
  })
})
