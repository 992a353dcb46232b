// Fetching a stored file for an in-browser analysis: GET file/download (the console sends the stored gzip with
// Content-Encoding: gzip, so the body arrives inflated). A refusal comes back as the JSON envelope {ok:false,message}
// with HTTP 200, a missing session as 401; both become an ApiError instead of being parsed as the file.
import { ApiError, refusalError, type Envelope } from '@/api/client'
import { href } from '@/base'
import type { FileType } from '@/api/types'

/** The name speedscope and the download see: the stored basename, ending with `.<type>` so importers recognise it. */
export function fileName(basename: string | undefined, fileType: string, fileId: number | string): string {
  const base = (basename || `${fileType}-${fileId}`).split(/[\\/]/).pop()!
  return base.toLowerCase().endsWith(`.${fileType}`) ? base : `${base}.${fileType}`
}

/** The download path under the base path; `name` (ignored by the console) makes the URL end with the file name. */
export function downloadUrl(fileType: FileType | 'executable', fileId: number | string, name?: string): string {
  const q = href(`file/download?fileType=${encodeURIComponent(fileType)}&fileId=${encodeURIComponent(String(fileId))}`)
  return name ? `${q}&name=${encodeURIComponent(name)}` : q
}

/**
 * speedscope's page with the profile URL (absolute, same origin: the session cookie goes along), a title, and the
 * left-heavy view (stacks merged: the flame graph people expect; time order and sandwich are a click away).
 */
export function speedscopeUrl(origin: string, fileType: FileType, fileId: number | string, name: string): string {
  const profile = origin + downloadUrl(fileType, fileId, name)
  return `${href('speedscope/index.html')}#profileURL=${encodeURIComponent(profile)}&title=${encodeURIComponent(name)}&view=left-heavy`
}

/** An envelope refusal in a JSON body, or undefined when the body is a file. */
export function envelopeError(body: unknown, status: number): ApiError | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined
  const b = body as { ok?: unknown; message?: unknown }
  if (b.ok === false) return refusalError({ ...b, message: typeof b.message === 'string' ? b.message : undefined } as Envelope, status)
  return undefined
}

export interface Progress {
  /** Bytes received so far (inflated). */
  loaded: number
  /** Bytes on the wire when the console said (compressed), else undefined. */
  total?: number
}

/** Downloads and parses a JSON file, reporting progress; throws ApiError on a refusal, a non-2xx or bad JSON. */
export async function fetchFileJson(url: string, signal: AbortSignal, onProgress?: (p: Progress) => void): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(url, { signal, credentials: 'same-origin' })
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e
    throw new ApiError(e instanceof Error ? e.message : String(e), 0)
  }
  const type = response.headers.get('content-type') ?? ''
  const length = Number(response.headers.get('content-length')) || undefined
  let text: string
  if (response.body && onProgress) {
    const reader = response.body.getReader()
    const decoder = new TextDecoder()
    const parts: string[] = []
    let loaded = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      loaded += value.byteLength
      parts.push(decoder.decode(value, { stream: true }))
      onProgress({ loaded, total: length })
    }
    parts.push(decoder.decode())
    text = parts.join('')
  } else {
    text = await response.text()
  }
  if (type.includes('text/html')) throw new ApiError(`HTTP ${response.status}: the console answered a page instead of the file`, response.status)
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    if (!response.ok) throw new ApiError(`HTTP ${response.status}`, response.status)
    throw new ApiError('the file is not valid JSON', response.status)
  }
  if (type.includes('json')) {
    const refusal = envelopeError(body, response.status)
    if (refusal) throw refusal
  }
  if (!response.ok) throw new ApiError(`HTTP ${response.status}`, response.status)
  return body
}
