// Client routes (history mode under the base path). `/app/:appId/:menuTab` and its query parameters are the
// original's, so the manager's alarm links (`/#/app/…`, hash form) and history `detailPath`s land where they did.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { basePath } from '@/base'
import { setUnauthorizedHandler } from '@/api/client'
import { forgetUser, loadUser } from '@/session'

const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/apps' },
  { path: '/console', redirect: (to) => ({ path: '/apps', query: to.query }) },
  { path: '/signin', name: 'signin', component: () => import('@/pages/SignInPage.vue'), meta: { public: true } },
  { path: '/apps', name: 'apps', component: () => import('@/pages/apps/AppsPage.vue') },
  { path: '/admin', name: 'admin', component: () => import('@/pages/admin/AdminPage.vue') },
  {
    path: '/app/:appId(\\d+)',
    component: () => import('@/pages/app/AppFrame.vue'),
    props: (to) => ({ appId: Number(to.params.appId) }),
    children: [
      { path: '', redirect: (to) => `/app/${to.params.appId}/instance` },
      { path: 'instance', name: 'instance', component: () => import('@/pages/instance/InstancePage.vue') },
      { path: 'file', name: 'file', component: () => import('@/pages/files/FilesPage.vue') },
      { path: 'file/:fileType/:fileId(\\d+)', name: 'analysis', component: () => import('@/pages/analysis/AnalysisPage.vue') },
      { path: 'team', name: 'team', component: () => import('@/pages/team/TeamPage.vue') },
      { path: 'alarm', name: 'alarm', component: () => import('@/pages/alarm/AlarmPage.vue') },
      { path: 'setting', name: 'setting', component: () => import('@/pages/settings/SettingsPage.vue') },
    ],
  },
  { path: '/:rest(.*)*', name: 'not-found', component: () => import('@/pages/NotFoundPage.vue'), meta: { public: true } },
]

export const router = createRouter({ history: createWebHistory(basePath()), routes })

// The original's links are hash links (`/#/app/1/instance?…`): take them to the same page here.
if (typeof window !== 'undefined' && window.location.hash.startsWith('#/')) {
  const target = window.location.hash.slice(1)
  history.replaceState(null, '', basePath().replace(/\/$/, '') + target)
}

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  const user = await loadUser()
  if (!user) return { name: 'signin', query: { next: to.fullPath } }
  return true
})

setUnauthorizedHandler(() => {
  forgetUser()
  const here = router.currentRoute.value
  if (here.name !== 'signin') router.replace({ name: 'signin', query: { next: here.fullPath } })
})
