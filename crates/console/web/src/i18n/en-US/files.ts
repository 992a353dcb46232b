import type zh from '../zh-CN/files'

export default {
  title: '',
} satisfies typeof zh
