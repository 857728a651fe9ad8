// Which cluster an RPC URL serves, from its genesis hash (mainnet and devnet have well-known
// ones) or from the localnet's own self-identification. Used so that a client configured for
// one network never signs for another, and shows `network: localnet` when it talks to one.
import type { Connection } from '@solana/web3.js';
import { urlOrigin } from '../http/redact.ts';
import type { NetworkName } from './addresses.ts';

const GENESIS_HASHES: Readonly<Record<string, NetworkName>> = {
  '5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d': 'mainnet',
  EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG: 'devnet',
};

/** The localnet puts this marker in its getVersion answer. */
export const LOCALNET_VERSION_MARKER = 'localnet';

export async function detectNetwork(connection: Connection): Promise<NetworkName | 'unknown'> {
  const genesis = await connection.getGenesisHash();
  const known = GENESIS_HASHES[genesis];
  if (known !== undefined) return known;
  const version = await connection.getVersion();
  return JSON.stringify(version).includes(LOCALNET_VERSION_MARKER) ? 'localnet' : 'unknown';
}

/** The scheme, host and port of an RPC URL (http/redact.ts says why no more), or "the RPC". */
export function endpointOrigin(url: string): string {
  return urlOrigin(url) ?? 'the RPC';
}

/** Refuses to go on when the RPC serves a different network than the one configured. */
export async function assertNetwork(connection: Connection, expected: NetworkName): Promise<void> {
  const actual = await detectNetwork(connection);
  if (actual !== expected && actual !== 'unknown') {
    throw new Error(`the RPC at ${endpointOrigin(connection.rpcEndpoint)} serves ${actual}, but the network is configured as ${expected}`);
  }
}
