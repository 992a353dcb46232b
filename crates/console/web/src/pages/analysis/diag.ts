// The xprofiler diagnostic report (diag): the parts the tabs show, read defensively (fields differ between xprofiler
// versions; stacks are empty in a report asked for while the process was idle).

export interface DiagHandle {
  type: string
  address?: string
  hasRef?: number | boolean
  isActive?: number | boolean
  detail?: string
}

export interface DiagReport {
  pid?: number
  thread_id?: number
  location?: string
  message?: string
  nodeVersion?: string
  osVersion?: string
  loadTime?: string
  dumpTime?: string
  vmState?: string
  jsStacks?: unknown[]
  nativeStacks?: unknown[]
  heapStatistics?: Record<string, number>
  heapSpaceStatistics?: { name: string; size?: number; committed?: number; capacity?: number; used?: number; available?: number }[]
  libuvHandles?: DiagHandle[]
  system?: {
    env?: string[]
    resourceLimits?: { type: string; softLimit: string | number; hardLimit: string | number }[]
    loadedLibraries?: string[]
    [key: string]: unknown
  }
}

export function isDiagReport(value: unknown): value is DiagReport {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const v = value as DiagReport
  return 'libuvHandles' in v || 'heapStatistics' in v || 'jsStacks' in v || ('nodeVersion' in v && 'pid' in v)
}

export type OverviewKey = 'pid' | 'thread' | 'nodeVersion' | 'osVersion' | 'loadTime' | 'dumpTime' | 'vmState' | 'location' | 'message'

export function overview(d: DiagReport): { key: OverviewKey; value: string }[] {
  const rows: [OverviewKey, unknown][] = [
    ['pid', d.pid],
    ['thread', d.thread_id],
    ['nodeVersion', d.nodeVersion],
    ['osVersion', d.osVersion],
    ['loadTime', d.loadTime],
    ['dumpTime', d.dumpTime],
    ['vmState', d.vmState],
    ['location', d.location],
    ['message', d.message],
  ]
  return rows.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([key, v]) => ({ key, value: String(v) }))
}

/**
 * One stack frame as a line. xprofiler writes JS frames as {pcAddress, functionName, scriptName, lineNumber, column,
 * frameType} and native ones as {pcAddress, symbolName, sharedObjectName}; other shapes fall back to usual field
 * names, a string stays as is, anything else is shown as JSON.
 */
export function frameText(frame: unknown): string {
  if (typeof frame === 'string') return frame
  if (typeof frame !== 'object' || frame === null) return String(frame)
  const f = frame as Record<string, unknown>
  const name = f.functionName ?? f.symbolName ?? f.name ?? f.symbol ?? f.function
  const where = f.scriptName ?? f.sharedObjectName ?? f.script ?? f.url ?? f.file ?? f.fileName
  const line = f.lineNumber ?? f.line
  const column = f.column ?? f.columnNumber
  const pc = f.pcAddress ?? f.pc ?? f.address
  if (name === undefined && where === undefined && pc === undefined) return JSON.stringify(frame)
  let text = name !== undefined && name !== '' ? String(name) : '(anonymous)'
  if (where) text += ` (${where}${line !== undefined ? `:${line}` : ''}${column !== undefined ? `:${column}` : ''})`
  if (pc !== undefined && pc !== 'nullptr' && pc !== '') text = `${pc}  ${text}`
  if (typeof f.frameType === 'string' && !['unknown', 'userjs'].includes(f.frameType)) text += ` [${f.frameType}]`
  return text
}

export function stackLines(frames: unknown[] | undefined): string[] {
  return Array.isArray(frames) ? frames.map(frameText) : []
}

/** Handle counts by type, most first. */
export function handleTypes(handles: readonly DiagHandle[] | undefined): { type: string; count: number }[] {
  const by = new Map<string, number>()
  for (const h of handles ?? []) by.set(h.type, (by.get(h.type) ?? 0) + 1)
  return [...by.entries()].map(([type, count]) => ({ type, count })).sort((a, b) => b.count - a.count || a.type.localeCompare(b.type))
}

export function filterHandles(handles: readonly DiagHandle[] | undefined, type: string | null, search = ''): DiagHandle[] {
  const q = search.trim().toLowerCase()
  return (handles ?? []).filter(
    (h) => (!type || h.type === type) && (!q || `${h.type} ${h.address ?? ''} ${h.detail ?? ''}`.toLowerCase().includes(q)),
  )
}

export function truthy(v: number | boolean | undefined): boolean {
  return v === true || v === 1
}

/** `KEY=value` lines as pairs (a value may contain "="). */
export function envPairs(env: readonly string[] | undefined): { name: string; value: string }[] {
  return (env ?? []).map((line) => {
    const i = line.indexOf('=')
    return i < 0 ? { name: line, value: '' } : { name: line.slice(0, i), value: line.slice(i + 1) }
  })
}

/** System entries besides env, limits and libraries, as text (objects as JSON). */
export function otherSystem(system: DiagReport['system']): { key: string; value: string }[] {
  if (!system) return []
  return Object.entries(system)
    .filter(([k]) => !['env', 'resourceLimits', 'loadedLibraries'].includes(k))
    .map(([key, v]) => ({ key, value: typeof v === 'object' ? JSON.stringify(v) : String(v) }))
}

/** heapStatistics as [key, bytes], known keys first in a stable order. */
export function heapTotals(stats: DiagReport['heapStatistics']): { key: string; bytes: number }[] {
  const order = ['heapTotal', 'heapTotalCommitted', 'heapTotalUsed', 'heapTotalAvailable', 'heapLimit']
  return Object.entries(stats ?? {})
    .filter(([, v]) => typeof v === 'number')
    .sort(([a], [b]) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99))
    .map(([key, bytes]) => ({ key, bytes }))
}

/** Used over size, 0..1, for a space bar. */
export function usedShare(space: { used?: number; size?: number }): number {
  return space.size ? Math.min(1, (space.used ?? 0) / space.size) : 0
}
