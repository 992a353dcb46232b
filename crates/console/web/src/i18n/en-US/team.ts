import type zh from '../zh-CN/team'

export default {
  title: '',
} satisfies typeof zh
