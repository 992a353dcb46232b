import type zh from '../zh-CN/instance'

export default {
  title: '',
} satisfies typeof zh
