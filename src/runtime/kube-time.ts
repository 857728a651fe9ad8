// Kubernetes timestamps as status fields and conditions hold them: RFC 3339 in UTC with whole
// seconds, the form Kubernetes' own types (metav1.Time) write. One formatter, so every controller
// writes times the same way and a time written now compares equal to the same time read back.

/** `date` as a Kubernetes timestamp, e.g. 2026-01-02T03:04:05Z. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
