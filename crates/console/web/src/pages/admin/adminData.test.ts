import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/client'
import { failureKind, search, tabOf, type AdminUser } from './adminData'

const users: AdminUser[] = [
  { userId: 1, account: 'admin@localhost', nick: 'admin', identity: '100001', admin: true, createdAt: 1 },
  { userId: 2, account: 'bob@example.com', nick: 'Bob Li', identity: '654321', admin: false, createdAt: 2 },
]

describe('admin data', () => {
  it('searches every text and id, all words', () => {
    expect(search(users, '').length).toBe(2)
    expect(search(users, 'BOB').map((u) => u.userId)).toEqual([2])
    expect(search(users, '654321').map((u) => u.userId)).toEqual([2])
    expect(search(users, 'bob admin')).toEqual([])
    expect(search(users, ' localhost ').map((u) => u.userId)).toEqual([1])
  })
  it('reads the tab', () => {
    expect(tabOf('apps')).toBe('apps')
    expect(tabOf(undefined)).toBe('users')
    expect(tabOf('x')).toBe('users')
  })
  it('tells a missing route from a refusal', () => {
    expect(failureKind(new ApiError('x', 404))).toBe('missing')
    expect(failureKind(new ApiError('x', 200, 404))).toBe('missing')
    expect(failureKind(new ApiError('x', 200, 403))).toBe('forbidden')
    expect(failureKind(new ApiError('x', 500))).toBe('failed')
    expect(failureKind(new Error('x'))).toBe('failed')
  })
})
