// vue-i18n with Simplified Chinese and English. zh-CN is the schema; en-US is typed against it per area
// (`satisfies typeof zh`), and i18n.test.ts checks both have the same keys. The choice is remembered; by default it
// follows the browser. Switching also sets <html lang> (charts read `locale` to pick their own texts).
import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN'
import enUS from './en-US'

export type Locale = 'zh-CN' | 'en-US'
export const LOCALES: Locale[] = ['zh-CN', 'en-US']
const KEY = 'ezm.locale'

export function initialLocale(stored: string | null, browser: readonly string[]): Locale {
  if (stored === 'zh-CN' || stored === 'en-US') return stored
  for (const lang of browser) {
    if (lang.toLowerCase().startsWith('zh')) return 'zh-CN'
    if (lang.toLowerCase().startsWith('en')) return 'en-US'
  }
  return 'zh-CN'
}

function stored(): string | null {
  try {
    return localStorage.getItem(KEY)
  } catch {
    return null
  }
}

export const messages = { 'zh-CN': zhCN, 'en-US': enUS }

export const i18n = createI18n({
  legacy: false,
  locale: typeof window === 'undefined' ? 'zh-CN' : initialLocale(stored(), navigator.languages ?? [navigator.language]),
  fallbackLocale: 'zh-CN',
  messages,
})

export function setLocale(locale: Locale) {
  i18n.global.locale.value = locale
  document.documentElement.lang = locale
  try {
    localStorage.setItem(KEY, locale)
  } catch {
    /* not remembered */
  }
}
