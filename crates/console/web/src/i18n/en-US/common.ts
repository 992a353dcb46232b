import type zh from '../zh-CN/common'

export default {
  product: 'Easy-Monitor',
  nav: { apps: 'My apps', admin: 'Administration', docs: 'API docs', signOut: 'Sign out', identity: 'ID', language: '中文', zone: 'Time zone', zoneBrowser: 'Local time', zoneUtc: 'UTC' },
  menu: { instance: 'Instances', file: 'Files', team: 'Team', alarm: 'Alarms', setting: 'Settings' },
  action: { refresh: 'Refresh', retry: 'Retry', cancel: 'Cancel', confirm: 'Confirm', save: 'Save', delete: 'Delete', close: 'Close', copy: 'Copy', copied: 'Copied', submit: 'Submit', back: 'Back', more: 'More', edit: 'Edit', open: 'Open' },
  state: { loading: 'Loading…', empty: 'Nothing here yet', failed: 'Could not load: {message}', failedHint: 'Check your connection or try again later; if it persists, ask your administrator.', offline: 'offline', online: 'online', unknown: 'unknown' },
  notFound: { title: 'Page not found', body: 'There is no page at this address.', home: 'Back to my apps' },
  charts: { noData: 'No data in this period yet (a new process shows up within a few minutes)', health: { ok: 'healthy', warn: 'watch', bad: 'critical' } },
  signin: { title: 'Sign in to Easy-Monitor', name: 'Account (e-mail)', password: 'Password', submit: 'Sign in', failed: 'Sign-in failed', firstAdmin: 'First time? The administrator account and a one-time password are in the console service\'s start-up log (FIRST SIGN-IN), or were set at deployment with CONSOLE_ADMIN_USER / CONSOLE_ADMIN_PASSWORD.', required: 'Enter your account and password' },
} satisfies typeof zh
