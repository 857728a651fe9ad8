// NOS amounts. Everything is bigint base units (1 NOS = 10^6 base units); decimal strings exist
// only at the edges (CRD fields, CLI output). No float ever touches an amount.
// The one money formula of each kind lives here; two of them are easily confused:
// - jobDeposit: what a job holds in the market vault (price × timeout). It is what delist and
//   recover give back whole and what finish and end split between the node and the poster.
// - listCharge: what posting takes from the wallet on a network: the deposit plus the network fee
//   the deployed jobs program may add. The fee goes to the rewards program and never comes back.
//   Guards (budget, balance, spend limit) compare this, never the bare deposit.
import type { NetworkName } from './addresses.ts';

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

/**
 * What `list` moves into the market vault for a job, and what the vault holds for it until it
 * ends: price × timeout. delist and recover refund exactly this; finish and end pay the node out
 * of it and refund the rest. No network fee is part of it.
 */
export function jobDeposit(pricePerSecond: bigint, timeoutSeconds: bigint): bigint {
  if (pricePerSecond < 0n || timeoutSeconds < 0n) throw new Error('price and timeout must not be negative');
  return pricePerSecond * timeoutSeconds;
}

/**
 * The network fee, in parts per million of the deposit, that `list` may charge on `network`. The
 * localnet runs the current jobs program (no fee). For mainnet and devnet it is not verified which
 * build is deployed, so the legacy 10 % is assumed: a guard must not under-estimate.
 */
export function networkFeePpm(network: NetworkName): bigint {
  return network === 'localnet' ? CURRENT_NETWORK_FEE_PPM : LEGACY_NETWORK_FEE_PPM;
}

/**
 * The most NOS posting a job of price × timeout takes from the wallet on `network`: the deposit
 * plus the network fee (rounded up). What budgets, balances and spend limits are checked against.
 * Not what comes back: refunds are measured against jobDeposit, and the fee is never refunded.
 */
export function listCharge(network: NetworkName, pricePerSecond: bigint, timeoutSeconds: bigint): bigint {
  return withFee(jobDeposit(pricePerSecond, timeoutSeconds), networkFeePpm(network));
}

/** `amount` plus `feePpm` parts per million of it, the fee rounded up to the next base unit. */
function withFee(amount: bigint, feePpm: bigint): bigint {
  return amount + (amount * feePpm + 999_999n) / 1_000_000n;
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
