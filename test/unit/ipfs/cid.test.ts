import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { base58btc } from 'multiformats/bases/base58';
import { CID } from 'multiformats/cid';
import { NO_RESULT_CID, bytes32ToCid, cidToBytes32, cidV0Problem, isCidV0, isNoResult } from '../../../src/ipfs/cid.ts';

const HELLO_WORLD_CID = 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o';

function multihash(prefix: readonly number[], digestLength: number): string {
  const bytes = new Uint8Array(prefix.length + digestLength).fill(7);
  bytes.set(prefix);
  return base58btc.baseEncode(bytes);
}

describe('cidToBytes32 / bytes32ToCid', () => {
  test('the on-chain bytes are the sha2-256 digest inside the CID', () => {
    const digest = cidToBytes32(HELLO_WORLD_CID);
    assert.equal(digest.length, 32);
    assert.deepEqual(digest, CID.parse(HELLO_WORLD_CID).multihash.digest);
    assert.equal(bytes32ToCid(digest), HELLO_WORLD_CID);
  });

  test('any 32 bytes round-trip through a CIDv0', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const cid = bytes32ToCid(bytes);
        assert.ok(cid.startsWith('Qm') && cid.length === 46, cid);
        assert.ok(isCidV0(cid));
        assert.deepEqual(cidToBytes32(cid), bytes);
        assert.equal(CID.parse(cid).version, 0);
      }),
    );
  });

  test('bad CIDs are refused with the reason', () => {
    const cidV1 = CID.parse(HELLO_WORLD_CID).toV1().toString();
    assert.ok(cidV1.startsWith('bafy'), cidV1);
    const cases: [string, string, RegExp][] = [
      ['empty', '', /CID is empty/],
      ['not base58', 'Qm0OIl' + HELLO_WORLD_CID.slice(6), /not base58btc: character "0" at position 2/],
      ['whitespace', ` ${HELLO_WORLD_CID}`, /not base58btc: character " " at position 0/],
      ['CIDv1', cidV1, /is a CIDv1, which cannot be stored on chain: pin the content with CID version 0/],
      ['sha2-512 multihash', multihash([0x13, 0x40], 64), /multihash prefix 0x13 0x40, not sha2-256/],
      ['identity multihash', multihash([0x00, 0x20], 32), /multihash prefix 0x00 0x20, not sha2-256/],
      ['33 bytes', multihash([0x12, 0x20], 31), /decodes to 33 bytes; a CIDv0 is a 34-byte multihash/],
      ['35 bytes', multihash([0x12, 0x20], 33), /decodes to 35 bytes/],
    ];
    for (const [name, cid, message] of cases) {
      assert.throws(() => cidToBytes32(cid), message, name);
      assert.equal(isCidV0(cid), false, name);
      assert.match(cidV0Problem(cid) ?? '', message, name);
    }
    assert.equal(cidV0Problem(HELLO_WORLD_CID), undefined);
  });

  test('bytes32ToCid wants exactly 32 bytes', () => {
    assert.throws(() => bytes32ToCid(new Uint8Array(31)), /exactly 32 bytes \(a sha2-256 digest\), got 31/);
    assert.throws(() => bytes32ToCid(new Uint8Array(34)), /exactly 32 bytes \(a sha2-256 digest\), got 34/);
  });
});

describe('no result', () => {
  test('32 zero bytes are "no result" and encode to NO_RESULT_CID', () => {
    const zeros = new Uint8Array(32);
    assert.equal(isNoResult(zeros), true);
    assert.equal(bytes32ToCid(zeros), NO_RESULT_CID);
    assert.deepEqual(cidToBytes32(NO_RESULT_CID), zeros);
  });

  test('any non-zero byte is a result', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 31 }), fc.integer({ min: 1, max: 255 }), (index, value) => {
        const bytes = new Uint8Array(32);
        bytes[index] = value;
        assert.equal(isNoResult(bytes), false);
      }),
    );
  });

  test('isNoResult checks the length too', () => {
    assert.throws(() => isNoResult(new Uint8Array(0)), /exactly 32 bytes/);
  });
});
