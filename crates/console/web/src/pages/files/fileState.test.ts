import { describe, expect, it } from 'vitest'
import type { FileRow } from '@/api/types'
import {
  applyStatus,
  applyStatusFailure,
  downloadPath,
  isCoreName,
  isExecutableName,
  lastPage,
  parseFilter,
  parsePage,
  rowActions,
  statusQuery,
  typeOfFileName,
  withStatus,
} from './fileState'

const row = (over: Partial<FileRow>): FileRow => ({
  fileId: 1, fileType: 'cpuprofile', file: '/tmp/x.cpuprofile', basename: 'x.cpuprofile', creator: 'me', time: '2026-12-01 10:00:00',
  agent: 'vm', status: 3, favor: 0, ...over,
})

describe('rowActions', () => {
  it('generating: spinner, nothing usable', () => {
    expect(rowActions(row({ status: 0 }))).toEqual({ badge: 'generating', transfer: { kind: 'transfer', enabled: false }, ready: false, analyse: false, executable: false })
  })
  it('generated: transfer enabled', () => {
    expect(rowActions(row({ status: 1 })).transfer).toEqual({ kind: 'transfer', enabled: true })
    expect(rowActions(row({ status: 1 })).ready).toBe(false)
  })
  it('transferring: spinner on the transfer button', () => {
    expect(rowActions(row({ status: 2 })).transfer).toEqual({ kind: 'transferring' })
  })
  it('transferred: everything, retransfer unless uploaded or a trend', () => {
    const a = rowActions(row({ status: 3 }))
    expect(a).toMatchObject({ badge: 'transferred', transfer: { kind: 'retransfer' }, ready: true, analyse: true })
    expect(rowActions(row({ status: 3, agent: 'upload' })).transfer).toEqual({ kind: 'none' })
    expect(rowActions(row({ status: 3, fileType: 'trend' })).transfer).toEqual({ kind: 'none' })
  })
  it('failed: red badge, nothing else', () => {
    expect(rowActions(row({ status: 99 }))).toMatchObject({ badge: 'failed', ready: false, transfer: { kind: 'transfer', enabled: false } })
  })
  it('client states 998 and 999', () => {
    expect(rowActions(row({ status: 998 })).badge).toBe('unknown')
    expect(rowActions(row({ status: 999 })).transfer).toEqual({ kind: 'transferFailed' })
  })
  it('core: no analysis, executable link once transferred', () => {
    expect(rowActions(row({ status: 3, fileType: 'core' }))).toMatchObject({ analyse: false, executable: true, ready: true })
    expect(rowActions(row({ status: 1, fileType: 'core' })).executable).toBe(false)
  })
})

describe('polling', () => {
  const rows = [row({ fileId: 1, status: 0 }), row({ fileId: 2, status: 3 }), row({ fileId: 3, status: 2, fileType: 'diag' }), row({ fileId: 4, status: 998 })]
  it('asks only about generating and transferring rows, with their index', () => {
    expect(statusQuery(rows)).toEqual([
      { fileId: 1, fileType: 'cpuprofile', status: 0, index: 0 },
      { fileId: 3, fileType: 'diag', status: 2, index: 2 },
    ])
    expect(statusQuery([row({ status: 1 }), row({ status: 99 })])).toEqual([])
  })
  it('applies a reply by index and keeps untouched rows', () => {
    const next = applyStatus(rows, [{ index: 0, status: 1 }, { index: 2, status: 3, fileId: 3, fileType: 'diag' }])
    expect(next.map((r) => r.status)).toEqual([1, 3, 3, 998])
    expect(next[1]).toBe(rows[1])
    expect(rows[0].status).toBe(0)
  })
  it('ignores replies for rows that changed meanwhile', () => {
    expect(applyStatus(rows, [{ index: 0, status: 3, fileId: 9 }, { index: 7, status: 3 }]).map((r) => r.status)).toEqual([0, 3, 2, 998])
  })
  it('a failed check turns 0 into 998 and 2 into 999', () => {
    const next = applyStatusFailure(rows, statusQuery(rows))
    expect(next.map((r) => r.status)).toEqual([998, 3, 999, 998])
    expect(statusQuery(next)).toEqual([])
  })
  it('clicking unknown resumes polling', () => {
    expect(statusQuery(withStatus(rows, 3, 0)).map((q) => q.fileId)).toEqual([1, 3, 4])
  })
})

describe('query and upload helpers', () => {
  it('reads the filter and page from the query', () => {
    expect(parseFilter('favor')).toBe('favor')
    expect(parseFilter('nope')).toBe('all')
    expect(parseFilter(undefined)).toBe('all')
    expect(parsePage('3')).toBe(3)
    expect(parsePage('0')).toBe(1)
    expect(parsePage('x')).toBe(1)
    expect(lastPage(0)).toBe(1)
    expect(lastPage(10)).toBe(1)
    expect(lastPage(11)).toBe(2)
  })
  it('takes the type from the extension', () => {
    expect(typeOfFileName('a.b.cpuprofile')).toBe('cpuprofile')
    expect(typeOfFileName('x.HEAPSNAPSHOT')).toBe('heapsnapshot')
    expect(typeOfFileName('x.json')).toBeUndefined()
    expect(typeOfFileName('x.core')).toBeUndefined()
    expect(isCoreName('node.1234.core')).toBe(true)
    expect(isExecutableName('node.node')).toBe(true)
    expect(isExecutableName('node')).toBe(false)
  })
  it('builds download paths ending with the file name', () => {
    expect(downloadPath('cpuprofile', 12)).toBe('file/download?fileType=cpuprofile&fileId=12')
    expect(downloadPath('cpuprofile', 12, 'a b.cpuprofile')).toBe('file/download?fileType=cpuprofile&fileId=12&name=a%20b.cpuprofile')
    expect(downloadPath('executable', 3)).toBe('file/download?fileType=executable&fileId=3')
  })
})
