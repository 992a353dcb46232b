// Page state kept in the query string (filters, tabs, pages, selections), as the original front-end does.
import { useRoute, useRouter } from 'vue-router'

/** Merges `patch` into the current query (undefined or '' removes a key) and replaces the history entry. */
export function mergeQuery(query: Record<string, unknown>, patch: Record<string, string | undefined>): Record<string, string> {
  const next: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...query, ...patch })) if (typeof v === 'string' && v !== '') next[k] = v
  return next
}

export function useQueryPatch() {
  const route = useRoute()
  const router = useRouter()
  return (patch: Record<string, string | undefined>) => router.replace({ query: mergeQuery(route.query, patch) })
}
