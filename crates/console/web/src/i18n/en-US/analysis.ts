import type zh from '../zh-CN/analysis'

export default {
  title: '',
} satisfies typeof zh
