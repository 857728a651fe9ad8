// Kubernetes quantities as exact nano-unit counts: every suffix and notation the API server takes,
// what is not a quantity, the ordering the agent's ceilings rely on, and that a hostile exponent
// costs nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { quantityNanos } from '../../../src/runtime/quantity.ts';

const NANO = 1_000_000_000n;

describe('quantityNanos: the value of a quantity', () => {
  const cases: { text: string; want: bigint }[] = [
    { text: '0', want: 0n },
    { text: '1', want: NANO },
    { text: '4', want: 4n * NANO },
    // decimal suffixes
    { text: '1n', want: 1n },
    { text: '1u', want: 1_000n },
    { text: '500m', want: NANO / 2n },
    { text: '1k', want: 1_000n * NANO },
    { text: '1M', want: 10n ** 6n * NANO },
    { text: '1G', want: 10n ** 9n * NANO },
    { text: '1T', want: 10n ** 12n * NANO },
    { text: '1P', want: 10n ** 15n * NANO },
    { text: '1E', want: 10n ** 18n * NANO },
    // binary suffixes
    { text: '1Ki', want: 1024n * NANO },
    { text: '1Mi', want: 1024n ** 2n * NANO },
    { text: '16Gi', want: 16n * 1024n ** 3n * NANO },
    { text: '1Ti', want: 1024n ** 4n * NANO },
    { text: '1Pi', want: 1024n ** 5n * NANO },
    { text: '1Ei', want: 1024n ** 6n * NANO },
    // exponents
    { text: '1e3', want: 1_000n * NANO },
    { text: '1E3', want: 1_000n * NANO },
    { text: '1e+3', want: 1_000n * NANO },
    { text: '1E-3', want: NANO / 1_000n },
    { text: '25e-1', want: (5n * NANO) / 2n },
    // fractions
    { text: '.5', want: NANO / 2n },
    { text: '0.5', want: NANO / 2n },
    { text: '1.', want: NANO },
    { text: '1.5Gi', want: 3n * 512n * 1024n * 1024n * NANO },
    { text: '0.25k', want: 250n * NANO },
    // signs
    { text: '+2', want: 2n * NANO },
    { text: '-2', want: -2n * NANO },
    { text: '-500m', want: -NANO / 2n },
    // below a nano: rounded up, never to zero
    { text: '0.1n', want: 1n },
    { text: '1.5n', want: 2n },
    { text: '1e-12', want: 1n },
    { text: '0e-12', want: 0n },
    { text: '1e-999999999', want: 1n },
  ];
  for (const { text, want } of cases) {
    test(`${text} is ${want} nano-units`, () => assert.equal(quantityNanos(text), want));
  }
});

describe('quantityNanos: what is not a quantity', () => {
  const cases: { text: string; why: string }[] = [
    { text: '', why: 'empty' },
    { text: '1.2.3', why: 'two decimal points' },
    { text: 'Gi', why: 'a suffix without a number' },
    { text: '1 Gi', why: 'a space inside' },
    { text: '1gi', why: 'a binary suffix in the wrong case' },
    { text: '1K', why: 'kilo is a lowercase k' },
    { text: '1Gb', why: 'bytes are not a suffix' },
    { text: '.', why: 'a point alone' },
    { text: '1e', why: 'an exponent without digits' },
    { text: '--1', why: 'two signs' },
    { text: '1e999999999', why: 'beyond any scale a resource has (and too costly to compute)' },
    { text: '1e92', why: 'just beyond 10^100 nano-units' },
  ];
  for (const { text, why } of cases) {
    test(`${JSON.stringify(text)}: ${why}`, () => assert.equal(quantityNanos(text), undefined));
  }

  test('the largest scale still computed: 1e91 is 10^100 nano-units', () => assert.equal(quantityNanos('1e91'), 10n ** 100n));

  test('a hostile exponent is answered at once', () => {
    const started = performance.now();
    for (const text of ['9e999999999', '1E-999999999', `0.${'0'.repeat(60)}1`]) quantityNanos(text);
    assert.ok(performance.now() - started < 250, `took ${performance.now() - started} ms`);
  });
});

describe('quantityNanos: ordering', () => {
  const nanos = (text: string): bigint => {
    const value = quantityNanos(text);
    assert.notEqual(value, undefined, text);
    return value as bigint;
  };
  const cases: { reason: string; smaller: string; larger: string }[] = [
    { reason: '500m < 1', smaller: '500m', larger: '1' },
    { reason: '1G < 1Gi', smaller: '1G', larger: '1Gi' },
    { reason: '999Mi < 1Gi', smaller: '999Mi', larger: '1Gi' },
    { reason: '1Gi < 1.1Gi', smaller: '1Gi', larger: '1.1Gi' },
    { reason: '-1 < 0', smaller: '-1', larger: '0' },
    { reason: '1e-3 < 2m', smaller: '1e-3', larger: '2m' },
  ];
  for (const { reason, smaller, larger } of cases) {
    test(reason, () => assert.ok(nanos(smaller) < nanos(larger), `${smaller} < ${larger}`));
  }

  const equal: [string, string][] = [
    ['1Ki', '1024'],
    ['1k', '1e3'],
    ['0.5', '500m'],
    ['1.5Gi', '1536Mi'],
    ['8', '8000m'],
  ];
  for (const [a, b] of equal) test(`${a} = ${b}`, () => assert.equal(nanos(a), nanos(b)));
});
