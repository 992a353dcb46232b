import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import { fileURLToPath, URL } from 'node:url'
import { cpSync, createReadStream, existsSync, statSync, writeFileSync } from 'node:fs'
import { extname, join, normalize } from 'node:path'
import type { Plugin } from 'vite'

// The console serves dist/ (embedded in its binary). Asset URLs are relative, resolved against the <base href> the
// console writes into index.html at serve time, so one build runs at any base path.
// `npm run dev` proxies the API to a console on 127.0.0.1:8443 (EZM_CONSOLE to change it).
const consoleUrl = process.env.EZM_CONSOLE ?? 'http://127.0.0.1:8443'

// The flame-graph viewer: speedscope's prebuilt release (hashed, relative URLs, a .wasm) is copied to dist/speedscope/
// at build time and served from node_modules under /speedscope/ by `npm run dev` (ahead of the proxy).
const speedscopeDir = fileURLToPath(new URL('./node_modules/speedscope/dist/release', import.meta.url))
const speedscopeTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
  '.wasm': 'application/wasm', '.png': 'image/png', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.ttf': 'font/ttf', '.txt': 'text/plain',
}
function speedscope(): Plugin {
  return {
    name: 'speedscope',
    configureServer(server) {
      server.middlewares.use('/speedscope', (req, res, next) => {
        const path = normalize(decodeURIComponent((req.url ?? '/').split(/[?#]/)[0])).replace(/^([/\\.])+/, '')
        const file = join(speedscopeDir, path || 'index.html')
        if (!file.startsWith(speedscopeDir) || !existsSync(file) || !statSync(file).isFile()) return next()
        res.setHeader('content-type', speedscopeTypes[extname(file)] ?? 'application/octet-stream')
        createReadStream(file).pipe(res)
      })
    },
    writeBundle(options) {
      cpSync(speedscopeDir, join(options.dir ?? 'dist', 'speedscope'), { recursive: true })
    },
  }
}

export default defineConfig({
  base: './',
  plugins: [
    vue(),
    speedscope(),
    // dist/ is emptied by every build; its .gitignore is committed so that `cargo build` finds the folder without Node.
    { name: 'keep-dist-gitignore', closeBundle: () => writeFileSync('dist/.gitignore', '*\n!.gitignore\n') },
  ],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: {
    manifest: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1200,
  },
  server: {
    port: Number(process.env.PORT ?? 5173),
    proxy: Object.fromEntries(
      ['/xapi', '/file', '/dashboard', '/openapi.json', '/healthz'].map((p) => [p, { target: consoleUrl, changeOrigin: false }]),
    ),
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
})
