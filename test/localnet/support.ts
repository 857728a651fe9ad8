// Shared setup for tests against the localnet over HTTP: a fresh network per test file, and the
// ledger checks (NOS conservation, balances) the tests assert.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { PublicKey } from '@solana/web3.js';
import type { Connection, SignatureStatus } from '@solana/web3.js';
import { TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { startLocalnet } from '../../src/localnet/localnet.ts';
import type { Localnet, LocalnetOptions } from '../../src/localnet/localnet.ts';
import { LOCALNET } from '../../src/localnet/localnet.ts';

/** Starts a localnet before the file's tests and stops it (and removes its state) after them. */
export function useLocalnet(options: Omit<LocalnetOptions, 'stateDir'> = {}): () => Localnet {
  let localnet: Localnet | undefined;
  let stateDir: string | undefined;
  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'nosana-localnet-test-'));
    localnet = await startLocalnet({ ...options, stateDir });
  });
  after(async () => {
    await localnet?.close();
    if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
  });
  return () => {
    if (localnet === undefined) throw new Error('the localnet is not started yet (use it inside a test)');
    return localnet;
  };
}

/** Every NOS base unit in every token account of the NOS mint: must never change except by minting. */
export async function totalNos(connection: Connection): Promise<bigint> {
  const accounts = await connection.getProgramAccounts(TOKEN_PROGRAM_ID, {
    filters: [{ dataSize: 165 }, { memcmp: { offset: 0, bytes: LOCALNET.nosMint.toBase58() } }],
  });
  // SPL token account layout: amount is a u64 at offset 64.
  return accounts.reduce((sum, { account }) => sum + account.data.readBigUInt64LE(64), 0n);
}

/** NOS balance of a token account (0 when it does not exist). */
export async function tokenBalance(connection: Connection, tokenAccount: PublicKey): Promise<bigint> {
  const info = await connection.getAccountInfo(tokenAccount);
  return info === null ? 0n : info.data.readBigUInt64LE(64);
}

export const DEFINITION_CID_BYTES = Uint8Array.from({ length: 32 }, (_, index) => index + 1);

export function address(value: string): PublicKey {
  return new PublicKey(value);
}

/** Waits until a transaction is confirmed (or fails while landing), polling every `pollMs`. */
export async function landed(connection: Connection, signature: string, pollMs = 20): Promise<SignatureStatus> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const status = (await connection.getSignatureStatuses([signature])).value[0];
    if (status && status.confirmationStatus !== 'processed') return status;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  throw new Error(`transaction ${signature} did not land`);
}
