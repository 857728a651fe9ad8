// Durations as Kubernetes users write them: Go's time.ParseDuration syntax ("90s", "1h30m",
// "1.5h", "500ms"), the same strings the CRDs' CEL rules accept and controller-runtime's flags take.

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const WHOLE = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;

/** Milliseconds of a Go duration string; `what` names the setting in the error. */
export function parseDuration(text: string, what: string): number {
  const trimmed = text.trim();
  // "0" is the one unitless duration Go accepts.
  if (trimmed === '0') return 0;
  if (!WHOLE.test(trimmed)) {
    throw new Error(`${what}: "${text}" is not a duration; expected a number with a unit (ns, us, ms, s, m, h), e.g. "30s" or "1h30m"`);
  }
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(PART)) total += Number(amount) * (UNIT_MS[unit ?? ''] ?? 0);
  return total;
}
