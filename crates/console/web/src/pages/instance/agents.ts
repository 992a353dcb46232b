// The agent picker: online agents first, then those known only from their history (marked offline).

export interface AgentEntry {
  agentId: string
  /** Ours: false for an agent that reported in the retained days but is not connected now. */
  online?: boolean
  lastSeen?: number
}

export function agentOptions(list: AgentEntry[], offlineLabel: string): { label: string; value: string }[] {
  return [...list]
    .sort((a, b) => Number(b.online !== false) - Number(a.online !== false) || a.agentId.localeCompare(b.agentId))
    .map((a) => ({ value: a.agentId, label: a.online === false ? `${a.agentId} (${offlineLabel})` : a.agentId }))
}
