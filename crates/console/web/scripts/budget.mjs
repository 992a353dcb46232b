// The bundle budget (issue 10, STYLE-frontend.md): from Vite's manifest, the gzipped size of the entry and every
// chunk it imports statically (what the first page load costs), and of each lazy page with its own imports.
// Fails when the initial load exceeds 200 kB gzip or any page's extra load exceeds 250 kB gzip (charts included).
import { readFileSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const dist = join(dirname(fileURLToPath(import.meta.url)), '../dist')
const manifest = JSON.parse(readFileSync(join(dist, '.vite/manifest.json'), 'utf8'))
const INITIAL_LIMIT = 200 * 1024
const PAGE_LIMIT = 250 * 1024
const size = new Map()
const gz = (file) => {
  if (!size.has(file)) size.set(file, gzipSync(readFileSync(join(dist, file)), { level: 9 }).length)
  return size.get(file)
}
function closure(key, seen = new Set()) {
  if (seen.has(key)) return seen
  seen.add(key)
  for (const dep of manifest[key].imports ?? []) closure(dep, seen)
  return seen
}
function cost(keys) {
  let total = 0
  for (const k of keys) {
    total += gz(manifest[k].file)
    for (const css of manifest[k].css ?? []) total += gz(css)
  }
  return total
}
const entry = Object.keys(manifest).find((k) => manifest[k].isEntry)
const initial = closure(entry)
const initialBytes = cost(initial)
const kb = (n) => `${(n / 1024).toFixed(1)} kB`
const lines = [`initial load (entry + static imports): ${kb(initialBytes)} gzip (budget ${kb(INITIAL_LIMIT)})`]
let failed = initialBytes > INITIAL_LIMIT
for (const key of Object.keys(manifest).filter((k) => manifest[k].isDynamicEntry).sort()) {
  const extra = [...closure(key)].filter((k) => !initial.has(k))
  const bytes = cost(extra)
  const over = bytes > PAGE_LIMIT
  failed ||= over
  lines.push(`  ${key.replace(/^src\//, '')}: +${kb(bytes)} gzip${over ? `  OVER the ${kb(PAGE_LIMIT)} budget` : ''}`)
}
console.log(lines.join('\n'))
writeFileSync(join(dist, 'budget.txt'), lines.join('\n') + '\n')
if (failed) {
  console.error('bundle budget exceeded')
  process.exit(1)
}
