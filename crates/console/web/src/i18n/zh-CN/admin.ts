// Texts of the admin pages (Simplified Chinese: the schema en-US/admin.ts is checked against).
export default {
  title: '',
}
