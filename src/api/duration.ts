// Durations as Kubernetes users write them: Go's time.ParseDuration syntax without a sign ("90s",
// "1h30m", "1.5h", "500ms"), the strings the CRDs' CEL rules accept and controller-runtime's flags
// take. One parser, exact in bigint nanoseconds, behind the two views the operator needs.

const NANOS_PER_UNIT: Readonly<Record<string, bigint>> = {
  h: 3_600_000_000_000n,
  m: 60_000_000_000n,
  s: 1_000_000_000n,
  ms: 1_000_000n,
  us: 1_000n,
  µs: 1_000n,
  ns: 1n,
};
const NANOS_PER_SECOND = 1_000_000_000n;
const NANOS_PER_MS = 1_000_000n;
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
const PART = /(\d+)(?:\.(\d+))?(ns|us|µs|ms|s|m|h)/g;

/** Nanoseconds of a duration string, or undefined when it is not one. "0" is Go's one unitless duration. */
export function durationNanos(text: string): bigint | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0n;
  if (!WHOLE.test(trimmed)) return undefined;
  let nanos = 0n;
  for (const [, whole = '0', fraction = '', unit = 's'] of trimmed.matchAll(PART)) {
    const perUnit = NANOS_PER_UNIT[unit] ?? NANOS_PER_SECOND;
    nanos += BigInt(whole) * perUnit + (BigInt(fraction === '' ? '0' : fraction) * perUnit) / 10n ** BigInt(fraction.length);
  }
  return nanos;
}

/** Milliseconds of a duration flag or setting; `what` names it in the error. */
export function parseDuration(text: string, what: string): number {
  const nanos = durationNanos(text);
  if (nanos === undefined) {
    throw new Error(`${what}: "${text}" is not a duration; expected a number with a unit (ns, us, ms, s, m, h), e.g. "30s" or "1h30m"`);
  }
  return Number(nanos / NANOS_PER_MS) + Number(nanos % NANOS_PER_MS) / 1e6;
}

/** Whole seconds, rounded up (a timeout paid in whole seconds must not cut a job short). */
export function ceilSeconds(nanos: bigint): bigint {
  return (nanos + NANOS_PER_SECOND - 1n) / NANOS_PER_SECOND;
}
