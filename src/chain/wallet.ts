// Wallet keys as users keep them: the Solana CLI's JSON array of 64 bytes, or a base58 string
// (what Phantom and most wallets export). Errors describe the shape that was wrong and never
// echo any of the content: a malformed key is still a secret.
import { Keypair } from '@solana/web3.js';
import bs58 from 'bs58';
import { ed25519PublicKeyOf } from './ed25519.ts';

export class WalletFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WalletFormatError';
  }
}

const EXPECTED = 'expected a Solana CLI keypair (a JSON array of 64 numbers) or a base58-encoded 64-byte secret key';

function fromSecretBytes(bytes: Uint8Array, source: string): Keypair {
  if (bytes.length !== 64) throw new WalletFormatError(`${source}: the secret key has ${bytes.length} bytes, ${EXPECTED}`);
  // The last 32 bytes must be the public key of the first 32. Checked natively: web3.js's own
  // check derives the key in JavaScript, a visible cost when a key is read on every reconcile.
  if (!ed25519PublicKeyOf(bytes.subarray(0, 32)).equals(bytes.subarray(32))) {
    throw new WalletFormatError(`${source}: the 64 bytes are not a valid ed25519 keypair (the public half does not match the secret half)`);
  }
  return Keypair.fromSecretKey(bytes, { skipValidation: true });
}

/** Parses a wallet from text; `source` names where it came from (e.g. `Secret default/wallet key "keypair"`). */
export function parseWallet(text: string, source: string): Keypair {
  const trimmed = text.trim();
  if (trimmed === '') throw new WalletFormatError(`${source} is empty: ${EXPECTED}`);
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new WalletFormatError(`${source} starts like a JSON array but is not valid JSON: ${EXPECTED}`);
    }
    if (!Array.isArray(parsed) || !parsed.every((value) => Number.isInteger(value) && value >= 0 && value <= 255)) {
      throw new WalletFormatError(`${source} must be an array of byte values (integers 0-255): ${EXPECTED}`);
    }
    return fromSecretBytes(Uint8Array.from(parsed as number[]), source);
  }
  let decoded: Uint8Array;
  try {
    decoded = bs58.decode(trimmed);
  } catch {
    throw new WalletFormatError(`${source} is neither a JSON array nor base58: ${EXPECTED}`);
  }
  return fromSecretBytes(decoded, source);
}

/** The Solana CLI's keypair file format. */
export function serializeWallet(keypair: Keypair): string {
  return `${JSON.stringify([...keypair.secretKey])}\n`;
}
