// Loading, error and data of one request, aborted when the component goes away or the request is made again.
import { onBeforeUnmount, ref, shallowRef, type Ref } from 'vue'
import { ApiError, isAbort } from './client'

export interface Request<T> {
  data: Ref<T | undefined>
  loading: Ref<boolean>
  error: Ref<string | undefined>
  /** Runs the request again (aborting the one in flight). Resolves to the data, or undefined on failure. */
  run: () => Promise<T | undefined>
}

export function useRequest<T>(load: (signal: AbortSignal) => Promise<T>): Request<T> {
  const data = shallowRef<T>()
  const loading = ref(false)
  const error = ref<string>()
  let controller: AbortController | undefined
  onBeforeUnmount(() => controller?.abort())

  async function run() {
    controller?.abort()
    const mine = new AbortController()
    controller = mine
    loading.value = true
    error.value = undefined
    try {
      const value = await load(mine.signal)
      if (controller === mine) data.value = value
      return value
    } catch (e) {
      if (isAbort(e) || controller !== mine) return undefined
      error.value = e instanceof ApiError || e instanceof Error ? e.message : String(e)
      return undefined
    } finally {
      if (controller === mine) loading.value = false
    }
  }
  return { data, loading, error, run }
}

/** The message of any error, for toasts and dialogs. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}
