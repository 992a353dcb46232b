// A package.json as /xapi/module gives it, joined with the lock file's versions and the audit's findings.
import type { ModuleFile, ModuleReply } from '@/api/types'

type Advisory = NonNullable<ModuleFile['riskModules']>[string][number]

export interface DependencyRow {
  name: string
  range: string
  version?: string
  severity?: string
  risks: Advisory[]
}

const ORDER = ['critical', 'high', 'moderate', 'low']

export function dependencyRows(reply: ModuleReply, dev: boolean, riskModules?: ModuleFile['riskModules']): DependencyRow[] {
  const deps = (dev ? reply.devDependencies : reply.dependencies) ?? {}
  return Object.entries(deps)
    .map(([name, range]) => {
      const risks = riskModules?.[name] ?? []
      const severity = [...risks].sort((a, b) => ORDER.indexOf(a.severity) - ORDER.indexOf(b.severity))[0]?.severity
      return { name, range: String(range), version: reply.lockModule?.[name]?.version, severity, risks }
    })
    .sort((a, b) => (a.severity ? ORDER.indexOf(a.severity) : 9) - (b.severity ? ORDER.indexOf(b.severity) : 9) || a.name.localeCompare(b.name))
}

/** The banner colour: critical or high, moderate, low, or none. */
export function riskLevel(risk: Exclude<ModuleFile['risk'], false | null | undefined>): 'high' | 'moderate' | 'low' | 'none' {
  const v = risk.vulnerabilities ?? {}
  if ((v.critical ?? 0) > 0 || (v.high ?? 0) > 0) return 'high'
  if ((v.moderate ?? 0) > 0) return 'moderate'
  if ((v.low ?? 0) > 0) return 'low'
  return 'none'
}
