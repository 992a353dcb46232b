import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/client'
import { downloadUrl, envelopeError, fetchFileJson, fileName, speedscopeUrl } from './download'

describe('download URLs', () => {
  it('ends the name with the type', () => {
    expect(fileName('x.cpuprofile', 'cpuprofile', 1)).toBe('x.cpuprofile')
    expect(fileName('/tmp/a/x', 'heapprofile', 1)).toBe('x.heapprofile')
    expect(fileName(undefined, 'cpuprofile', 7)).toBe('cpuprofile-7.cpuprofile')
  })
  it('builds the speedscope link with an absolute same-origin profile URL ending with the name', () => {
    expect(downloadUrl('cpuprofile', 12, 'x y.cpuprofile')).toBe('/file/download?fileType=cpuprofile&fileId=12&name=x%20y.cpuprofile')
    const url = speedscopeUrl('http://127.0.0.1:8443', 'cpuprofile', 12, 'x.cpuprofile')
    expect(url.startsWith('/speedscope/index.html#profileURL=')).toBe(true)
    const hash = new URLSearchParams(url.split('#')[1])
    expect(hash.get('profileURL')).toBe('http://127.0.0.1:8443/file/download?fileType=cpuprofile&fileId=12&name=x.cpuprofile')
    expect(hash.get('profileURL')!.endsWith('x.cpuprofile')).toBe(true)
    expect(hash.get('title')).toBe('x.cpuprofile')
    expect(hash.get('view')).toBe('left-heavy')
  })
})

describe('fetching a file', () => {
  const serve = (body: string, init: ResponseInit) => {
    globalThis.fetch = (async () => new Response(body, init)) as typeof fetch
  }
  it('tells a refusal from a file', () => {
    expect(envelopeError({ ok: false, message: 'nope', code: 404 }, 200)).toMatchObject({ message: 'nope', code: 404 })
    expect(envelopeError({ ok: true }, 200)).toBeUndefined()
    expect(envelopeError({ nodes: [] }, 200)).toBeUndefined()
    expect(envelopeError([1], 200)).toBeUndefined()
  })
  it('parses a file and reports progress', async () => {
    serve('{"gc":[]}', { status: 200, headers: { 'content-type': 'application/octet-stream' } })
    const seen: number[] = []
    expect(await fetchFileJson('/f', new AbortController().signal, (p) => seen.push(p.loaded))).toEqual({ gc: [] })
    expect(seen.at(-1)).toBe(9)
  })
  it('throws the envelope message of a refusal', async () => {
    serve('{"ok":false,"message":"文件不存在","code":404}', { status: 200, headers: { 'content-type': 'application/json' } })
    await expect(fetchFileJson('/f', new AbortController().signal)).rejects.toMatchObject({ message: '文件不存在', code: 404 })
  })
  it('throws on a non-2xx, HTML, or bad JSON', async () => {
    serve('{"ok":false,"message":"请先登录","code":401}', { status: 401, headers: { 'content-type': 'application/json' } })
    await expect(fetchFileJson('/f', new AbortController().signal)).rejects.toBeInstanceOf(ApiError)
    serve('<!doctype html>', { status: 200, headers: { 'content-type': 'text/html' } })
    await expect(fetchFileJson('/f', new AbortController().signal)).rejects.toThrow(/page instead/)
    serve('{not json', { status: 200, headers: { 'content-type': 'application/octet-stream' } })
    await expect(fetchFileJson('/f', new AbortController().signal)).rejects.toThrow(/not valid JSON/)
  })
})
