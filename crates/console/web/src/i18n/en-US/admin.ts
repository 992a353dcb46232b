import type zh from '../zh-CN/admin'

export default {
  title: 'Administration',
  intro: 'Every user and every app of this console; administrators only.',
  refused: 'Only administrators can open the administration',
  refusedHint: 'Your account is not an administrator. Ask this console’s administrator if you need something here.',
  backHome: 'Back to my apps',
  users: 'Users',
  apps: 'Apps',
  search: 'Search',
  searchPlaceholder: 'Search by name, identity or ID',
  count: '{n} in all',
  matched: '{shown} of {n}',
  noMatch: 'Nothing matches “{query}”',
  noUsers: 'No users yet.',
  noApps: 'No apps yet.',
  missing: 'This console does not offer the administration API yet',
  missingHint: 'The users and apps appear here once the console is upgraded.',
  forbidden: 'The console refused: {message}',
  user: { id: 'ID', account: 'Account', nick: 'Nick', identity: 'Identity', role: 'Role', admin: 'Administrator', member: 'User', createdAt: 'Signed up' },
  app: { id: 'App ID', name: 'Name', owner: 'Owner', createdAt: 'Created', open: 'Open' },
} satisfies typeof zh
