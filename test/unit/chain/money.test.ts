// NOS amounts: decimal text ↔ bigint base units, and the deposit / list charge / cost / extension arithmetic.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BASE_UNITS_PER_NOS,
  CURRENT_NETWORK_FEE_PPM,
  LEGACY_NETWORK_FEE_PPM,
  NOS_DECIMALS,
  extensionCharge,
  formatNos,
  formatSol,
  jobCost,
  jobDeposit,
  listCharge,
  networkFeePpm,
  parseNos,
} from '../../../src/chain/money.ts';

const baseUnits = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });

describe('parseNos and formatNos', () => {
  test('1 NOS is 10^6 base units', () => {
    assert.equal(NOS_DECIMALS, 6);
    assert.equal(BASE_UNITS_PER_NOS, 1_000_000n);
  });

  test('known values', () => {
    assert.equal(parseNos('1.5'), 1_500_000n);
    assert.equal(parseNos('0.000043'), 43n);
    assert.equal(parseNos('0'), 0n);
    assert.equal(parseNos('12'), 12_000_000n);
    assert.equal(parseNos(' 2.25 '), 2_250_000n);
    assert.equal(formatNos(1_500_000n), '1.5');
    assert.equal(formatNos(43n), '0.000043');
    assert.equal(formatNos(0n), '0');
    assert.equal(formatNos(12_000_000n), '12');
    assert.equal(formatNos(-1_500_000n), '-1.5');
  });

  test('format then parse returns the amount (fast-check)', () => {
    fc.assert(
      fc.property(baseUnits, (amount) => {
        assert.equal(parseNos(formatNos(amount)), amount);
      }),
      { numRuns: 500 },
    );
  });

  test('formatted amounts carry no trailing zeros and at most 6 decimals', () => {
    fc.assert(
      fc.property(baseUnits, (amount) => {
        assert.match(formatNos(amount), /^\d+(\.\d{0,5}[1-9])?$/);
      }),
      { numRuns: 300 },
    );
  });

  test('parsing accepts the fraction padded to 6 digits', () => {
    fc.assert(
      fc.property(baseUnits, (amount) => {
        const [whole, fraction = ''] = formatNos(amount).split('.');
        assert.equal(parseNos(`${whole}.${fraction.padEnd(6, '0')}`), amount);
      }),
      { numRuns: 300 },
    );
  });

  for (const text of ['-1', '1e3', '0.0000001', 'abc', '', '1.', '.5', '1,5', '0x10', 'NaN', 'Infinity']) {
    test(`rejects ${JSON.stringify(text)}, quoting the input`, () => {
      assert.throws(
        () => parseNos(text),
        (error: unknown) => {
          assert.ok(error instanceof Error);
          assert.ok(error.message.includes(JSON.stringify(text)), error.message);
          return true;
        },
      );
    });
  }
});

describe('formatSol', () => {
  test('lamports to SOL', () => {
    assert.equal(formatSol(1_000_000_000n), '1');
    assert.equal(formatSol(2_560_000n), '0.00256');
    assert.equal(formatSol(0n), '0');
  });
});

describe('jobDeposit', () => {
  test('the protocol example: 43 base units/s for 7200 s is 309 600 base units, "0.3096" NOS', () => {
    const deposit = jobDeposit(43n, 7_200n);
    assert.equal(deposit, 309_600n);
    assert.equal(formatNos(deposit), '0.3096');
  });

  test('the deposit the vault holds is price × timeout, whatever fee the network charges', () => {
    fc.assert(
      fc.property(baseUnits, fc.bigInt({ min: 0n, max: 10n ** 7n }), (price, timeout) => {
        assert.equal(jobDeposit(price, timeout), price * timeout);
      }),
    );
  });

  test('a negative price or timeout is refused', () => {
    assert.throws(() => jobDeposit(-1n, 10n), /must not be negative/);
    assert.throws(() => jobDeposit(10n, -1n), /must not be negative/);
  });
});

