// The browser upload (POST /xapi/upload_file?appId&fileType, multipart parts named `file`; a core sends the dump then
// the executable). openapi-fetch does not do multipart with progress, so this is an XMLHttpRequest that echoes the
// CSRF cookie like the API wrapper does and reads the same envelope.
import { ApiError, csrfToken, refusalError, type Envelope } from '@/api/client'
import { href } from '@/base'
import type { FileType } from '@/api/types'

export interface UploadOptions {
  appId: number
  fileType: FileType
  files: File[]
  onProgress?: (fraction: number) => void
  signal?: AbortSignal
}

export function uploadFiles({ appId, fileType, files, onProgress, signal }: UploadOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const form = new FormData()
    for (const f of files) form.append('file', f, f.name)
    const xhr = new XMLHttpRequest()
    xhr.open('POST', href(`xapi/upload_file?appId=${appId}&fileType=${encodeURIComponent(fileType)}`))
    const token = csrfToken()
    if (token) xhr.setRequestHeader('x-csrf-token', token)
    xhr.setRequestHeader('accept', 'application/json')
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total)
    }
    xhr.onload = () => {
      let body: Envelope | undefined
      try {
        body = JSON.parse(xhr.responseText)
      } catch {
        body = undefined
      }
      if (xhr.status >= 200 && xhr.status < 300 && body?.ok) resolve()
      else reject(body ? refusalError(body, xhr.status) : new ApiError(`HTTP ${xhr.status}`, xhr.status))
    }
    xhr.onerror = () => reject(new ApiError('network error', 0))
    xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'))
    signal?.addEventListener('abort', () => xhr.abort())
    xhr.send(form)
  })
}
