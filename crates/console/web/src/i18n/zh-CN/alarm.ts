// Texts of the alarm pages (Simplified Chinese: the schema en-US/alarm.ts is checked against).
export default {
  title: '',
}
