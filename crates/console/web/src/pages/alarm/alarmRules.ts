// The alarm page's logic: contexts, push levels and webhook kinds the console accepts (domain/alarm.rs), the
// reference's 12 preset rules, the variables each context offers, the form ⇄ reply mapping, and which form field a
// server refusal is about.
import type { Strategy } from '@/api/types'

export const CONTEXTS = ['xprofiler_log', 'system_log', 'error_log', 'xtransit_notification'] as const
export type Context = (typeof CONTEXTS)[number]
export const PUSH_TYPES = ['p1', 'p2', 'p3', 'p4'] as const
export const WEBHOOK_TYPES = ['dingtalk', 'qywx', 'feishu', 'slack', 'webhook'] as const
/** Ours: what an xprofiler_log rule may take of the process that fired it ('' = nothing), the server's list. */
export const AUTO_ACTIONS = ['', 'cpuprofile', 'heapprofile', 'gcprofile', 'heapsnapshot', 'diag'] as const
export const MAX_EXPRESSION = 150
export const MAX_CONTENT = 150
export const MAX_ADDRESS = 200
export const MAX_SIGN = 100
export const HISTORY_PAGE_SIZE = 50

/** One preset: its context and expression; its content is the i18n text `alarm.presets.<key>.content` filled with
 * `params` (the `${@var}` templates stay out of the messages, where `@`, `$` and `|` mean something). */
export interface Preset {
  key: string
  context: Context
  expression: string
  params: Record<string, string>
}

const v = (name: string) => '${@' + name + '}'

export const PRESETS: Preset[] = [
  { key: 'heap', context: 'xprofiler_log', expression: '@heap_used / @heap_limit > 0.7', params: { pid: v('pid'), used: v('heap_used'), limit: v('heap_limit') } },
  { key: 'cpu', context: 'xprofiler_log', expression: '@cpu_300 > 95', params: { pid: v('pid'), cpu: v('cpu_300') } },
  { key: 'gc', context: 'xprofiler_log', expression: '@gc_60 > 15', params: { pid: v('pid'), gc: v('gc_60') } },
  { key: 'slowRequests', context: 'system_log', expression: '@expired_request > 0', params: { count: v('expired_request') } },
  {
    key: 'errorRatio',
    context: 'system_log',
    expression: '@code_4xx / @http_response_sent + @code_5xx / @http_response_sent > 0.5',
    params: { c4: v('code_4xx'), c5: v('code_5xx'), total: v('http_response_sent') },
  },
  { key: 'osMemory', context: 'system_log', expression: '@os_mem_usage > 80', params: { usage: v('os_mem_usage') } },
  { key: 'osCpu', context: 'system_log', expression: '@os_cpu_usage > 80', params: { usage: v('os_cpu_usage') } },
  { key: 'disk', context: 'system_log', expression: '@disk_usage > 85', params: { mount: v('mounted_on'), usage: v('disk_usage') } },
  {
    key: 'errorType',
    context: 'error_log',
    expression: '@error_type == "TypeError" || @error_type == "ReferenceError" || @error_type == "RangeError"',
    params: { type: v('error_type'), file: v('log_path') },
  },
  { key: 'vulnerabilities', context: 'xtransit_notification', expression: '@critical > 0 || @high > 0', params: { critical: v('critical'), high: v('high') } },
  { key: 'coredump', context: 'xtransit_notification', expression: '@core_count > 0', params: { count: v('core_count') } },
  { key: 'offline', context: 'xtransit_notification', expression: '@agentOffline', params: { agent: v('agentId') } },
]

/** The variables (`@name`) each context's alarms carry (../shared/reference/xtransit-manager.md §6.2). */
export const VARIABLES: Record<Context, string[]> = {
  xprofiler_log: ['pid', 'cpu_now', 'cpu_15', 'cpu_30', 'cpu_60', 'cpu_300', 'heap_used', 'heap_total', 'heap_limit', 'rss', 'gc_60', 'active_handles', 'version'],
  system_log: ['os_cpu_usage', 'os_mem_usage', 'load1', 'load5', 'load15', 'cpu_count', 'node_count', 'expired_request', 'code_4xx', 'code_5xx', 'http_response_sent', 'disk_usage', 'mounted_on'],
  error_log: ['agent', 'error_type', 'log_path', 'stack', 'extra', 'timestamp'],
  xtransit_notification: ['agentOffline', 'agentId', 'core_count', 'critical', 'high', 'moderate', 'low', 'totalDependencies'],
}

export interface RuleFormValue {
  contextType: Context
  pushType: string
  expression: string
  content: string
  webhookPush: boolean
  webhookType: string
  webhookAddress: string
  webhookSign: string
  autoAction: string
}

export function emptyForm(): RuleFormValue {
  return { contextType: 'xprofiler_log', pushType: 'p3', expression: '', content: '', webhookPush: false, webhookType: 'dingtalk', webhookAddress: '', webhookSign: '', autoAction: '' }
}

function isContext(value: string): value is Context {
  return (CONTEXTS as readonly string[]).includes(value)
}

/** The edit form of a listed rule. */
export function formOf(s: Strategy): RuleFormValue {
  return {
    contextType: isContext(s.contextType) ? s.contextType : 'xprofiler_log',
    pushType: (PUSH_TYPES as readonly string[]).includes(s.pushType) ? s.pushType : 'p3',
    expression: s.expression ?? '',
    content: s.alarmContent ?? '',
    webhookPush: Boolean(s.webhookPush),
    webhookType: (WEBHOOK_TYPES as readonly string[]).includes(s.webhookType) ? s.webhookType : 'dingtalk',
    webhookAddress: s.webhookAddress ?? '',
    webhookSign: s.webhookSign ?? '',
    autoAction: (AUTO_ACTIONS as readonly string[]).includes(s.autoAction ?? '') ? (s.autoAction ?? '') : '',
  }
}

