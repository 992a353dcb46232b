// Texts of the analysis pages (Simplified Chinese: the schema en-US/analysis.ts is checked against).
export default {
  title: '',
}
