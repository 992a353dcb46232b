// The settings page's checks: an app name is 1 to 30 characters once trimmed (counted as the server counts them,
// by code point), and deleting needs the app's name typed exactly.

export const MAX_NAME = 30

export type NameProblem = 'empty' | 'tooLong' | 'same'

export function nameProblem(typed: string, current: string): NameProblem | undefined {
  const name = typed.trim()
  const length = [...name].length
  if (length === 0) return 'empty'
  if (length > MAX_NAME) return 'tooLong'
  if (name === current) return 'same'
  return undefined
}

/** The typed confirmation of a deletion: the name exactly (surrounding spaces ignored). */
export function deletionConfirmed(typed: string, name: string): boolean {
  return name !== '' && typed.trim() === name
}

/** A secret shown masked: dots, at least 8 and at most 24 (its length is not told beyond that). */
export function masked(secret: string): string {
  return '•'.repeat(Math.min(24, Math.max(8, secret.length)))
}
