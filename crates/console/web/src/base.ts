// The one base path the router, the API client and the analysis links share. The console writes it into
// index.html's <base href> when it serves the page (console.base_path), so one build runs behind any prefix.

/** The base path, always starting and ending with "/" (e.g. "/" or "/monitor/"). */
export function basePath(): string {
  if (typeof document === 'undefined') return '/'
  const path = new URL(document.baseURI).pathname
  return path.endsWith('/') ? path : path.replace(/[^/]*$/, '')
}

/** An absolute same-origin path under the base: `href('xapi/apps')` → "/monitor/xapi/apps". */
export function href(path: string): string {
  return basePath() + path.replace(/^\//, '')
}
