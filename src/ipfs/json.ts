// The one serialisation of a JSON value that gets pinned.
//
// A CID names bytes, not values: `{"a":1}` and `{ "a": 1 }` are different content. Pinata's
// pinJSONToIPFS takes the value inside a request body and stores its own serialisation of
// `pinataContent`; its documentation does not spell those bytes out. We assume the compact
// `JSON.stringify` form, serialise exactly that way, compute the CID over those bytes, send the same
// text, and check the CID Pinata returns: if Pinata serialised differently the pin fails loudly
// (CidMismatchError, naming both CIDs) instead of putting an unexpected CID on chain.
// `JSON.stringify` is idempotent after one pass (parse + stringify of its output gives the same
// text, key order included), so a server that re-serialises the parsed body agrees with us.

/**
 * Compact JSON (no spaces) as UTF-8. Throws, naming the key, for what JSON cannot carry faithfully:
 * bigint (convert amounts to decimal strings first), NaN and ±Infinity (JSON.stringify would
 * silently turn them into null), and top-level values with no JSON form (undefined, functions).
 */
export function encodeJsonForPinning(value: unknown): Uint8Array {
  const text = JSON.stringify(value, rejectUnfaithfulValues);
  if (typeof text !== 'string') {
    throw new TypeError(`cannot pin a ${typeof value} as JSON: it has no JSON representation`);
  }
  return new TextEncoder().encode(text);
}

function rejectUnfaithfulValues(key: string, value: unknown): unknown {
  const where = key === '' ? 'the top-level value' : `key ${JSON.stringify(key)}`;
  if (typeof value === 'bigint') {
    throw new TypeError(`cannot pin JSON: ${where} is a bigint (${value}); encode it as a decimal string`);
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError(`cannot pin JSON: ${where} is ${value}, which JSON cannot represent`);
  }
  return value;
}
