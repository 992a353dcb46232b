// Texts of the files pages (Simplified Chinese: the schema en-US/files.ts is checked against).
export default {
  title: '',
}
