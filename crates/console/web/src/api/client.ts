// The one request wrapper. Every page calls `api` with literal paths (typed from schema.d.ts, generated from the
// console's OpenAPI document) and `unwrap()`s the original's envelope: {ok: true, data} → data; {ok: false, message}
// (HTTP 200, as the original answers refusals) or a non-2xx → one ApiError. A 401 sends the browser to the sign-in
// page with `next`. Non-GET requests echo the csrfToken cookie in x-csrf-token (only when the cookie exists).
import createClient, { type Middleware } from 'openapi-fetch'
import type { paths } from './schema'
import { basePath } from '@/base'
import { i18n } from '@/i18n'

export class ApiError extends Error {
  constructor(
    message: string,
    /** HTTP status, or 200 for an `{ok: false}` reply. */
    readonly status: number,
    /** The envelope's code (the original's 400/401/403/404) when present. */
    readonly code?: number,
    /** The console's stable reason key (crates/console/src/reasons.rs), when it gave one. */
    readonly reason?: string,
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

export interface Envelope {
  ok?: boolean
  data?: unknown
  message?: string
  code?: number
  reason?: string
  args?: Record<string, string>
}

/** The error of a refusal envelope: the reason translated into the current locale with its args, or the server's
 * message for a reason this UI does not know (an older or newer console, or the original one). */
export function refusalError(body: Envelope, status: number): ApiError {
  const reason = typeof body.reason === 'string' ? body.reason : undefined
  const key = `errors.${reason}`
  const args = typeof body.args === 'object' && body.args !== null ? body.args : {}
  const message = reason && i18n.global.te(key) ? i18n.global.t(key, args) : body.message || `HTTP ${status}`
  return new ApiError(message, status, typeof body.code === 'number' ? body.code : undefined, reason)
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
  throw refusalError(body, response.status)
}

/** True for the error an aborted request throws (a page that was left); such errors are not shown. */
export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError'
}
