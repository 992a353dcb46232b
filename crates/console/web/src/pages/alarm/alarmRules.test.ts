import { describe, expect, it } from 'vitest'
import type { Strategy } from '@/api/types'
import zhAlarm from '@/i18n/zh-CN/alarm'
import enAlarm from '@/i18n/en-US/alarm'
import { PRESETS, VARIABLES, CONTEXTS, bodyOf, markAt, countBadge, emptyForm, fieldOfError, formOf, insertVariable, readHistoryLink, validate, writeHistoryLink } from './alarmRules'

describe('alarm presets', () => {
  it('has the reference 12, each in a known context with a text in both languages', () => {
    expect(PRESETS).toHaveLength(12)
    for (const p of PRESETS) {
      expect(CONTEXTS).toContain(p.context)
      expect(zhAlarm.presets[p.key as keyof typeof zhAlarm.presets]?.name, p.key).toBeTruthy()
      expect(enAlarm.presets[p.key as keyof typeof enAlarm.presets]?.name, p.key).toBeTruthy()
      // Every placeholder of the content has a value, and every value is used.
      const content = zhAlarm.presets[p.key as keyof typeof zhAlarm.presets].content
      const used = (content.match(/\{(\w+)\}/g) ?? []).map((s) => s.slice(1, -1)).sort()
      expect(used, p.key).toEqual(Object.keys(p.params).sort())
      // The expression's variables are among the context's listed ones.
      for (const name of p.expression.match(/@(\w+)/g) ?? []) expect(VARIABLES[p.context], `${p.key} ${name}`).toContain(name.slice(1))
    }
  })
  it('keeps the reference expressions', () => {
    const by = Object.fromEntries(PRESETS.map((p) => [p.key, p.expression]))
    expect(by.heap).toBe('@heap_used / @heap_limit > 0.7')
    expect(by.disk).toBe('@disk_usage > 85')
    expect(by.offline).toBe('@agentOffline')
  })
})

describe('rule form', () => {
  const strategy: Strategy = {
    strategyId: 7, contextType: 'system_log', pushType: 'p2', expression: '@load1 > 2', alarmContent: 'load ${@load1}', status: 1,
    webhookPush: true, webhookType: 'feishu', webhookAddress: 'https://open.feishu.cn/x', webhookSign: 's', alarmCount: 3, autoAction: '',
  }
  it('round-trips a rule', () => {
    expect(bodyOf(formOf(strategy))).toEqual({
      contextType: 'system_log', pushType: 'p2', customRuleExpr: '@load1 > 2', customRuleDesc: 'load ${@load1}',
      webhookPush: true, webhookType: 'feishu', webhookAddress: 'https://open.feishu.cn/x', webhookSign: 's', autoAction: '',
    })
  })
  it("keeps a process rule's automatic action, and sends none for other contexts", () => {
    const process = { ...strategy, contextType: 'xprofiler_log', autoAction: 'heapsnapshot' }
    expect(bodyOf(formOf(process)).autoAction).toBe('heapsnapshot')
    expect(bodyOf({ ...formOf(process), contextType: 'system_log' }).autoAction).toBe('')
    expect(formOf({ ...process, autoAction: 'rm -rf' }).autoAction).toBe('')
    expect(fieldOfError('autoAction must be one of cpuprofile, heapprofile').field).toBe('autoAction')
  })
  it('leaves the webhook address and sign out when webhook push is off, but sends the type', () => {
    const body = bodyOf({ ...emptyForm(), expression: ' @cpu_60 > 1 ', content: 'x', webhookAddress: 'junk' })
    expect(body).toEqual({ contextType: 'xprofiler_log', pushType: 'p3', customRuleExpr: '@cpu_60 > 1', customRuleDesc: 'x', webhookPush: false, webhookType: 'dingtalk', autoAction: '' })
  })
  it('falls back on unknown values from the server', () => {
    expect(formOf({ ...strategy, contextType: 'x', pushType: 'p9', webhookType: '' })).toMatchObject({ contextType: 'xprofiler_log', pushType: 'p3', webhookType: 'dingtalk' })
  })
  it('validates lengths in characters and the webhook URL', () => {
    expect(validate(emptyForm())).toEqual({ expression: 'required', content: 'required' })
    expect(validate({ ...emptyForm(), expression: '告'.repeat(150), content: 'x'.repeat(151) })).toEqual({ content: 'tooLong' })
    expect(validate({ ...emptyForm(), expression: 'a', content: 'b', webhookPush: true, webhookAddress: 'ftp://x' })).toEqual({ webhookAddress: 'url' })
    expect(validate({ ...emptyForm(), expression: 'a', content: 'b', webhookPush: true })).toEqual({ webhookAddress: 'required' })
    expect(validate({ ...emptyForm(), expression: 'a', content: 'b', webhookPush: true, webhookAddress: 'https://h/x' })).toEqual({})
  })
  it('finds the field and position a refusal is about', () => {
    expect(fieldOfError('customRuleExpr must not be empty')).toEqual({ field: 'expression', position: undefined })
    expect(fieldOfError('customRuleExpr: unexpected token ")" at position 7')).toEqual({ field: 'expression', position: 7 })
    expect(fieldOfError('webhookAddress must be an http(s) URL, not "x"').field).toBe('webhookAddress')
    expect(fieldOfError('此规则已经启用')).toEqual({ field: undefined, position: undefined })
  })
  it('inserts a variable with spaces where needed', () => {
    expect(insertVariable('', 'cpu_60')).toEqual({ text: '@cpu_60', caret: 7 })
    expect(insertVariable('a >', 'x')).toEqual({ text: 'a > @x', caret: 6 })
    expect(insertVariable('a > b', 'x', 1)).toEqual({ text: 'a @x > b', caret: 4 })
  })
})

describe('alarm page helpers', () => {
  it('marks the character a refusal points at', () => {
    expect(markAt('@a > (1))', 9)).toEqual({ before: '@a > (1)', at: ')', after: '' })
    expect(markAt('告警 > 1', 1)).toEqual({ before: '', at: '告', after: '警 > 1' })
    expect(markAt('abc', 99)).toEqual({ before: 'ab', at: 'c', after: '' })
    expect(markAt('abc', undefined)).toBeUndefined()
    expect(markAt('', 1)).toBeUndefined()
  })
  it('caps the badge at 999+', () => {
    expect([countBadge(0), countBadge(5), countBadge(999), countBadge(1000), countBadge(undefined)]).toEqual(['0', '5', '999', '999+', '0'])
  })
  it('reads and writes the history deep link', () => {
    const q = writeHistoryLink({ strategyId: 4, expression: '@a > 1', page: 2 })
    expect(readHistoryLink(q)).toEqual({ strategyId: 4, expression: '@a > 1', page: 2 })
    expect(readHistoryLink({ 'alarm-history': 'YES', historyData: '{"strategyId":"4"}' })).toEqual({ strategyId: 4, expression: '', page: 1 })
    expect(readHistoryLink({ 'alarm-history': 'YES', historyData: 'nope' })).toBeUndefined()
    expect(readHistoryLink({ historyData: '{"strategyId":4}' })).toBeUndefined()
  })
})
