// The team table's logic: the order of the rows and which buttons each row gets for the viewer.
import type { Member } from '@/api/types'

export type MemberAction = 'withdraw' | 'transfer' | 'remove' | 'leave'

/** Rows by status (owner, invited, joined), then by time (the original's order). */
export function sortMembers(list: readonly Member[]): Member[] {
  return [...list].sort((a, b) => a.status - b.status || (a.timestamp ?? 0) - (b.timestamp ?? 0))
}

/** The owner's id: the status-0 row's. Ids are compared as strings (the reply has numbers; types.ts says strings). */
export function ownerId(list: readonly Member[]): string | undefined {
  const owner = list.find((m) => m.status === 0)
  return owner === undefined ? undefined : String(owner.userId)
}

/** True when the viewer owns the app: `currentUserId` is the status-0 row's `userId`. */
export function viewerIsOwner(list: readonly Member[], currentUserId: string | number | undefined): boolean {
  const owner = ownerId(list)
  return owner !== undefined && currentUserId !== undefined && owner === String(currentUserId)
}

/** The buttons of one row: the owner withdraws invitations, hands over to or removes joined members; anyone else
 * may leave on their own row. */
export function memberActions(row: Member, list: readonly Member[], currentUserId: string | number | undefined): MemberAction[] {
  if (viewerIsOwner(list, currentUserId)) {
    if (row.status === 1) return ['withdraw']
    if (row.status === 2) return ['transfer', 'remove']
    return []
  }
  if (row.status !== 0 && currentUserId !== undefined && String(row.userId) === String(currentUserId)) return ['leave']
  return []
}

/** "nick (identity)" → its parts, for showing the identity apart; anything else is all nick. */
export function splitUserInfo(info: string): { nick: string; identity: string } {
  const m = /^(.*) \(([^()]*)\)$/.exec(info)
  return m ? { nick: m[1], identity: m[2] } : { nick: info, identity: '' }
}
