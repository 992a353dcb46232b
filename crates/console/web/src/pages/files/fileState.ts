// The files page's state machine (../shared/reference/xui-contract.md §7.1), kept pure so it is tested on its own:
// which buttons a row shows for its status and type, which rows the 1 s poll asks about, and how a file_status reply
// (or a failed one) updates the rows.
import type { FileRow, FileType } from '@/api/types'

export const FILE_TYPES: FileType[] = ['cpuprofile', 'heapprofile', 'gcprofile', 'heapsnapshot', 'diag', 'trend', 'core']
export type FilterType = 'all' | FileType | 'favor'
export const FILTER_TYPES: FilterType[] = ['all', ...FILE_TYPES, 'favor']
export const PAGE_SIZE = 10

export const Status = {
  generating: 0,
  generated: 1,
  transferring: 2,
  transferred: 3,
  failed: 99,
  /** Client only: the status check failed while the row was generating. */
  checkFailedGenerating: 998,
  /** Client only: the status check failed while the row was transferring. */
  checkFailedTransferring: 999,
} as const

/** Types the Analyse button opens a view for (heapsnapshot opens the download page with the note). */
export const ANALYSABLE: FileType[] = ['cpuprofile', 'heapprofile', 'gcprofile', 'heapsnapshot', 'diag', 'trend']

export function parseFilter(value: unknown): FilterType {
  return typeof value === 'string' && (FILTER_TYPES as string[]).includes(value) ? (value as FilterType) : 'all'
}

export function parsePage(value: unknown): number {
  const n = typeof value === 'string' ? Number(value) : NaN
  return Number.isInteger(n) && n >= 1 ? n : 1
}

/** The last page that has rows (at least 1): a page past the end after a delete is clamped to it. */
export function lastPage(count: number, pageSize = PAGE_SIZE): number {
  return Math.max(1, Math.ceil(count / pageSize))
}

export type StatusBadge = 'generating' | 'generated' | 'transferred' | 'failed' | 'unknown'
export type TransferButton =
  | { kind: 'transfer'; enabled: boolean }
  | { kind: 'transferring' }
  | { kind: 'retransfer' }
  | { kind: 'transferFailed' }
  | { kind: 'none' }

export interface RowActions {
  /** The status badge; `unknown` (998) is clickable: back to generating and polled again. */
  badge: StatusBadge
  transfer: TransferButton
  /** Analyse, download and favourite are usable only once the file is in the console's storage. */
  ready: boolean
  analyse: boolean
  /** The core row's executable link is usable at status 3. */
  executable: boolean
}

export function rowActions(row: Pick<FileRow, 'status' | 'fileType' | 'agent'>): RowActions {
  const ready = row.status === Status.transferred
  const analysable = ANALYSABLE.includes(row.fileType)
  let badge: StatusBadge = 'generated'
  let transfer: TransferButton = { kind: 'transfer', enabled: false }
  switch (row.status) {
    case Status.generating:
      badge = 'generating'
      break
    case Status.generated:
      transfer = { kind: 'transfer', enabled: true }
      break
    case Status.transferring:
      transfer = { kind: 'transferring' }
      break
    case Status.transferred:
      badge = 'transferred'
      transfer = row.agent === 'upload' || row.fileType === 'trend' ? { kind: 'none' } : { kind: 'retransfer' }
      break
    case Status.failed:
      badge = 'failed'
      break
    case Status.checkFailedGenerating:
      badge = 'unknown'
      break
    case Status.checkFailedTransferring:
      transfer = { kind: 'transferFailed' }
      break
    default:
      badge = 'unknown'
  }
  return { badge, transfer, ready, analyse: ready && analysable, executable: ready && row.fileType === 'core' }
}

/** Rows the poll asks about: those generating or transferring. */
export function isWaiting(status: number): boolean {
  return status === Status.generating || status === Status.transferring
}

export interface StatusQuery {
  fileId: number
  fileType: FileType
  status: number
  index: number
}

export function statusQuery(rows: readonly FileRow[]): StatusQuery[] {
  return rows.flatMap((r, index) => (isWaiting(r.status) ? [{ fileId: r.fileId, fileType: r.fileType, status: r.status, index }] : []))
}

/**
 * Applies a file_status reply. Rows are matched by index and, to be safe against a list that changed meanwhile, by
 * fileId and fileType when the reply carries them. Returns new rows (unchanged rows keep their identity).
 */
export function applyStatus(
  rows: readonly FileRow[],
  reply: readonly { index: number; status: number; fileId?: number; fileType?: string }[],
): FileRow[] {
  const next = rows.slice()
  for (const item of reply) {
    const row = next[item.index]
    if (!row || typeof item.status !== 'number') continue
    if (item.fileId !== undefined && item.fileId !== row.fileId) continue
    if (item.fileType !== undefined && item.fileType !== row.fileType) continue
    if (row.status !== item.status) next[item.index] = { ...row, status: item.status }
  }
  return next
}

/** A failed status check: rows that were asked about become 998 (were generating) or 999 (were transferring). */
export function applyStatusFailure(rows: readonly FileRow[], asked: readonly StatusQuery[]): FileRow[] {
  const next = rows.slice()
  for (const q of asked) {
    const row = next[q.index]
    if (!row || row.fileId !== q.fileId || row.status !== q.status) continue
    const failed = row.status === Status.generating ? Status.checkFailedGenerating : Status.checkFailedTransferring
    next[q.index] = { ...row, status: failed }
  }
  return next
}

/** The status a row takes when its unknown (998) badge is clicked (polled again), or a transfer starts. */
export function withStatus(rows: readonly FileRow[], index: number, status: number): FileRow[] {
  const next = rows.slice()
  if (next[index]) next[index] = { ...next[index], status }
  return next
}

// Uploads: the extension decides the type (the original lets it override the chosen type); core takes two files.
const EXTENSIONS: Record<string, FileType> = {
  cpuprofile: 'cpuprofile',
  heapprofile: 'heapprofile',
  gcprofile: 'gcprofile',
  heapsnapshot: 'heapsnapshot',
  diag: 'diag',
  trend: 'trend',
}

/** The type an uploaded file's name stands for, or undefined when its extension is not one of the profile types. */
export function typeOfFileName(name: string): FileType | undefined {
  const m = /\.([A-Za-z]+)$/.exec(name)
  return m ? EXTENSIONS[m[1].toLowerCase()] : undefined
}

/** A core upload is two files: the dump (`.core`) and the executable it came from (`.node`), as the console checks. */
export function isCoreName(name: string): boolean {
  return /\.core$/i.test(name)
}

export function isExecutableName(name: string): boolean {
  return /\.node$/i.test(name)
}

/** Download URL of a stored file (relative to the base path; pass it through href()). */
export function downloadPath(fileType: FileType | 'executable', fileId: number, name?: string): string {
  const q = `file/download?fileType=${encodeURIComponent(fileType)}&fileId=${fileId}`
  return name ? `${q}&name=${encodeURIComponent(name)}` : q
}
