// Loads a set of trend charts in parallel (one request per chart, as the original), again on each `run()`.
import { computed, reactive } from 'vue'
import type { TrendReply } from '@/api/types'
import { useRequest } from '@/api/useRequest'

export function useTrends<K extends string>(types: readonly K[], load: (type: K, signal: AbortSignal) => Promise<TrendReply>) {
  const requests = types.map((type) => [type, useRequest((signal) => load(type, signal))] as const)
  const trends = computed(() => Object.fromEntries(requests.map(([k, r]) => [k, r.data.value])) as Partial<Record<K, TrendReply>>)
  const loading = computed(() => Object.fromEntries(requests.map(([k, r]) => [k, r.loading.value])) as Partial<Record<K, boolean>>)
  const errors = computed(() => Object.fromEntries(requests.map(([k, r]) => [k, r.error.value])) as Partial<Record<K, string | undefined>>)
  return reactive({ trends, loading, errors, run: () => Promise.all(requests.map(([, r]) => r.run())) })
}
