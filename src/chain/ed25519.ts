// Ed25519 with node:crypto, for Solana keys: signing a message with a 64-byte Solana secret key,
// checking a signature against a 32-byte public key, and deriving the public key of a seed. Node
// takes keys in DER form, so the raw bytes get the fixed PKCS#8 / SPKI headers of an ed25519 key.
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { VersionedTransaction } from '@solana/web3.js';

/** DER header of a PKCS#8 ed25519 private key; the 32-byte seed follows it. */
const PKCS8_HEADER = Buffer.from('302e020100300506032b657004220420', 'hex');
/** DER header of an SPKI ed25519 public key; the 32-byte key follows it. */
const SPKI_HEADER = Buffer.from('302a300506032b6570032100', 'hex');
export const ED25519_SIGNATURE_BYTES = 64;

/** Signs with a Solana secret key (seed then public key); the DER copy of the seed is wiped afterwards. */
export function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Buffer {
  const der = Buffer.concat([PKCS8_HEADER, secretKey.subarray(0, 32)]);
  try {
    return sign(null, message, createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
  } finally {
    der.fill(0);
  }
}

export function ed25519Verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  return verify(null, message, { key: Buffer.concat([SPKI_HEADER, publicKey]), format: 'der', type: 'spki' }, signature);
}

/** Every signature the transaction's message requires is present and verifies over the message's bytes. */
export function transactionSignaturesVerify(transaction: VersionedTransaction): boolean {
  const { message, signatures } = transaction;
  const signed = message.serialize();
  for (let index = 0; index < message.header.numRequiredSignatures; index += 1) {
    const signer = message.staticAccountKeys[index];
    const signature = signatures[index];
    if (signer === undefined || signature === undefined || !ed25519Verify(signed, signature, signer.toBytes())) return false;
  }
  return true;
}

/** The public key of a 32-byte seed; the DER copy of the seed is wiped afterwards. */
export function ed25519PublicKeyOf(seed: Uint8Array): Buffer {
  const der = Buffer.concat([PKCS8_HEADER, seed.subarray(0, 32)]);
  try {
    const spki = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' });
    return spki.subarray(SPKI_HEADER.length);
  } finally {
    der.fill(0);
  }
}
