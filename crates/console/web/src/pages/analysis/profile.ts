// Top functions of a V8 CPU profile (.cpuprofile: nodes / samples / timeDeltas) and top allocations of a sampling
// heap profile (.heapprofile: head tree / samples), computed in the browser. Self = time (or bytes) spent in the
// function itself; total = self plus everything it called, counted once per stack when a function recurses.

export interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber?: number
  scriptId?: number | string
}

export interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame; hitCount?: number; children?: number[] }[]
  startTime: number
  endTime: number
  samples?: number[]
  timeDeltas?: number[]
}

export interface HeapProfileNode {
  callFrame: CallFrame
  selfSize: number
  id: number
  children?: HeapProfileNode[]
}

export interface HeapProfile {
  head: HeapProfileNode
  samples?: { size: number; nodeId: number; ordinal?: number }[]
}

/** One function: self and total in the profile's unit (µs for CPU, bytes for heap), with shares of the whole. */
export interface FunctionRow {
  key: string
  name: string
  url: string
  /** 1-based line and column, as editors show them (V8 counts from 0); 0 when unknown. */
  line: number
  column: number
  self: number
  total: number
  selfShare: number
  totalShare: number
}

interface FlatNode {
  id: number
  frame: CallFrame
  self: number
  children: number[]
}

export function isCpuProfile(value: unknown): value is CpuProfile {
  const v = value as CpuProfile
  return typeof v === 'object' && v !== null && Array.isArray(v.nodes) && typeof v.startTime === 'number'
}

export function isHeapProfile(value: unknown): value is HeapProfile {
  const v = value as HeapProfile
  return typeof v === 'object' && v !== null && typeof v.head === 'object' && v.head !== null && 'callFrame' in v.head
}

export function displayName(frame: CallFrame): string {
  return frame.functionName || '(anonymous)'
}

function keyOf(frame: CallFrame): string {
  return `${frame.functionName}\u0000${frame.url}\u0000${frame.lineNumber}\u0000${frame.columnNumber ?? -1}`
}

/** Self µs per node: a sample lasts until the next one (the last one until endTime), as DevTools counts. */
export function cpuSelfTimes(profile: CpuProfile): Map<number, number> {
  const self = new Map<number, number>()
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  if (samples.length && deltas.length === samples.length) {
    let t = profile.startTime
    const stamps = deltas.map((d) => (t += d))
    for (let i = 0; i < samples.length; i++) {
      const end = i + 1 < samples.length ? stamps[i + 1] : Math.max(profile.endTime, stamps[i])
      const d = Math.max(0, end - stamps[i])
      self.set(samples[i], (self.get(samples[i]) ?? 0) + d)
    }
    return self
  }
  // No timing: spread the duration over the hit counts.
  const hits = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0)
  const per = hits ? (profile.endTime - profile.startTime) / hits : 0
  for (const node of profile.nodes) if (node.hitCount) self.set(node.id, node.hitCount * per)
  return self
}

function aggregate(nodes: Map<number, FlatNode>, rootId: number, skipRoot: boolean): { rows: FunctionRow[]; whole: number } {
  const byKey = new Map<string, FunctionRow>()
  const onStack = new Map<string, number>()
  let whole = 0
  // Iterative DFS: each node's total is the sum over its subtree; a function's total counts a subtree only at its
  // outermost occurrence on the stack.
  const totals = new Map<number, number>()
  type Frame = { id: number; phase: 0 | 1 }
  const stack: Frame[] = [{ id: rootId, phase: 0 }]
  while (stack.length) {
    const top = stack.pop()!
    const node = nodes.get(top.id)
    if (!node) continue
    const key = keyOf(node.frame)
    if (top.phase === 0) {
      onStack.set(key, (onStack.get(key) ?? 0) + 1)
      stack.push({ id: top.id, phase: 1 })
      for (const c of node.children) stack.push({ id: c, phase: 0 })
      continue
    }
    let total = node.self
    for (const c of node.children) total += totals.get(c) ?? 0
    totals.set(top.id, total)
    whole += node.self
    const depth = onStack.get(key)! - 1
    onStack.set(key, depth)
    if (skipRoot && top.id === rootId) continue
    let row = byKey.get(key)
    if (!row) {
      row = {
        key,
        name: displayName(node.frame),
        url: node.frame.url,
        line: node.frame.lineNumber >= 0 ? node.frame.lineNumber + 1 : 0,
        column: (node.frame.columnNumber ?? -1) >= 0 ? node.frame.columnNumber! + 1 : 0,
        self: 0,
        total: 0,
        selfShare: 0,
        totalShare: 0,
      }
      byKey.set(key, row)
    }
    row.self += node.self
    if (depth === 0) row.total += total
  }
  const rows = [...byKey.values()]
  for (const r of rows) {
    r.selfShare = whole ? r.self / whole : 0
    r.totalShare = whole ? r.total / whole : 0
  }
  rows.sort((a, b) => b.self - a.self || b.total - a.total || a.name.localeCompare(b.name))
  return { rows, whole }
}

export interface ProfileSummary {
  rows: FunctionRow[]
  /** Sum of all self values: the sampled duration (µs) or the sampled bytes. */
  whole: number
  samples: number
}

export function cpuTopFunctions(profile: CpuProfile): ProfileSummary {
  const self = cpuSelfTimes(profile)
  const nodes = new Map<number, FlatNode>()
  const children = new Set<number>()
  for (const n of profile.nodes) {
    nodes.set(n.id, { id: n.id, frame: n.callFrame, self: self.get(n.id) ?? 0, children: n.children ?? [] })
    for (const c of n.children ?? []) children.add(c)
  }
  const root = profile.nodes.find((n) => !children.has(n.id))
  if (!root) return { rows: [], whole: 0, samples: 0 }
  const { rows, whole } = aggregate(nodes, root.id, root.callFrame.functionName === '(root)')
  return { rows, whole, samples: profile.samples?.length ?? profile.nodes.reduce((n, x) => n + (x.hitCount ?? 0), 0) }
}

export function heapTopAllocations(profile: HeapProfile): ProfileSummary {
  const nodes = new Map<number, FlatNode>()
  const todo = [profile.head]
  while (todo.length) {
    const n = todo.pop()!
    nodes.set(n.id, { id: n.id, frame: n.callFrame, self: n.selfSize ?? 0, children: (n.children ?? []).map((c) => c.id) })
    for (const c of n.children ?? []) todo.push(c)
  }
  const { rows, whole } = aggregate(nodes, profile.head.id, profile.head.callFrame.functionName === '(root)')
  return { rows, whole, samples: profile.samples?.length ?? 0 }
}

export type SortKey = 'self' | 'total' | 'name'

/** Search (name or url, case-insensitive) and sort: what the table shows. */
export function filterRows(rows: readonly FunctionRow[], search: string, sort: SortKey = 'self', desc = true): FunctionRow[] {
  const q = search.trim().toLowerCase()
  const out = q ? rows.filter((r) => r.name.toLowerCase().includes(q) || r.url.toLowerCase().includes(q)) : rows.slice()
  const dir = desc ? -1 : 1
  out.sort((a, b) => (sort === 'name' ? a.name.localeCompare(b.name) * dir : (a[sort] - b[sort]) * dir || b.self - a.self))
  return out
}

/** "file.js:12:3", the url's last part with the position; "" for natives. */
export function location(row: Pick<FunctionRow, 'url' | 'line' | 'column'>): string {
  if (!row.url) return ''
  return `${row.url}${row.line ? `:${row.line}` : ''}${row.column ? `:${row.column}` : ''}`
}
