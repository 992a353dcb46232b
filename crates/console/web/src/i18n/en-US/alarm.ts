import type zh from '../zh-CN/alarm'

export default {
  title: '',
} satisfies typeof zh
