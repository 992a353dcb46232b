// The reply shapes pages read (the OpenAPI document types the parameters; replies are the original's envelope, whose
// `data` is described here, after ../shared/reference/xui-contract.md §3 and the console's routes).

export interface User {
  name: string
  id: string
  userId: number
  account: string
  admin: boolean
}

export interface AppRef {
  appId: number
  name: string
}

export interface Invitation {
  appId: number
  appName: string
  ownerInfo: string
}

export interface AppsReply {
  list: AppRef[]
  invitations: Invitation[]
}

export interface AgentConfig {
  server: string
  appId: number
  appSecret: string
  file: string
}

export interface NewAppReply {
  appName: string
  appId: number
  appSecret: string
  agentConfig: AgentConfig
}

export interface AppReply {
  appName: string
  currentUserIsOwner: boolean
}

export interface OverviewMetrics {
  instanceCount: number | false | string
  alarmCount: number | false | string
  riskCount: number | false | string
  riskCountAgentId: string | null
}

export type MainMetricType = 'processCpuUsage' | 'processMemoryUsage' | 'systemCpuUsage' | 'systemMemoryUsage' | 'diskUsage'

export interface Egg {
  agentId: string
  status: number
  title: string
  pid?: string | number
}

export interface ListReply<T> {
  list: T[]
}

export interface XprofilerProcess {
  pid: number | string
  cmd: string
  startTime: number
  updateTime: number
  cpuUsage: number | string
  heapUsage: number | string
  gcUsage: number | string
  rss: number
  uvHandles: number
  timers: number
  tcpHandles: number
  udpHandles: number
}

export interface XprofilerProcessesReply {
  list: XprofilerProcess[]
  nodes: { pid: number | string; command: string }[]
  /** Ours: false when the agent is offline and the list is the last known one. */
  online?: boolean
}

export interface TrendReply {
  list: ({ time: number } & Record<string, number | null>)[]
  limit?: number
  extra?: string
  yAxis?: string[]
}

export interface SystemOverview {
  osCpu?: number
  osMem?: number
  maxDisk?: number
  disks?: Record<string, number>
  load1?: number
  load5?: number
  load15?: number
  nodeCount?: number
  scavengeTotal?: number
  scavengeAverage?: number
  marksweepTotal?: number
  marksweepAverage?: number
  rtAverage?: number
  rtExpired?: number
  qps?: number
}

export interface XprofilerStatus {
  installXprofiler: boolean
  enableXprofiler: boolean
  xprofilerLogdir?: string
  xtransitLogdir?: string
  xprofilerConfig?: Record<string, unknown>
  nodeVersion?: string
  alinodeVersion?: string
  xprofilerVersion?: string
}

export interface ErrorLogsReply {
  count: number
  list: { timestamp: number | string; type: string; stack: string; extra: string }[]
}

export interface ModuleFile {
  value: string
  risk?: { vulnerabilities?: Record<string, number>; totalDependencies?: number; scanTime?: string } | false | null
  riskModules?: Record<string, { severity: string; name: string; url: string; currentVersions?: string; path?: string; vulnerable_versions?: string; cmd?: string }[]>
}

export interface ModuleReply {
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
  lockModule: Record<string, { version: string; resolved?: string }>
}

export type FileType = 'cpuprofile' | 'heapprofile' | 'gcprofile' | 'heapsnapshot' | 'diag' | 'trend' | 'core'

export interface FileRow {
  fileId: number
  fileType: FileType
  file?: string
  coreFile?: string
  basename: string
  executableFile?: string
  creator: string
  time: string
  agent: string
  status: number
  favor: number
  token?: string
}

export interface FilesReply {
  count: number
  list: FileRow[]
}

export interface Member {
  userId: string
  status: number
  /** Epoch ms: the app's creation for the owner, the invitation or joining for the others; null when unknown. */
  timestamp: number | null
  userInfo: string
}

export interface TeamReply {
  list: Member[]
  currentUserId: string
}

export interface Strategy {
  strategyId: number
  contextType: string
  pushType: string
  expression: string
  alarmContent: string
  status: number
  webhookPush: boolean
  webhookType: string
  webhookAddress: string
  webhookSign: string
  alarmCount: number
  /** Ours: the profile taken of the process that fired the rule ('' = none). */
  autoAction?: string
}

export interface AlarmHistoryReply {
  count: number
  list: { time: string | number; contextType: string; agentId: string; alarmContent: string; detailPath: string }[]
}

export interface SettingsReply {
  name: string
  appId: number
  secret: string
  agentConfig?: AgentConfig
}
