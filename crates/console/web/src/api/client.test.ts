import { describe, expect, it } from 'vitest'
import { i18n } from '@/i18n'
import { refusalError } from './client'

describe('refusalError', () => {
  it('translates a known reason with its args', () => {
    i18n.global.locale.value = 'en-US'
    const e = refusalError({ ok: false, message: '用户 alice 已在团队中', reason: 'alreadyInTeam', args: { user: 'alice' } }, 200)
    expect(e.message).toBe('alice is already in the team')
    expect(e.reason).toBe('alreadyInTeam')
    i18n.global.locale.value = 'zh-CN'
    expect(refusalError({ ok: false, message: 'x', reason: 'appNotFound', args: { appId: '7' } }, 200).message).toBe('应用 7 不存在')
  })
  it('falls back to the message for an unknown or missing reason', () => {
    i18n.global.locale.value = 'en-US'
    expect(refusalError({ ok: false, message: '不能创建重复应用', code: 400 }, 200).message).toBe('不能创建重复应用')
    expect(refusalError({ ok: false, message: 'from a newer console', reason: 'somethingNew' }, 200).message).toBe('from a newer console')
    expect(refusalError({ ok: false }, 502).message).toBe('HTTP 502')
    expect(refusalError({ ok: false, code: 403, message: 'm' }, 200).code).toBe(403)
  })
})
