// @solana/kit for the oracle tests. It is a dependency of the oracle (@nosana/jobs-program), not
// of the project, so '@solana/kit' does not resolve from the repository root; this loads the very
// copy the oracle resolves, so signers and addresses come from the library version it was built on.
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PublicKey } from '@solana/web3.js';
import type * as Kit from '../../../node_modules/@nosana/jobs-program/node_modules/@solana/kit/dist/types/index.d.ts';

const requireFromOracle = createRequire(fileURLToPath(import.meta.resolve('@nosana/jobs-program')));

export const kit = (await import(pathToFileURL(requireFromOracle.resolve('@solana/kit')).href)) as typeof Kit;

export type Address = Kit.Address;

export function toAddress(key: PublicKey | string): Address {
  return kit.address(typeof key === 'string' ? key : key.toBase58());
}

/** A signer that only carries an address: building an instruction needs no private key. */
export function toSigner(key: PublicKey): Kit.TransactionSigner {
  return kit.createNoopSigner(toAddress(key));
}

/** An account meta in one comparable shape for both libraries: [address, writable, signer]. */
export type MetaTuple = [string, boolean, boolean];

export function oracleMetas(accounts: readonly { address: string; role: Kit.AccountRole }[] | undefined): MetaTuple[] {
  return (accounts ?? []).map((meta) => [meta.address, kit.isWritableRole(meta.role), kit.isSignerRole(meta.role)]);
}

export function web3Metas(keys: readonly { pubkey: PublicKey; isWritable: boolean; isSigner: boolean }[]): MetaTuple[] {
  return keys.map((meta) => [meta.pubkey.toBase58(), meta.isWritable, meta.isSigner]);
}

/** A program-derived address computed by kit: an implementation independent of web3.js's. */
export async function kitPda(program: string, seeds: readonly (string | { utf8: string })[]): Promise<string> {
  const encoder = kit.getAddressEncoder();
  const [derived] = await kit.getProgramDerivedAddress({
    programAddress: kit.address(program),
    // A string seed is an address (its 32 bytes); { utf8 } is a text seed.
    seeds: seeds.map((seed) => (typeof seed === 'string' ? encoder.encode(kit.address(seed)) : seed.utf8)),
  });
  return derived;
}
