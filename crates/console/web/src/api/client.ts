// The one request wrapper. Every page calls `api` with literal paths (typed from schema.d.ts, generated from the
// console's OpenAPI document) and `unwrap()`s the original's envelope: {ok: true, data} → data; {ok: false, message}
// (HTTP 200, as the original answers refusals) or a non-2xx → one ApiError. A 401 sends the browser to the sign-in
// page with `next`. Non-GET requests echo the csrfToken cookie in x-csrf-token (only when the cookie exists).
import createClient, { type Middleware } from 'openapi-fetch'
import type { paths } from './schema'
import { basePath } from '@/base'

export class ApiError extends Error {
  constructor(
    message: string,
    /** HTTP status, or 200 for an `{ok: false}` reply. */
    readonly status: number,
    /** The envelope's code (the original's 400/401/403/404) when present. */
    readonly code?: number,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export function csrfToken(): string | undefined {
  if (typeof document === 'undefined') return undefined
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=')
    if (name === 'csrfToken') return decodeURIComponent(rest.join('='))
  }
  return undefined
}

let onUnauthorized: () => void = () => {}
/** What to do when the session is gone (set by the router: go to the sign-in page with `next`). */
export function setUnauthorizedHandler(handler: () => void) {
  onUnauthorized = handler
}

const session: Middleware = {
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const token = csrfToken()
      if (token) request.headers.set('x-csrf-token', token)
    }
    request.headers.set('accept', 'application/json')
    return request
  },
  onResponse({ response }) {
    if (response.status === 401) onUnauthorized()
    return response
  },
}

export const api = createClient<paths>({ baseUrl: basePath().replace(/\/$/, '') })
api.use(session)

interface Envelope {
  ok?: boolean
  data?: unknown
  message?: string
  code?: number
}

/** The data of an answer, or an ApiError. `T` is the reply shape the page reads (see types.ts). */
export async function unwrap<T>(call: Promise<{ data?: unknown; error?: unknown; response: Response }>): Promise<T> {
  let result
  try {
    result = await call
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e
    throw new ApiError(e instanceof Error ? e.message : String(e), 0)
  }
  const { response } = result
  const body = (result.data ?? result.error) as Envelope | string | undefined
  const type = response.headers.get('content-type') ?? ''
  if (!type.includes('json') || typeof body !== 'object' || body === null) {
    throw new ApiError(`HTTP ${response.status}: the console answered ${type || 'nothing'} instead of JSON`, response.status)
  }
  if (response.ok && body.ok) return (body.data ?? {}) as T
  if (body.code === 401 || response.status === 401) onUnauthorized()
  throw new ApiError(body.message || `HTTP ${response.status}`, response.status, body.code)
}

/** True for the error an aborted request throws (a page that was left); such errors are not shown. */
export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError'
}
