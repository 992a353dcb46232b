// The original front-end as a drop-in: the original xui 1.0.5 bundle as shipped (../shared/fixtures), served by the
// console from `console.ui_dir` with `console.basic_challenge`, against the real stack and the real agent (run.sh
// xui starts both). A browser without credentials gets the Basic challenge; with them, the bundle's pages load
// without a failed call or a page error, a process trend chart draws the agent's data, and the files page's
// DevTools and speedscope buttons land on the bundle's own pages. Screenshots go to $EZM_E2E_SHOTS.
import { readFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { launchBrowser, steps, until } from './lib.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '../../../..')
const base = process.env.E2E_CONSOLE
const shots = process.env.EZM_E2E_SHOTS ?? join(here, 'out')
const appId = process.env.E2E_DEMO_APP
const credentials = { username: process.env.E2E_ADMIN_USER, password: process.env.E2E_ADMIN_PASSWORD }
const { step, exit } = steps('xui')
const problems = []

const browser = await launchBrowser()

/** A page of the bundle; console errors, page errors and failed API calls are problems. The fixture leaves out
 * DevTools' own scripts, so the DevTools page itself is only checked for its address. */
let current
function watch(page) {
  current = page
  const ours = (url) => !url.includes('/public/devtools/')
  page.on('console', (m) => {
    if (m.type() === 'error' && ours(page.url())) problems.push(`console error on ${page.url()}: ${m.text()}`)
  })
  page.on('pageerror', (e) => problems.push(`page error on ${page.url()}: ${e.message}`))
  page.on('response', (r) => {
    const url = new URL(r.url())
    const api = /^\/(xapi|file|dashboard)\//.test(url.pathname)
    if (api && r.status() >= 400) problems.push(`${r.status()} from ${r.request().method()} ${url.pathname}${url.search}`)
  })
  return page
}

async function shot(page, name) {
  await page.waitForLoadState('networkidle').catch(() => {})
  await page.screenshot({ path: join(shots, `xui-${name}.png`), fullPage: true })
}


let exitCode = 0
try {
  await step('without credentials: the Basic challenge, as the original', async () => {
    // Headless Chromium cannot answer a prompt (its navigation fails with ERR_INVALID_AUTH_CREDENTIALS): the answer
    // is read as the browser gets it, through the context's own requests.
    const context = await browser.newContext()
    const response = await context.request.get(`${base}/`)
    const challenge = response.headers()['www-authenticate']
    if (response.status() !== 401 || !/^Basic realm="easy-monitor"$/.test(challenge ?? '')) {
      throw new Error(`GET / answered ${response.status()} with www-authenticate ${challenge}`)
    }
    await context.close()
  })

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', httpCredentials: credentials })
  const page = watch(await context.newPage())
  const csrf = async () => (await context.cookies()).find((c) => c.name === 'csrfToken')?.value

  await step('the bundle\'s home page lists the demo app', async () => {
    await page.goto(`${base}/`)
    await page.waitForURL(/#\/console/)
    await page.getByText('demo').first().waitFor({ timeout: 30_000 })
    await shot(page, 'console')
  })

  let agentId, pid
  await step('the instance page with the real agent\'s process', async () => {
    const reply = await until('the agent online with a process', async () => {
      const agents = await (await page.request.get(`${base}/xapi/agents?appId=${appId}`)).json()
      const agent = agents.data?.list?.[0]?.agentId
      if (!agent) return null
      const processes = await (await page.request.get(`${base}/xapi/xprofiler_processes?appId=${appId}&agentId=${encodeURIComponent(agent)}`)).json()
      const first = processes.data?.list?.find((p) => p.cmd)
      return first ? { agent, pid: first.pid } : null
    }, { timeout: 120_000, every: 1000 })
    ;({ agent: agentId, pid } = reply)
    await page.goto(`${base}/#/app/${appId}/instance?tab=process&agentId=${encodeURIComponent(agentId)}`)
    await page.getByText(String(pid)).first().waitFor({ timeout: 30_000 })
    await shot(page, 'instance')
  })

  await step('a process trend chart draws the agent\'s data', async () => {
    await until('a heap trend with data', async () => {
      const r = await page.request.get(`${base}/xapi/process_trend?appId=${appId}&agentId=${encodeURIComponent(agentId)}&pid=${pid}&trendType=heapTrend&duration=24`)
      return (await r.json()).data?.list?.some((p) => p.heap_used > 0)
    }, { timeout: 120_000, every: 1000 })
    const trends = []
    page.on('response', async (r) => {
      if (r.url().includes('/xapi/process_trend')) trends.push(await r.json().catch(() => null))
    })
    await page.getByText('数据趋势', { exact: true }).first().click()
    await until('the nine trend replies', async () => trends.length >= 9, { timeout: 30_000 })
    if (!trends.some((t) => t?.data?.list?.some((p) => p.heap_used > 0))) throw new Error('no trend reply with heap_used')
    // A drawn chart: the bundle draws its lines with d3 into SVG paths. A process a minute old is one point on the
    // 24 h lines (`M<x>,<y> Z`), so the heap chart's series (rss, heap total, heap used) stand at three heights
    // their figures give: at least three distinct heights among the series' points.
    await until('the series drawn at their figures', async () => page.evaluate(() => {
      const heights = [...document.querySelectorAll('svg path')].map((p) => /^M[\d.]+,([\d.]+)/.exec(p.getAttribute('d') ?? '')?.[1]).filter(Boolean)
      return new Set(heights).size >= 3
    }), { timeout: 30_000 })
    await shot(page, 'process-trend')
  })

  let fileId
  await step('a CPU profile uploaded; the files page lists it', async () => {
    const profile = readFileSync(join(root, '../shared/fixtures/xtransit-3.1.0/artifacts/sample.cpuprofile'))
    const r = await page.request.post(`${base}/xapi/upload_file?appId=${appId}&fileType=cpuprofile`, {
      headers: { 'x-csrf-token': await csrf() },
      multipart: { file: { name: 'x-cpuprofile-1-20261207-1.cpuprofile', mimeType: 'application/octet-stream', buffer: profile } },
    })
    const body = await r.json()
    if (!body.ok) throw new Error(`upload: ${JSON.stringify(body)}`)
    const files = await (await page.request.get(`${base}/xapi/files?appId=${appId}&filterType=cpuprofile&currentPage=1&pageSize=10`)).json()
    fileId = files.data.list[0].fileId
    // A new document: the trend drawer of the page before would stay open over the list on a hash change.
    await page.goto(`${base}/#/app/${appId}/file?filterType=cpuprofile`)
    await page.reload()
    await page.getByText('x-cpuprofile-1-20261207-1.cpuprofile').first().waitFor({ timeout: 30_000 })
    await shot(page, 'files')
  })

  /** Clicks `button` of the file's row and returns the address the new tab lands on. */
  async function launch(button, landed) {
    const [opened] = await Promise.all([context.waitForEvent('page', { timeout: 30_000 }), button.click()])
    const tab = watch(opened)
    await tab.waitForURL(landed, { timeout: 30_000 })
    return tab
  }

  await step('the DevTools buttons land on the bundle\'s DevTools pages', async () => {
    // Each action is an icon button with its label beside it in one `.opt-group`.
    const buttons = page.locator('.opt-group').filter({ has: page.getByText('devtools', { exact: true }) }).locator('button')
    await until('two devtools buttons', async () => (await buttons.count()) >= 2, { timeout: 15_000 })
    for (const [i, version] of [[0, 'new'], [1, 'old']]) {
      const want = new RegExp(`/public/devtools/${version}/devtools_app\\.html\\?fileId=${fileId}&fileType=cpuprofile&fileName=x-cpuprofile-1-20261207-1\\.cpuprofile&selectedTab=js_profiler$`)
      const tab = await launch(buttons.nth(i), want)
      await tab.close()
    }
  })

  await step('the 分析 button lands on the bundle\'s speedscope with the profile', async () => {
    const analyse = page.locator('.opt-group').filter({ has: page.getByText('分析', { exact: true }) }).locator('button')
    const tab = await launch(analyse.first(), /\/public\/speedscope\/flamegraph\.html#profileURL=/)
    await until('speedscope to load the profile', async () => (await tab.title()).includes('x-cpuprofile-1-20261207-1.cpuprofile'), { timeout: 30_000 })
    await shot(tab, 'speedscope')
    await tab.close()
  })
} catch (e) {
  exitCode = 1
  console.error(`FAILED: ${e.stack ?? e}`)
  await current?.screenshot({ path: join(shots, 'xui-failed.png'), fullPage: true }).catch(() => {})
} finally {
  await browser.close()
}
exit(exitCode, problems, shots)
