// Texts used everywhere (Simplified Chinese is the schema; en-US/common.ts is checked against it).
export default {
  product: 'Easy-Monitor',
  nav: { apps: '我的应用', admin: '系统管理', docs: 'API 文档', signOut: '退出登录', identity: '工号', language: 'English', zone: '时区', zoneBrowser: '本地时间', zoneUtc: 'UTC' },
  menu: { instance: '实例详情', file: '性能文件', team: '团队协作', alarm: '阈值告警', setting: '应用设置' },
  action: { refresh: '刷新', retry: '重试', cancel: '取消', confirm: '确认', save: '保存', delete: '删除', close: '关闭', copy: '复制', copied: '已复制', submit: '提交', back: '返回', more: '更多', edit: '编辑', open: '打开' },
  state: { loading: '加载中…', empty: '暂无数据', failed: '加载失败：{message}', failedHint: '请检查网络或稍后重试；问题持续时请联系管理员。', offline: '离线', online: '在线', unknown: '未知' },
  notFound: { title: '页面不存在', body: '这个地址没有对应的页面。', home: '回到我的应用' },
  charts: { noData: '这段时间还没有数据（新进程的数据在几分钟内出现）', health: { ok: '健康', warn: '注意', bad: '危险' } },
  signin: { title: '登录 Easy-Monitor', name: '账号（邮箱）', password: '密码', submit: '登录', failed: '登录失败', firstAdmin: '首次使用？管理员账号和一次性密码在控制台服务的启动日志中（FIRST SIGN-IN），或由部署时的 CONSOLE_ADMIN_USER / CONSOLE_ADMIN_PASSWORD 指定。', required: '请输入账号和密码' },
}
