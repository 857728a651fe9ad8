import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { of as referenceCidV0 } from 'ipfs-only-hash';
import { computeCidV0 } from '../../../src/ipfs/unixfs.ts';
import { encodeJsonForPinning } from '../../../src/ipfs/json.ts';

const CHUNK = 262_144;
const LINKS_PER_NODE = 174;

/** Deterministic, non-repeating-per-chunk bytes (xorshift32), so chunks differ from each other. */
function patternBytes(length: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

describe('computeCidV0', () => {
  // Each value is published by an independent source: the empty file and "hello world\n" (the
  // `echo "hello world" > hello; ipfs add hello` of Kubo's README) are Kubo's own, "hello world!"
  // is in ipfs-only-hash's README; "hello world" without newline is widely quoted.
  test('matches published CIDv0 vectors', async () => {
    const vectors: [string, string][] = [
      ['', 'QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH'],
      ['hello world\n', 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o'],
      ['hello world', 'Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD'],
      ['hello world!', 'QmTp2hEo8eXRp6wg7jXv1BLCMh5a4F3B7buAUZNZUu772j'],
    ];
    for (const [text, cid] of vectors) {
      const bytes = new TextEncoder().encode(text);
      assert.equal(await computeCidV0(bytes), cid, JSON.stringify(text));
      assert.equal(await referenceCidV0(bytes), cid, `ipfs-only-hash for ${JSON.stringify(text)}`);
    }
  });

  test('agrees with ipfs-only-hash around chunk and tree boundaries', async () => {
    const sizes = [
      1,
      1000,
      300_000,
      CHUNK - 1,
      CHUNK,
      CHUNK + 1,
      2 * CHUNK,
      2 * CHUNK + 1,
      // one parent holds at most 174 links; one byte more needs a second tree level
      LINKS_PER_NODE * CHUNK,
      LINKS_PER_NODE * CHUNK + 1,
    ];
    const seen = new Set<string>();
    for (const size of sizes) {
      const bytes = patternBytes(size, size);
      const cid = await computeCidV0(bytes);
      assert.equal(cid, await referenceCidV0(bytes), `${size} bytes`);
      seen.add(cid);
    }
    assert.equal(seen.size, sizes.length, 'different content must give different CIDs');
  });

  test('agrees with ipfs-only-hash on a JSON document as it is pinned', async () => {
    const document = {
      status: 'success',
      startTime: 1767225600000,
      endTime: 1767225612345,
      opStates: [{ operationId: 'hello', logs: [{ type: 'stdout', log: 'héllo 🌍\n' }] }],
    };
    const bytes = encodeJsonForPinning(document);
    assert.equal(await computeCidV0(bytes), await referenceCidV0(bytes));
  });

  test('property: equals ipfs-only-hash for arbitrary content up to ~600 KB', async () => {
    const length = fc.oneof(
      fc.integer({ min: 0, max: 600_000 }),
      fc.constantFrom(CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK - 1, 2 * CHUNK, 2 * CHUNK + 1),
    );
    await fc.assert(
      fc.asyncProperty(length, fc.integer(), async (size, seed) => {
        const bytes = patternBytes(size, seed);
        assert.equal(await computeCidV0(bytes), await referenceCidV0(bytes));
      }),
      { numRuns: 40 },
    );
  });
});
