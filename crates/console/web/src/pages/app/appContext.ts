// The app a page under /app/:appId belongs to: its id, name and whether the viewer owns it (from GET /xapi/app).
import { inject, provide, type InjectionKey, type Ref } from 'vue'

export interface AppContext {
  appId: Ref<number>
  appName: Ref<string>
  isOwner: Ref<boolean>
  reload: () => void
}

const KEY: InjectionKey<AppContext> = Symbol('app')

export function provideApp(ctx: AppContext) {
  provide(KEY, ctx)
}

export function useApp(): AppContext {
  const ctx = inject(KEY)
  if (!ctx) throw new Error('useApp() outside an app page')
  return ctx
}
