// NOS amounts. Everything is bigint base units (1 NOS = 10^6 base units); decimal strings exist
// only at the edges (CRD fields, CLI output). No float ever touches an amount.

export const NOS_DECIMALS = 6;
export const BASE_UNITS_PER_NOS = 10n ** BigInt(NOS_DECIMALS);
export const LAMPORTS_PER_SOL = 1_000_000_000n;

/**
 * Fee the network adds on top of a job's deposit, as a fraction in parts per million. The current
 * jobs program charges none (0); builds from before 2026-05 sent 10 % (100_000 ppm) to the rewards
 * program, so a cost guard that must hold against either build can pass 100_000.
 */
export const CURRENT_NETWORK_FEE_PPM = 0n;
export const LEGACY_NETWORK_FEE_PPM = 100_000n;

const DECIMAL_NOS = /^(\d+)(?:\.(\d{1,6}))?$/;

/** "1.5" → 1_500_000n. Rejects negative numbers, exponents and more than 6 decimals. */
export function parseNos(text: string): bigint {
  const match = DECIMAL_NOS.exec(text.trim());
  if (match === null) {
    throw new Error(`"${text}" is not a NOS amount: expected a non-negative decimal with at most ${NOS_DECIMALS} decimals, e.g. "1.5"`);
  }
  const whole = BigInt(match[1] ?? '0');
  const fraction = BigInt((match[2] ?? '').padEnd(NOS_DECIMALS, '0'));
  return whole * BASE_UNITS_PER_NOS + fraction;
}

/** 1_500_000n → "1.5"; 43n → "0.000043". */
export function formatNos(baseUnits: bigint): string {
  const sign = baseUnits < 0n ? '-' : '';
  const magnitude = baseUnits < 0n ? -baseUnits : baseUnits;
  const whole = magnitude / BASE_UNITS_PER_NOS;
  const fraction = (magnitude % BASE_UNITS_PER_NOS).toString().padStart(NOS_DECIMALS, '0').replace(/0+$/, '');
  return `${sign}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

/** Lamports to a decimal SOL string, for messages. */
export function formatSol(lamports: bigint): string {
  const whole = lamports / LAMPORTS_PER_SOL;
  const fraction = (lamports % LAMPORTS_PER_SOL).toString().padStart(9, '0').replace(/0+$/, '');
  return `${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

/** What `list` moves into the market vault: price × timeout, plus the network fee if the build charges one. */
export function jobDeposit(pricePerSecond: bigint, timeoutSeconds: bigint, networkFeePpm: bigint = CURRENT_NETWORK_FEE_PPM): bigint {
  if (pricePerSecond < 0n || timeoutSeconds < 0n) throw new Error('price and timeout must not be negative');
  const deposit = pricePerSecond * timeoutSeconds;
  // Round the fee up: a budget check must never under-estimate what leaves the wallet.
  const fee = (deposit * networkFeePpm + 999_999n) / 1_000_000n;
  return deposit + fee;
}

/** What a node earns and the poster pays for a run: price × min(elapsed, timeout). */
export function jobCost(pricePerSecond: bigint, elapsedSeconds: bigint, timeoutSeconds: bigint): bigint {
  const elapsed = elapsedSeconds < 0n ? 0n : elapsedSeconds;
  return pricePerSecond * (elapsed < timeoutSeconds ? elapsed : timeoutSeconds);
}

/** What `extend` charges to raise a job's timeout to `newTimeout`. */
export function extensionCharge(pricePerSecond: bigint, oldTimeout: bigint, newTimeout: bigint): bigint {
  if (newTimeout <= oldTimeout) throw new Error(`the new timeout (${newTimeout}s) must be greater than the current one (${oldTimeout}s)`);
  return pricePerSecond * (newTimeout - oldTimeout);
}
