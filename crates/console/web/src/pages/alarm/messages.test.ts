// The texts of the team, alarm, settings and admin pages compile as vue-i18n messages (no stray `@`, `|`, `{`)
// and render with their placeholders filled, in both languages.
import { describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'
import { messages } from '@/i18n'

function keys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix]
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k))
}

describe('page texts', () => {
  for (const locale of ['zh-CN', 'en-US'] as const) {
    it(`render in ${locale}`, () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
      const error = vi.spyOn(console, 'error').mockImplementation(() => {})
      const i18n = createI18n({ legacy: false, locale, messages, missingWarn: false, fallbackWarn: false })
      const t = i18n.global.t as (key: string, values?: Record<string, unknown>) => string
      for (const area of ['team', 'alarm', 'settings', 'admin'] as const) {
        const tree = (messages[locale] as Record<string, unknown>)[area]
        for (const key of keys(tree)) {
          const raw = key.split('.').reduce<any>((o, p) => o[p], tree) as string
          const names = (raw.match(/\{(\w+)\}/g) ?? []).map((s) => s.slice(1, -1))
          const values = Object.fromEntries(names.map((n) => [n, `<${n}>`]))
          const out = t(`${area}.${key}`, values)
          expect(out, `${area}.${key}`).not.toBe(`${area}.${key}`)
          expect(out, `${area}.${key}`).not.toMatch(/[{}]/)
          for (const n of names) expect(out, `${area}.${key}`).toContain(`<${n}>`)
        }
      }
      expect(error).not.toHaveBeenCalled()
      expect(warn).not.toHaveBeenCalled()
      warn.mockRestore()
      error.mockRestore()
    })
  }
})
