// Anchor's on-chain IDL account, where `Program.fetchIdl` looks for a program's interface: its
// address (derived from the program id alone) and its bytes. Clients that load the IDL from the
// chain, rather than bundling one, find it on the localnet exactly where they find it on devnet.
//
// Layout, as Anchor's `IdlAccount` stores it: the 8-byte account discriminator, the authority
// that may rewrite it (32 bytes), then the zlib-deflated UTF-8 JSON of the IDL as Borsh `bytes`
// (u32 little-endian length, then the bytes). Clients skip the discriminator and inflate the rest.
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { PublicKey } from '@solana/web3.js';

/** The seed Anchor combines with the program's base address (`PublicKey.createWithSeed`). */
export const IDL_ACCOUNT_SEED = 'anchor:idl';

/** sha256("account:IdlAccount")[0..8], as for every Anchor account. */
export const IDL_ACCOUNT_DISCRIMINATOR = createHash('sha256').update('account:IdlAccount').digest().subarray(0, 8);

/** Where Anchor clients look for `programId`'s IDL. */
export async function idlAccountAddress(programId: PublicKey): Promise<PublicKey> {
  // The base is the program's PDA with no seeds; the IDL account is created from it with a seed,
  // owned by the program itself.
  const [base] = PublicKey.findProgramAddressSync([], programId);
  return PublicKey.createWithSeed(base, IDL_ACCOUNT_SEED, programId);
}

/** The account data holding `idl` (any JSON value) under `authority`. */
export function encodeIdlAccount(authority: PublicKey, idl: unknown): Buffer {
  const deflated = deflateSync(Buffer.from(JSON.stringify(idl), 'utf8'));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(deflated.length);
  return Buffer.concat([IDL_ACCOUNT_DISCRIMINATOR, authority.toBuffer(), length, deflated]);
}
