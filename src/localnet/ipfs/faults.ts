// Faults the localnet IPFS service can inject, so clients' timeouts, retries, fallbacks and
// integrity checks are exercised against a real server. Settable at start and at run time; every
// write is validated so a test typo (a rate of 5, a negative delay) fails where it is made.

export interface GatewayFaults {
  /** Fraction (0..1) of gateway reads answered with 503. */
  gatewayErrorRate: number;
  /** Delay before each gateway read is answered, in milliseconds. */
  gatewayDelayMs: number;
  /** Fraction (0..1) of gateway reads whose bytes are altered (so their CID no longer matches). */
  corruptRate: number;
  /** Fraction (0..1) of pin requests answered with 503. */
  pinErrorRate: number;
}

const RATE_FIELDS = ['gatewayErrorRate', 'corruptRate', 'pinErrorRate'] as const;

export class FaultSettings implements GatewayFaults {
  #gatewayErrorRate = 0;
  #gatewayDelayMs = 0;
  #corruptRate = 0;
  #pinErrorRate = 0;
  readonly #random: () => number;

  constructor(initial: Partial<GatewayFaults> = {}, random: () => number = Math.random) {
    this.#random = random;
    for (const field of [...RATE_FIELDS, 'gatewayDelayMs'] as const) {
      const value = initial[field];
      if (value !== undefined) this[field] = value;
    }
  }

  get gatewayErrorRate(): number {
    return this.#gatewayErrorRate;
  }
  set gatewayErrorRate(rate: number) {
    this.#gatewayErrorRate = checkRate('gatewayErrorRate', rate);
  }

  get corruptRate(): number {
    return this.#corruptRate;
  }
  set corruptRate(rate: number) {
    this.#corruptRate = checkRate('corruptRate', rate);
  }

  get pinErrorRate(): number {
    return this.#pinErrorRate;
  }
  set pinErrorRate(rate: number) {
    this.#pinErrorRate = checkRate('pinErrorRate', rate);
  }

  get gatewayDelayMs(): number {
    return this.#gatewayDelayMs;
  }
  set gatewayDelayMs(delay: number) {
    if (!Number.isFinite(delay) || delay < 0) throw new RangeError(`gatewayDelayMs must be a finite number >= 0, got ${delay}`);
    this.#gatewayDelayMs = delay;
  }

  /** True with probability `rate`: never at 0, always at 1. */
  strikes(rate: number): boolean {
    return rate > 0 && this.#random() < rate;
  }
}

function checkRate(field: string, rate: number): number {
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw new RangeError(`${field} must be between 0 and 1, got ${rate}`);
  return rate;
}

/** A copy of `bytes` that differs from them (so hashes to another CID). */
export function corrupt(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0) return Uint8Array.of(0);
  const altered = new Uint8Array(bytes);
  const middle = altered.length >> 1;
  altered[middle] = (altered[middle] ?? 0) ^ 0xff;
  return altered;
}
