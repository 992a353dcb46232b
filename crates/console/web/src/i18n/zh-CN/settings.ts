// Texts of the settings pages (Simplified Chinese: the schema en-US/settings.ts is checked against).
export default {
  title: '',
}