/** The members both add and edit send (add adds `appId`, edit `strategyId`). The webhook address and sign are
 * left out when webhook push is off, as the original did. `autoAction` is always sent (the server clears it when
 * it is missing), empty but for process rules. */
export function bodyOf(f: RuleFormValue): Record<string, string | boolean> {
  const body: Record<string, string | boolean> = {
    contextType: f.contextType,
    pushType: f.pushType,
    customRuleExpr: f.expression.trim(),
    customRuleDesc: f.content.trim(),
    webhookPush: f.webhookPush,
    webhookType: f.webhookType,
    autoAction: f.contextType === 'xprofiler_log' ? f.autoAction : '',
  }
  if (f.webhookPush) {
    body.webhookAddress = f.webhookAddress.trim()
    body.webhookSign = f.webhookSign.trim()
  }
  return body
}

export type Field = 'contextType' | 'pushType' | 'expression' | 'content' | 'webhookType' | 'webhookAddress' | 'webhookSign' | 'autoAction'
export type Problem = 'required' | 'tooLong' | 'url'

/** What the client checks before sending (the server checks the same and more). */
export function validate(f: RuleFormValue): Partial<Record<Field, Problem>> {
  const out: Partial<Record<Field, Problem>> = {}
  const length = (s: string) => [...s.trim()].length
  if (!length(f.expression)) out.expression = 'required'
  else if (length(f.expression) > MAX_EXPRESSION) out.expression = 'tooLong'
  if (!length(f.content)) out.content = 'required'
  else if (length(f.content) > MAX_CONTENT) out.content = 'tooLong'
  if (f.webhookPush) {
    const address = f.webhookAddress.trim()
    if (!address) out.webhookAddress = 'required'
    else if (length(address) > MAX_ADDRESS) out.webhookAddress = 'tooLong'
    else if (!isHttpUrl(address)) out.webhookAddress = 'url'
    if (length(f.webhookSign) > MAX_SIGN) out.webhookSign = 'tooLong'
  }
  return out
}

export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
  } catch {
    return false
  }
}

const FIELD_OF_MEMBER: Record<string, Field> = {
  contextType: 'contextType',
  pushType: 'pushType',
  customRuleExpr: 'expression',
  customRuleDesc: 'content',
  webhookType: 'webhookType',
  webhookAddress: 'webhookAddress',
  webhookSign: 'webhookSign',
  autoAction: 'autoAction',
}

/** The form field a refusal is about: the server names the member first ("customRuleExpr must …"), and may give a
 * position in the expression ("… at position 7", "column 7", "offset 7"; counted from 1 or 0 as it says). */
export function fieldOfError(message: string): { field?: Field; position?: number } {
  const member = /^\s*(\w+)\b/.exec(message)?.[1]
  const field = member ? FIELD_OF_MEMBER[member] : undefined
  const at = /\b(?:position|column|col|offset|at char(?:acter)?)\s*:?\s*(\d+)/i.exec(message)
  return { field, position: at ? Number(at[1]) : undefined }
}

/** The 24 h badge: "999+" beyond 999, as the original. */
export function countBadge(n: number | null | undefined): string {
  const count = Number(n ?? 0)
  if (!Number.isFinite(count) || count <= 0) return '0'
  return count > 999 ? '999+' : String(Math.floor(count))
}

/** The history drawer's deep link: `alarm-history=YES&historyData={"strategyId","expression"}&page=N`. */
export interface HistoryLink {
  strategyId: number
  expression: string
  page: number
}

export function readHistoryLink(query: Record<string, unknown>): HistoryLink | undefined {
  if (query['alarm-history'] !== 'YES' || typeof query.historyData !== 'string') return undefined
  try {
    const data = JSON.parse(query.historyData) as { strategyId?: unknown; expression?: unknown }
    const strategyId = Number(data.strategyId)
    if (!Number.isInteger(strategyId) || strategyId <= 0) return undefined
    const page = Number(query.page)
    return { strategyId, expression: typeof data.expression === 'string' ? data.expression : '', page: Number.isInteger(page) && page > 0 ? page : 1 }
  } catch {
    return undefined
  }
}

export function writeHistoryLink(link: HistoryLink): Record<string, string> {
  return { 'alarm-history': 'YES', historyData: JSON.stringify({ strategyId: link.strategyId, expression: link.expression }), page: String(link.page) }
}

/** Inserts `@name` into an expression at the caret (or the end), with spaces around as needed. */
export function insertVariable(text: string, name: string, caret = text.length): { text: string; caret: number } {
  const before = text.slice(0, caret)
  const after = text.slice(caret)
  const token = (before && !/\s$/.test(before) ? ' ' : '') + '@' + name + (after && !/^\s/.test(after) ? ' ' : '')
  return { text: before + token + after, caret: before.length + token.length }
}

/** The expression split around the character a refusal points at (`position` counted from 1, in characters),
 * for showing it marked; undefined when there is nothing to mark. */
export function markAt(text: string, position: number | undefined): { before: string; at: string; after: string } | undefined {
  if (position === undefined || !text) return undefined
  const chars = [...text]
  const i = Math.min(Math.max(position - 1, 0), chars.length - 1)
  return { before: chars.slice(0, i).join(''), at: chars[i], after: chars.slice(i + 1).join('') }
}
