// Browser tests against the real stack (started by run.sh) with the real xtransit + xprofiler agent: a person signs
// in, creates an app, starts the agent with the configuration the page shows, sees the instance and a chart with
// data, takes a CPU profile, transfers it, opens its flame graph and top functions, opens a diagnostic report,
// invites a second user who accepts, creates an alarm rule and switches language. Any console error or page error
// in the browser fails the run. Screenshots of every main page in both languages go to $EZM_E2E_SHOTS.
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync, appendFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { launchBrowser, steps, until } from './lib.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '../../../..')
const base = process.env.E2E_CONSOLE
const shots = process.env.EZM_E2E_SHOTS ?? join(here, 'out')
const state = process.env.E2E_STATE
mkdirSync(shots, { recursive: true })
const { step, exit } = steps('e2e')
const children = []
const problems = []

/** The real monitored app and the real agent for the app the browser created. */
function startAgent(appId, secret) {
  const agent = process.env.EZM_AGENT_CACHE ?? join(process.env.HOME, '.cache/easy-monitor/agent-3.1.0')
  const assets = join(root, 'crates/ws-server/tests/real-agent')
  const env = {
    ...process.env,
    NODE_PATH: join(agent, 'node_modules'),
    XPROFILER_PREFIX: state,
    XTRANSIT_PREFIX: state,
    XPROFILER_LOG_DIR: join(state, 'logs'),
    ERROR_LOG: join(state, 'app-error.log'),
    // xprofiler writes its log every second and xtransit sends it every second (instead of every minute).
    XPROFILER_LOG_INTERVAL: '1',
    UNIT_TEST_TRANSIT_LOG_INTERVAL: '1',
  }
  writeFileSync(env.ERROR_LOG, '')
  mkdirSync(env.XPROFILER_LOG_DIR, { recursive: true })
  const app = spawn('node', [join(assets, 'app.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const xtransit = spawn('node', [join(assets, 'agent.js')], {
    env: { ...env, EZM_SERVER: process.env.E2E_WS + '/', EZM_APP_ID: String(appId), EZM_APP_SECRET: secret, EZM_LOG_DIR: env.XPROFILER_LOG_DIR, EZM_HEARTBEAT: '5', EZM_PACKAGE: join(agent, 'package.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  for (const [name, p] of [['app', app], ['agent', xtransit]]) {
    p.stdout.on('data', (d) => appendFileSync(join(shots, `${name}.log`), d))
    p.stderr.on('data', (d) => appendFileSync(join(shots, `${name}.log`), d))
    children.push(p)
  }
  return app
}

const browser = await launchBrowser()

async function newPage(locale = 'zh-CN', viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, locale, acceptDownloads: true })
  const page = await context.newPage()
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error on ${page.url()}: ${m.text()}`)
  })
  page.on('pageerror', (e) => problems.push(`page error on ${page.url()}: ${e.message}`))
  return page
}

async function shot(page, name) {
  await page.waitForLoadState('networkidle').catch(() => {})
  await page.waitForTimeout(400)
  const file = join(shots, `${name}.png`)
  await page.screenshot({ path: file, fullPage: true })
}

async function signIn(page, name, password) {
  await page.goto(`${base}/signin`)
  await page.fill('#signin-name', name)
  await page.fill('#signin-password', password)
  await page.click('[data-test=signin]')
  await page.waitForURL(/\/apps/)
}


let exitCode = 0
try {
  const page = await newPage('zh-CN')
  await step('sign-in page', async () => {
    await page.goto(`${base}/signin`)
    await shot(page, 'zh-CN-signin')
  })
  await step('sign in as the administrator', () => signIn(page, process.env.E2E_ADMIN_USER, process.env.E2E_ADMIN_PASSWORD))

  let appId, secret, monitored
  await step('create an app and read its agent configuration', async () => {
    await page.click('[data-test=create-app]')
    await page.fill('#new-app-name', 'e2e-shop')
    await page.click('[data-test=create-app-submit]')
    await page.waitForSelector('[data-test=app-created]')
    appId = Number(await page.inputValue('[data-test=created-app-id] input'))
    secret = await page.inputValue('[data-test=created-app-secret] input')
    if (!appId || !/^[0-9a-f]{32}$/.test(secret)) throw new Error(`bad app reply: ${appId} ${secret}`)
    await shot(page, 'zh-CN-app-created')
  })

  await step('start the real agent with it; the instance shows up', async () => {
    monitored = startAgent(appId, secret)
    await page.goto(`${base}/app/${appId}/instance`)
    await until('the agent in the instance list', async () => {
      await page.reload()
      return page.waitForSelector('[data-test=agent-picker]', { timeout: 3000 }).then(() => true).catch(() => false)
    }, { timeout: 90_000, every: 1000 })
  })

  await step('a process trend chart with data', async () => {
    await until('a process row', async () => {
      await page.reload()
      return page.waitForSelector('[data-test=process-detail]', { timeout: 4000 }).then(() => true).catch(() => false)
    }, { timeout: 150_000, every: 2000 })
    // The first minute's bucket closes a minute after the process started reporting.
    await until('the CPU chart with data', async () => {
      if (await page.locator('[data-test=chart-cpuTrend] canvas').count()) return true
      await page.reload()
      return page.waitForSelector('[data-test=chart-cpuTrend] canvas', { timeout: 5000 }).then(() => true).catch(() => false)
    }, { timeout: 180_000, every: 3000 })
    await shot(page, 'zh-CN-instance-process')
  })

  await step('take a CPU profile of 5 seconds', async () => {
    await page.click('[data-test=profiling-time]')
    await page.click('.n-base-select-option:has-text("5")')
    await page.click('[data-test=action-cpuprofile]')
    await page.waitForSelector('[data-test=action-result]')
    const text = await page.textContent('[data-test=action-result]')
    if (!/cpuprofile/.test(text)) throw new Error(`action reply: ${text}`)
  })

  /** Waits on the files page until the newest row of a type is transferred, transferring it when it is generated. */
  async function transferred(type) {
    await page.goto(`${base}/app/${appId}/file?filterType=${type}`)
    const row = page.locator(`[data-test^=file-${type}-]`).first()
    await until(`a ${type} file generated`, async () => {
      if (await row.locator('[data-test=file-analyse], [data-test=file-download]').count()) return true
      const transfer = row.locator('[data-test=file-transfer]')
      if ((await transfer.count()) && (await transfer.isEnabled())) {
        await transfer.click()
      }
      return false
    }, { timeout: 120_000, every: 1000 })
    return row
  }

  await step('transfer the CPU profile; its flame graph and top functions', async () => {
    const row = await transferred('cpuprofile')
    await shot(page, 'zh-CN-files')
    await row.locator('[data-test=file-analyse]').click()
    await page.waitForSelector('[data-test=profile-table] tbody tr', { timeout: 60_000 })
    await shot(page, 'zh-CN-analysis-cpuprofile')
    const here = new URL(page.url())
    here.searchParams.set('view', 'flame')
    await page.goto(here.href)
    const frame = await page.waitForSelector('[data-test=flame-frame]', { timeout: 30_000 })
    const src = await frame.getAttribute('src')
    if (!/speedscope\/index\.html#profileURL=/.test(src ?? '')) throw new Error(`flame graph frame: ${src}`)
    const speedscope = await until('speedscope to answer', async () => (await page.request.get(new URL(src, page.url()).href.split('#')[0])).ok())
    if (!speedscope) throw new Error('speedscope not served')
    await page.waitForTimeout(1500)
    await shot(page, 'zh-CN-analysis-flamegraph')
  })

  await step('a diagnostic report, transferred and opened', async () => {
    await page.goto(`${base}/app/${appId}/instance`)
    await page.click('[data-test=action-diag]')
    await page.waitForSelector('[data-test=action-result]')
    const row = await transferred('diag')
    await row.locator('[data-test=file-analyse]').click()
    await page.waitForSelector('[data-test=diag-view]', { timeout: 60_000 })
    await shot(page, 'zh-CN-analysis-diag')
  })

  let other
  await step('a second user signs up, is invited by identity and accepts', async () => {
    other = await newPage('en-US')
    await signIn(other, 'bob@e2e.example', 'bob-e2e-password-1')
    const me = await other.evaluate(async () => (await (await fetch('xapi/user')).json()).data)
    await page.goto(`${base}/app/${appId}/team`)
    await page.fill('[data-test=invite-identity]', String(me.id))
    await page.click('[data-test=invite-submit]')
    await page.waitForSelector(`[data-test=member-${me.userId}]`, { timeout: 15_000 })
    await other.goto(`${base}/apps`)
    await other.click(`[data-test=invitation-${appId}] button:has-text("Join")`)
    await other.waitForSelector(`[data-test=invitation-${appId}]`, { state: 'detached', timeout: 15_000 })
    await other.goto(`${base}/apps?type=joinedApps`)
    await other.waitForSelector(`[data-test=app-${appId}]`, { timeout: 15_000 })
    await shot(other, 'en-US-apps-joined')
    await page.reload()
    await shot(page, 'zh-CN-team')
  })

  await step('a refusal in the English UI is shown in English (the reason key, not the Chinese message)', async () => {
    await other.goto(`${base}/apps`)
    for (const expectCreated of [true, false]) {
      await other.click('[data-test=create-app]')
      await other.fill('#new-app-name', 'bob-shop')
      await other.click('[data-test=create-app-submit]')
      if (expectCreated) {
        await other.waitForSelector('[data-test=app-created]')
        await other.goto(`${base}/apps`)
      }
    }
    const alert = other.locator('[role=alert]:has-text("You already have an app with this name")')
    await alert.waitFor({ timeout: 15_000 })
    await shot(other, 'en-US-apps-duplicate-refused')
  })

  await step('an alarm rule from a preset', async () => {
    await page.goto(`${base}/app/${appId}/alarm`)
    await page.click('[data-test=alarm-add]')
    await page.waitForSelector('[data-test=alarm-form]')
    await page.click('[data-test=alarm-preset]')
    await page.keyboard.press('Enter')
    // The first preset is a process rule: it may take a heap snapshot by itself.
    await page.click('[data-test=alarm-auto-action]')
    await page.click('.n-base-select-option:has-text("堆快照")')
    await shot(page, 'zh-CN-alarm-form')
    await page.click('[data-test=alarm-submit]')
    await page.waitForSelector('[data-test^=rule-count-]', { timeout: 15_000 })
    await page.waitForSelector('[data-test=rule-auto-action]')
    await shot(page, 'zh-CN-alarm')
  })

  await step('system, error log and module tabs', async () => {
    // The monitored app writes an error to its error log on SIGUSR2; the agent tails it.
    for (let i = 0; i < 3; i++) monitored.kill('SIGUSR2')
    for (const tab of ['system', 'error_log', 'module_risk']) {
      await page.goto(`${base}/app/${appId}/instance?tab=${tab}`)
      await shot(page, `zh-CN-instance-${tab}`)
    }
  })

  await step('settings and administration', async () => {
    await page.goto(`${base}/app/${appId}/setting`)
    await page.click('[data-test=settings-reveal]')
    await page.waitForSelector('[data-test=settings-secret]')
    await shot(page, 'zh-CN-settings')
    await page.goto(`${base}/admin`)
    await shot(page, 'zh-CN-admin')
    await page.goto(`${base}/apps`)
    await page.waitForSelector(`[data-test=app-${appId}]`)
    await shot(page, 'zh-CN-apps')
  })

  await step('switch to English; every main page again', async () => {
    await page.click('[data-test=language]')
    const lang = await page.evaluate(() => document.documentElement.lang)
    if (lang !== 'en-US') throw new Error(`html lang after switching: ${lang}`)
    const pages = {
      apps: '/apps',
      'instance-process': `/app/${appId}/instance`,
      'instance-system': `/app/${appId}/instance?tab=system`,
      'instance-error_log': `/app/${appId}/instance?tab=error_log`,
      'instance-module_risk': `/app/${appId}/instance?tab=module_risk`,
      files: `/app/${appId}/file`,
      team: `/app/${appId}/team`,
      alarm: `/app/${appId}/alarm`,
      settings: `/app/${appId}/setting`,
      admin: '/admin',
    }
    for (const [name, path] of Object.entries(pages)) {
      await page.goto(base + path)
      await shot(page, `en-US-${name}`)
    }
    await page.reload()
    if ((await page.evaluate(() => document.documentElement.lang)) !== 'en-US') throw new Error('language not remembered')
    const phone = await newPage('en-US', { width: 375, height: 800 })
    await signIn(phone, process.env.E2E_ADMIN_USER, process.env.E2E_ADMIN_PASSWORD)
    for (const [name, path] of Object.entries({ apps: '/apps', 'instance-process': `/app/${appId}/instance`, files: `/app/${appId}/file` })) {
      await phone.goto(base + path)
      await shot(phone, `en-US-375-${name}`)
    }
  })
} catch (e) {
  exitCode = 1
  console.error(`FAILED: ${e.stack ?? e}`)
} finally {
  for (const c of children) c.kill('SIGTERM')
  await browser.close()
}
exit(exitCode, problems, shots)
