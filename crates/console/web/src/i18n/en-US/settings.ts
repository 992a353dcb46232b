import type zh from '../zh-CN/settings'

export default {
  title: '',
} satisfies typeof zh
