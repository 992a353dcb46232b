// The administration page's data: the reply shapes of GET /xapi/admin/users and /xapi/admin/apps, a search over
// their texts, and what a failed call means to an administrator.
import { ApiError } from '@/api/client'

export interface AdminUser {
  userId: number
  account: string
  nick: string
  identity: string
  admin: boolean
  createdAt: number
}

export interface AdminApp {
  appId: number
  name: string
  ownerId: number
  ownerInfo: string
  /** Epoch ms; null for an app row written without a creation time. */
  createdAt: number | null
}

export type AdminTab = 'users' | 'apps'

export function tabOf(value: unknown): AdminTab {
  return value === 'apps' ? 'apps' : 'users'
}

/** Rows whose texts (ids included) contain every word of the search, case-insensitively. */
export function search<T extends object>(rows: readonly T[], query: string): T[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean)
  if (!words.length) return [...rows]
  return rows.filter((row) => {
    const text = Object.values(row)
      .filter((v) => typeof v === 'string' || typeof v === 'number')
      .join(' ')
      .toLowerCase()
    return words.every((w) => text.includes(w))
  })
}

/** 'missing' when the console has no such route (an older console), 'forbidden' when the viewer is not an
 * administrator after all, else 'failed'. */
export function failureKind(e: unknown): 'missing' | 'forbidden' | 'failed' {
  if (e instanceof ApiError) {
    if (e.status === 404 || e.code === 404) return 'missing'
    if (e.status === 403 || e.code === 403) return 'forbidden'
  }
  return 'failed'
}
