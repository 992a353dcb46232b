// Who is signed in: fetched once per page load (as the original front-end does), cleared at sign-out.
import { shallowRef } from 'vue'
import { api, unwrap } from '@/api/client'
import type { User } from '@/api/types'

export const currentUser = shallowRef<User | null>(null)
let pending: Promise<User | null> | null = null

export function loadUser(): Promise<User | null> {
  pending ??= unwrap<User>(api.GET('/xapi/user'))
    .then((u) => (currentUser.value = u))
    .catch(() => {
      pending = null
      return (currentUser.value = null)
    })
  return pending
}

export async function signOut() {
  await unwrap(api.POST('/xapi/signout')).catch(() => undefined)
  currentUser.value = null
  pending = null
}

export function forgetUser() {
  currentUser.value = null
  pending = null
}
