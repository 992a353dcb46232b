import { describe, expect, it } from 'vitest'
import type { Member } from '@/api/types'
import { memberActions, sortMembers, splitUserInfo, viewerIsOwner } from './teamRows'

const m = (userId: number, status: number, timestamp: number): Member => ({ userId: userId as unknown as string, status, timestamp, userInfo: `u${userId} (${100000 + userId})` })
const list = [m(3, 2, 20), m(1, 0, 0), m(4, 1, 5), m(2, 2, 10)]

describe('team rows', () => {
  it('sorts by status then time', () => {
    expect(sortMembers(list).map((r) => r.userId)).toEqual([1, 4, 2, 3])
  })
  it('knows the owner whatever the id type', () => {
    expect(viewerIsOwner(list, 1)).toBe(true)
    expect(viewerIsOwner(list, '1')).toBe(true)
    expect(viewerIsOwner(list, 2)).toBe(false)
    expect(viewerIsOwner([], 1)).toBe(false)
  })
  it('gives the owner withdraw, transfer and remove', () => {
    expect(memberActions(list[2], list, 1)).toEqual(['withdraw'])
    expect(memberActions(list[0], list, 1)).toEqual(['transfer', 'remove'])
    expect(memberActions(list[1], list, 1)).toEqual([])
  })
  it('lets a member leave on their own row only', () => {
    expect(memberActions(list[0], list, 3)).toEqual(['leave'])
    expect(memberActions(list[3], list, 3)).toEqual([])
    expect(memberActions(list[1], list, 3)).toEqual([])
  })
  it('splits "nick (identity)"', () => {
    expect(splitUserInfo('Ann Lee (123456)')).toEqual({ nick: 'Ann Lee', identity: '123456' })
    expect(splitUserInfo('Unknown')).toEqual({ nick: 'Unknown', identity: '' })
  })
})
