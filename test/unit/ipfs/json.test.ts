import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeJsonForPinning } from '../../../src/ipfs/json.ts';

const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('encodeJsonForPinning', () => {
  test('is compact JSON.stringify output as UTF-8', () => {
    const value = { b: [1, 2, { c: null }], a: 'é 🌍', n: -0.5 };
    const bytes = encodeJsonForPinning(value);
    assert.equal(decode(bytes), '{"b":[1,2,{"c":null}],"a":"é 🌍","n":-0.5}');
    assert.deepEqual(bytes, new TextEncoder().encode(JSON.stringify(value)));
  });

  test('a server that parses and re-serialises the text gets the same bytes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = decode(encodeJsonForPinning(value));
        assert.equal(JSON.stringify(JSON.parse(text)), text);
      }),
      { numRuns: 300 },
    );
  });

  test('refuses values JSON cannot carry, naming the key', () => {
    assert.throws(() => encodeJsonForPinning({ price: 10n }), /key "price" is a bigint \(10\); encode it as a decimal string/);
    assert.throws(() => encodeJsonForPinning({ ratio: Number.NaN }), /key "ratio" is NaN/);
    assert.throws(() => encodeJsonForPinning([Number.POSITIVE_INFINITY]), /key "0" is Infinity/);
    assert.throws(() => encodeJsonForPinning(5n), /the top-level value is a bigint/);
    assert.throws(() => encodeJsonForPinning(undefined), /cannot pin a undefined as JSON/);
    assert.throws(() => encodeJsonForPinning(() => 1), /cannot pin a function as JSON/);
  });
});
