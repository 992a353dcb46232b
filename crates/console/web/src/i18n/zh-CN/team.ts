// Texts of the team pages (Simplified Chinese: the schema en-US/team.ts is checked against).
export default {
  title: '',
}
