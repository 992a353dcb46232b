import type zh from '../zh-CN/admin'

export default {
  title: '',
} satisfies typeof zh
