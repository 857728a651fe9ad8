// How CLI commands find a Nosana network: either a localnet's state directory (its localnet.json
// names the RPC, IPFS API, poster wallet and market), or explicit flags for any network.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PublicKey } from '@solana/web3.js';
import type { Keypair } from '@solana/web3.js';
import { networkByName } from '../chain/addresses.ts';
import type { NosanaNetwork } from '../chain/addresses.ts';
import { assertNetwork, detectNetwork, endpointOrigin } from '../chain/network-detect.ts';
import { createConnection } from '../chain/rpc-transport.ts';
import { SolanaJobsClient } from '../chain/solana-jobs-client.ts';
import { parseWallet } from '../chain/wallet.ts';
import { KuboClient } from '../ipfs/kubo.ts';
import { PinataClient } from '../ipfs/pinata.ts';
import type { PinningClient } from '../ipfs/pinning-client.ts';
import type { LocalnetInfo } from '../localnet/localnet.ts';

export const NETWORK_OPTIONS = {
  localnet: { type: 'string' },
  rpc: { type: 'string' },
  network: { type: 'string' },
  wallet: { type: 'string' },
  market: { type: 'string' },
  'pinata-api': { type: 'string' },
  'kubo-api': { type: 'string' },
} as const;

export const NETWORK_OPTIONS_HELP = `  --localnet DIR      use a localnet's state directory (its localnet.json gives everything below)
  --rpc URL           Solana JSON-RPC endpoint
  --network NAME      mainnet, devnet or localnet (default: detected from the RPC)
  --wallet FILE       poster wallet (Solana CLI keypair file)
  --market ADDRESS    market to post to
  --pinata-api URL    Pinata-compatible pinning API; the JWT is read from $PINATA_JWT
  --kubo-api URL      Kubo RPC API instead of Pinata`;

export interface NetworkFlags {
  localnet?: string | undefined;
  rpc?: string | undefined;
  network?: string | undefined;
  wallet?: string | undefined;
  market?: string | undefined;
  'pinata-api'?: string | undefined;
  'kubo-api'?: string | undefined;
}

export interface ResolvedNetwork {
  network: NosanaNetwork;
  client: SolanaJobsClient;
  wallet: () => Promise<Keypair>;
  market: () => PublicKey;
  pinning: () => PinningClient;
}

export async function readLocalnetInfo(dir: string): Promise<LocalnetInfo> {
  const path = join(dir, 'localnet.json');
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LocalnetInfo;
  } catch (error) {
    throw new Error(`cannot read ${path} (is a localnet running with --state-dir ${dir}?): ${(error as Error).message}`, { cause: error });
  }
}

function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined) throw new Error(`${flag} is required (or --localnet DIR)`);
  return value;
}

export async function resolveNetwork(flags: NetworkFlags): Promise<ResolvedNetwork> {
  const local = flags.localnet === undefined ? undefined : await readLocalnetInfo(flags.localnet);
  const rpc = flags.rpc ?? local?.rpcUrl;
  const connection = createConnection(required(rpc, '--rpc'));
  const name = flags.network ?? (local === undefined ? await detectNetwork(connection) : 'localnet');
  if (name === 'unknown')
    throw new Error(`cannot tell which network ${endpointOrigin(connection.rpcEndpoint)} serves: pass --network mainnet|devnet|localnet`);
  const network = networkByName(name);
  // Never sign for one network while believing it is another (e.g. --network localnet on a devnet RPC).
  await assertNetwork(connection, network.name);
  const walletPath = flags.wallet ?? local?.posterWallet;
  const marketAddress = flags.market ?? local?.market;
  return {
    network,
    client: new SolanaJobsClient({ connection, network }),
    wallet: async () => {
      const path = required(walletPath, '--wallet');
      return parseWallet(await readFile(path, 'utf8'), `wallet file ${path}`);
    },
    market: () => {
      const address = required(marketAddress, '--market');
      try {
        return new PublicKey(address);
      } catch {
        throw new Error(`--market: "${address}" is not a Solana address`);
      }
    },
    pinning: () => {
      if (flags['kubo-api'] !== undefined) return new KuboClient({ apiUrl: flags['kubo-api'] });
      const api = flags['pinata-api'] ?? local?.ipfsApiUrl;
      // The localnet's pinning API accepts any token; a real Pinata needs the user's JWT.
      const jwt = process.env.PINATA_JWT ?? (local === undefined ? undefined : 'localnet');
      return new PinataClient({ apiUrl: required(api, '--pinata-api'), jwt: required(jwt, '$PINATA_JWT') });
    },
  };
}
