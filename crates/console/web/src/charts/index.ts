// Charts load when a page first draws one: ECharts is its own chunk, outside the pages' bundles (budget: 250 kB).
import { defineAsyncComponent } from 'vue'

export const TimeSeriesChart = defineAsyncComponent(() => import('./TimeSeriesChart.vue'))
