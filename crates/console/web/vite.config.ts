import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import { fileURLToPath, URL } from 'node:url'
import { writeFileSync } from 'node:fs'

// The console serves dist/ (embedded in its binary). Asset URLs are relative, resolved against the <base href> the
// console writes into index.html at serve time, so one build runs at any base path.
// `npm run dev` proxies the API to a console on 127.0.0.1:8443 (EZM_CONSOLE to change it).
const consoleUrl = process.env.EZM_CONSOLE ?? 'http://127.0.0.1:8443'

export default defineConfig({
  base: './',
  plugins: [
    vue(),
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
      ['/xapi', '/file', '/dashboard', '/openapi.json', '/speedscope'].map((p) => [p, { target: consoleUrl, changeOrigin: false }]),
    ),
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
})
