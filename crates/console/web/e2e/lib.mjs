// What the browser tests share: waiting for a condition, Debian's chromium, and named steps with their times.
import { chromium } from 'playwright-core'

/** Resolves with `fn`'s first truthy value, trying every `every` ms; fails after `timeout` ms naming `what`. */
export async function until(what, fn, { timeout = 60_000, every = 500 } = {}) {
  const end = Date.now() + timeout
  let last
  while (Date.now() < end) {
    try {
      const v = await fn()
      if (v) return v
    } catch (e) {
      last = e
    }
    await new Promise((r) => setTimeout(r, every))
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`)
}

/** Debian's chromium, headless, without the background traffic this machine's closed network refuses. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
}

/** A log prefixed with `name` and the seconds since start, steps timed into it, and the end of a run. */
export function steps(name) {
  const started = Date.now()
  const done = []
  const log = (...args) => console.log(`[${name} ${((Date.now() - started) / 1000).toFixed(1)}s]`, ...args)
  return {
    log,
    async step(title, fn) {
      const t0 = Date.now()
      log(`▶ ${title}`)
      await fn()
      done.push([title, Date.now() - t0])
    },
    /** Logs the steps' times and the browser's problems, and exits: failed when a step or a problem failed it. */
    exit(exitCode, problems, shots) {
      for (const [title, ms] of done) log(`  ${title}: ${(ms / 1000).toFixed(1)} s`)
      if (problems.length) console.error(`browser problems (${problems.length}):\n  ${problems.join('\n  ')}`)
      console.log(`screenshots: ${shots}`)
      process.exit(problems.length ? 1 : exitCode)
    },
  }
}
