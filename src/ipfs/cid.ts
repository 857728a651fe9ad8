// CIDv0 <-> the 32 bytes a Nosana job account stores (`ipfsJob`, `ipfsResult`).
//
// A CIDv0 is the base58btc encoding of a sha2-256 multihash: 0x12 (sha2-256), 0x20 (32 bytes),
// then the digest. The program keeps only the digest, so any other CID shape (CIDv1, another hash
// function) cannot round-trip through the chain and is rejected here with the reason.
import { base58btc } from 'multiformats/bases/base58';
import { CID } from 'multiformats/cid';

const SHA2_256_CODE = 0x12;
const DIGEST_LENGTH = 32;
const MULTIHASH_LENGTH = 2 + DIGEST_LENGTH;
const BASE58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/**
 * What a reader gets when converting a job's `ipfsResult` before the job has a result: the program
 * initialises the field with 32 zero bytes, and those bytes encode to this CID. No content hashes
 * to it, so it must never be fetched from a gateway; test bytes with `isNoResult` first.
 */
export const NO_RESULT_CID = 'QmNLei78zWmzUdbeRB3CiUfAizWUrbeeZh5K1rhAQKCh51';

type Parsed = { digest: Uint8Array } | { problem: string };

function parseCidV0(cid: string): Parsed {
  if (cid.length === 0) return { problem: 'CID is empty' };
  const quoted = JSON.stringify(cid);
  const v1 = parseAnyCid(cid);
  if (v1?.version === 1) {
    return { problem: `CID ${quoted} is a CIDv1, which cannot be stored on chain: pin the content with CID version 0 (a "Qm…" CID)` };
  }
  const chars = [...cid];
  const badIndex = chars.findIndex((char) => !BASE58_ALPHABET.includes(char));
  if (badIndex >= 0) {
    return {
      problem: `CID ${quoted} is not base58btc: character ${JSON.stringify(chars[badIndex])} at position ${badIndex} is not in the base58 alphabet`,
    };
  }
  const bytes = base58btc.baseDecode(cid);
  if (bytes.length >= 2 && (bytes[0] !== SHA2_256_CODE || bytes[1] !== DIGEST_LENGTH)) {
    return {
      problem: `CID ${quoted} has multihash prefix ${hexByte(bytes[0])} ${hexByte(bytes[1])}, not sha2-256 with a 32-byte digest (0x12 0x20); only such CIDv0 can be stored on chain`,
    };
  }
  if (bytes.length !== MULTIHASH_LENGTH) {
    return {
      problem: `CID ${quoted} decodes to ${bytes.length} bytes; a CIDv0 is a ${MULTIHASH_LENGTH}-byte multihash (0x12 0x20 + 32-byte digest)`,
    };
  }
  return { digest: bytes.slice(2) };
}

function parseAnyCid(text: string): CID | undefined {
  try {
    return CID.parse(text);
  } catch {
    return undefined;
  }
}

function hexByte(value: number | undefined): string {
  return `0x${(value ?? 0).toString(16).padStart(2, '0')}`;
}

function assertBytes32(bytes: Uint8Array, what: string): void {
  if (bytes.length !== DIGEST_LENGTH) {
    throw new Error(`${what} must be exactly ${DIGEST_LENGTH} bytes (a sha2-256 digest), got ${bytes.length}`);
  }
}

/** The 32-byte digest to store on chain for a CIDv0. Throws with the reason when `cid` is not one. */
export function cidToBytes32(cid: string): Uint8Array {
  const parsed = parseCidV0(cid);
  if ('problem' in parsed) throw new Error(parsed.problem);
  return parsed.digest;
}

/** The CIDv0 for 32 on-chain bytes. All-zero bytes give `NO_RESULT_CID`. */
export function bytes32ToCid(bytes: Uint8Array): string {
  assertBytes32(bytes, 'On-chain IPFS hash');
  const multihash = new Uint8Array(MULTIHASH_LENGTH);
  multihash[0] = SHA2_256_CODE;
  multihash[1] = DIGEST_LENGTH;
  multihash.set(bytes, 2);
  return base58btc.baseEncode(multihash);
}

/** True for the 32 zero bytes a job holds in `ipfsResult` until a node posts its result. */
export function isNoResult(bytes: Uint8Array): boolean {
  assertBytes32(bytes, 'On-chain IPFS hash');
  return bytes.every((byte) => byte === 0);
}

export function isCidV0(text: string): boolean {
  return 'digest' in parseCidV0(text);
}

/** The reason `text` is not a storable CIDv0, or undefined when it is one. */
export function cidV0Problem(text: string): string | undefined {
  const parsed = parseCidV0(text);
  return 'problem' in parsed ? parsed.problem : undefined;
}
