// Kubernetes resource quantities ("500m", "16Gi", "1e3") as exact numbers, so limits can be
// compared with ceilings without floating point: a quantity becomes a count of nano-units.
const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Readonly<Record<string, bigint>> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};
const QUANTITY = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$/;
const NANO_DIGITS = 9;
// No resource comes near a scale of 10^100 nano-units; a quantity written beyond it is refused
// rather than computed, as 10^exponent for a "1e999999999" a spec may hold costs seconds of CPU.
const MAX_NANO_EXPONENT = 100;

/**
 * The quantity in nano-units (rounded up below a nano, as Kubernetes rounds); undefined when it is
 * not a quantity, or one whose exponent puts it beyond a scale of 10^100 nano-units.
 */
export function quantityNanos(text: string): bigint | undefined {
  const match = QUANTITY.exec(text.trim());
  if (match === null) return undefined;
  const [, sign = '', number = '', suffix = ''] = match;
  const [whole = '', fraction = ''] = number.split('.');
  // digits × 10^(exponent − fraction length) × multiplier, in nano-units
  const digits = BigInt(`${whole}${fraction}` === '' ? '0' : `${whole}${fraction}`);
  let exponent = NANO_DIGITS - fraction.length;
  let multiplier = 1n;
  if (suffix in BINARY_SUFFIXES) multiplier = BINARY_SUFFIXES[suffix] ?? 1n;
  else if (suffix in DECIMAL_SUFFIXES) exponent += DECIMAL_SUFFIXES[suffix] ?? 0;
  else exponent += Number(suffix.slice(1));
  if (exponent > MAX_NANO_EXPONENT) return undefined;
  const scaled = digits * multiplier;
  const value = exponent >= 0 ? scaled * 10n ** BigInt(exponent) : belowNanos(scaled, -exponent);
  return sign === '-' ? -value : value;
}

/** scaled / 10^places rounded up; a divisor longer than the number leaves at most one nano, uncomputed. */
function belowNanos(scaled: bigint, places: number): bigint {
  if (places > scaled.toString().length) return scaled === 0n ? 0n : 1n;
  const denominator = 10n ** BigInt(places);
  return (scaled + denominator - 1n) / denominator;
}
