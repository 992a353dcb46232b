import { describe, expect, it } from 'vitest'
import zhCN from './zh-CN'
import enUS from './en-US'
import { initialLocale } from './index'

function keys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix]
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k))
}

describe('i18n', () => {
  it('has every key in both languages', () => {
    expect(keys(enUS).sort()).toEqual(keys(zhCN).sort())
  })
  it('has no empty text', () => {
    const empty = (m: unknown) => keys(m).filter((k) => k.split('.').reduce<any>((o, p) => o[p], m) === '')
    expect(empty(zhCN)).toEqual([])
    expect(empty(enUS)).toEqual([])
  })
  it('keeps the same placeholders', () => {
    for (const k of keys(zhCN)) {
      const get = (m: unknown) => String(k.split('.').reduce<any>((o, p) => o[p], m))
      const ph = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort()
      expect(ph(get(enUS)), k).toEqual(ph(get(zhCN)))
    }
  })
  it('follows the browser unless chosen', () => {
    expect(initialLocale(null, ['en-GB', 'zh-CN'])).toBe('en-US')
    expect(initialLocale(null, ['zh-TW'])).toBe('zh-CN')
    expect(initialLocale(null, ['fr'])).toBe('zh-CN')
    expect(initialLocale('en-US', ['zh-CN'])).toBe('en-US')
  })
})