describe('listCharge', () => {
  test('the localnet runs the current program: posting takes the deposit and nothing more', () => {
    assert.equal(CURRENT_NETWORK_FEE_PPM, 0n);
    assert.equal(networkFeePpm('localnet'), CURRENT_NETWORK_FEE_PPM);
    fc.assert(
      fc.property(baseUnits, fc.bigInt({ min: 0n, max: 10n ** 7n }), (price, timeout) => {
        assert.equal(listCharge('localnet', price, timeout), jobDeposit(price, timeout));
      }),
    );
  });

  test('mainnet and devnet assume the legacy 10 % fee, rounded up to the next base unit', () => {
    assert.equal(LEGACY_NETWORK_FEE_PPM, 100_000n);
    assert.equal(networkFeePpm('mainnet'), LEGACY_NETWORK_FEE_PPM);
    assert.equal(networkFeePpm('devnet'), LEGACY_NETWORK_FEE_PPM);
    assert.equal(listCharge('mainnet', 43n, 7_200n), 309_600n + 30_960n);
    // 1 × 7 = 7 base units; 10 % is 0.7, which rounds up to 1.
    assert.equal(listCharge('devnet', 1n, 7n), 8n);
    assert.equal(listCharge('mainnet', 0n, 7_200n), 0n);
  });

  test('the fee is the smallest whole amount not below the exact fraction', () => {
    fc.assert(
      fc.property(baseUnits, fc.bigInt({ min: 0n, max: 10n ** 7n }), (price, timeout) => {
        const base = jobDeposit(price, timeout);
        const fee = listCharge('mainnet', price, timeout) - base;
        assert.ok(fee * 1_000_000n >= base * LEGACY_NETWORK_FEE_PPM, 'never under-estimates');
        assert.ok((fee - 1n) * 1_000_000n < base * LEGACY_NETWORK_FEE_PPM, 'over by less than one base unit');
      }),
    );
  });

  test('a negative price or timeout is refused', () => {
    assert.throws(() => listCharge('mainnet', -1n, 10n), /must not be negative/);
  });
});

describe('jobCost', () => {
  test('pays for the elapsed time, capped at the timeout', () => {
    assert.equal(jobCost(43n, 100n, 7_200n), 4_300n);
    assert.equal(jobCost(43n, 7_200n, 7_200n), 309_600n);
    assert.equal(jobCost(43n, 10_000n, 7_200n), 309_600n);
  });

  test('a negative elapsed time (clock skew) costs nothing', () => {
    assert.equal(jobCost(43n, -5n, 7_200n), 0n);
  });

  test('never exceeds the deposit (fast-check)', () => {
    fc.assert(
      fc.property(
        baseUnits,
        fc.bigInt({ min: -(10n ** 6n), max: 10n ** 8n }),
        fc.bigInt({ min: 0n, max: 10n ** 7n }),
        (price, elapsed, timeout) => {
          const cost = jobCost(price, elapsed, timeout);
          assert.ok(cost >= 0n);
          assert.ok(cost <= jobDeposit(price, timeout));
        },
      ),
    );
  });
});

describe('extensionCharge', () => {
  test('charges price × the added seconds', () => {
    assert.equal(extensionCharge(43n, 7_200n, 10_800n), 154_800n);
  });

  test('refuses a timeout that does not grow, naming both values', () => {
    assert.throws(() => extensionCharge(43n, 7_200n, 7_200n), /7200s.*7200s/);
    assert.throws(() => extensionCharge(43n, 7_200n, 3_600n), /3600s.*7200s/);
  });

  test('deposit at the old timeout plus the charge equals the deposit at the new one (fast-check)', () => {
    fc.assert(
      fc.property(baseUnits, fc.bigInt({ min: 0n, max: 10n ** 7n }), fc.bigInt({ min: 1n, max: 10n ** 7n }), (price, oldTimeout, added) => {
        assert.equal(
          jobDeposit(price, oldTimeout) + extensionCharge(price, oldTimeout, oldTimeout + added),
          jobDeposit(price, oldTimeout + added),
        );
      }),
    );
  });
});
