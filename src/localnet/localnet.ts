// The embedded Nosana network: a Solana JSON-RPC endpoint running the jobs and staking programs,
// an IPFS pinning API and gateway, and the accounts a newcomer needs to use them at once — a
// funded poster wallet, a node key and an open market. Tests start it in-process; users start
// it with `nosana-operator localnet`.
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Keypair } from '@solana/web3.js';
import type { Connection, PublicKey } from '@solana/web3.js';
import { NETWORKS, nosTokenAccount } from '../chain/addresses.ts';
import { LAMPORTS_PER_SOL, parseNos } from '../chain/money.ts';
import { openMarketInstructions } from '../chain/operations.ts';
import { createConnection } from '../chain/rpc-transport.ts';
import { SolanaJobsClient } from '../chain/solana-jobs-client.ts';
import { TransactionSender } from '../chain/transaction-sender.ts';
import { parseWallet, serializeWallet } from '../chain/wallet.ts';
import { createChainServer } from './chain/server.ts';
import type { ChainServer, ChainServerOptions } from './chain/server.ts';
import { seedIdlAccounts } from './idl/program-idls.ts';
import { createIpfsServer } from './ipfs/index.ts';
import { ContentStore } from './ipfs/content-store.ts';
import type { IpfsServer, IpfsServerOptions } from './ipfs/index.ts';
import { JobsProgram } from './programs/jobs-program.ts';
import { RewardsProgram } from './programs/rewards-program.ts';
import { StakeProgram } from './programs/stake-program.ts';

export const LOCALNET = NETWORKS.localnet;

export interface MarketSettings {
  /** NOS base units per second. */
  price: bigint;
  /** The market's default job timeout, seconds. */
  timeout: bigint;
  /** Seconds after a job ends before anyone may clean it. */
  jobExpiration: bigint;
  /** Minimum xNOS a node's stake needs. */
  nodeXnosMinimum: bigint;
}

export interface LocalnetOptions {
  /** Where wallets, localnet.json and (with `persist`) the ledger and IPFS content live. */
  stateDir: string;
  host?: string;
  rpcPort?: number;
  ipfsPort?: number;
  /** Keep the ledger and IPFS content across restarts. */
  persist?: boolean;
  market?: Partial<MarketSettings>;
  posterSol?: bigint;
  posterNos?: bigint;
  nodeSol?: bigint;
  chain?: Pick<ChainServerOptions, 'slotMs' | 'blockhashLifetime' | 'finalizeAfterSlots' | 'keepHistory' | 'faults'>;
  ipfs?: Pick<IpfsServerOptions, 'faults' | 'requireJwt'>;
}

/** What `localnet.json` records: everything a client needs to reach this network. */
export interface LocalnetInfo {
  network: 'localnet';
  rpcUrl: string;
  /** Solana's websocket PubSub, on the RPC port + 1 (where web3.js looks by default). */
  wsUrl: string;
  ipfsApiUrl: string;
  gatewayUrl: string;
  market: string;
  nosMint: string;
  jobsProgram: string;
  stakingProgram: string;
  posterWallet: string;
  posterAddress: string;
  nodeKey: string;
  nodeAddress: string;
}

export interface Localnet {
  info: LocalnetInfo;
  chain: ChainServer;
  ipfs: IpfsServer;
  market: PublicKey;
  poster: Keypair;
  node: Keypair;
  marketAuthority: Keypair;
  connection(): Connection;
  jobsClient(): SolanaJobsClient;
  close(): Promise<void>;
}

export const DEFAULT_MARKET: MarketSettings = {
  price: 100n,
  timeout: 3_600n,
  jobExpiration: 86_400n,
  nodeXnosMinimum: 0n,
};

const FILES = {
  info: 'localnet.json',
  ledger: 'ledger.json',
  ipfs: 'ipfs',
  poster: 'poster-wallet.json',
  node: 'node-key.json',
  marketAuthority: 'market-authority.json',
  mintAuthority: 'mint-authority.json',
  market: 'market-key.json',
} as const;

async function writeFileAtomic(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** Loads a keypair kept in the state directory, or creates and saves a new one. */
async function keypairFile(stateDir: string, file: string): Promise<Keypair> {
  const path = join(stateDir, file);
  if (existsSync(path)) return parseWallet(await readFile(path, 'utf8'), path);
  const keypair = Keypair.generate();
  await writeFileAtomic(path, serializeWallet(keypair));
  return keypair;
}

export async function startLocalnet(options: LocalnetOptions): Promise<Localnet> {
  const { stateDir } = options;
  await mkdir(stateDir, { recursive: true });
  const persist = options.persist ?? false;
  const ledgerFile = join(stateDir, FILES.ledger);
  const resuming = persist && existsSync(ledgerFile);

  const chain = await createChainServer({
    ...options.chain,
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.rpcPort === undefined ? {} : { port: options.rpcPort }),
    programs: [new JobsProgram(LOCALNET), new StakeProgram(LOCALNET), new RewardsProgram(LOCALNET)],
    ...(persist ? { stateFile: ledgerFile } : {}),
  });
  let ipfs: IpfsServer;
  try {
    ipfs = await createIpfsServer({
      ...options.ipfs,
      ...(options.host === undefined ? {} : { host: options.host }),
      ...(options.ipfsPort === undefined ? {} : { port: options.ipfsPort }),
      ...(persist ? { store: await ContentStore.open({ directory: join(stateDir, FILES.ipfs) }) } : {}),
    });
  } catch (error) {
    await chain.close();
    throw error;
  }

  try {
    const poster = await keypairFile(stateDir, FILES.poster);
    const node = await keypairFile(stateDir, FILES.node);
    const marketAuthority = await keypairFile(stateDir, FILES.marketAuthority);
    const mintAuthority = await keypairFile(stateDir, FILES.mintAuthority);
    const marketKey = await keypairFile(stateDir, FILES.market);
    const connection = createConnection(chain.url);
    // Fresh or resumed, the ledger holds the current IDLs, as Anchor clients fetch them from the chain.
    await seedIdlAccounts(chain.ledger, LOCALNET);

    if (!resuming) {
      const market = { ...DEFAULT_MARKET, ...options.market };
      fundGenesis(chain, mintAuthority.publicKey, [
        { owner: poster.publicKey, lamports: (options.posterSol ?? 100n) * LAMPORTS_PER_SOL, nos: options.posterNos ?? parseNos('1000') },
        { owner: node.publicKey, lamports: (options.nodeSol ?? 10n) * LAMPORTS_PER_SOL, nos: 0n },
        { owner: marketAuthority.publicKey, lamports: 10n * LAMPORTS_PER_SOL, nos: undefined },
      ]);
      // The market is opened by a real transaction, so the program's `open` is what created it.
      await new TransactionSender(connection).execute(
        'open market',
        openMarketInstructions({
          network: LOCALNET,
          market: marketKey.publicKey,
          authority: marketAuthority.publicKey,
          jobPrice: market.price,
          jobTimeout: market.timeout,
          jobExpiration: market.jobExpiration,
          nodeXnosMinimum: market.nodeXnosMinimum,
        }),
        marketAuthority.publicKey,
        [marketAuthority, marketKey],
      );
    }

    const info: LocalnetInfo = {
      network: 'localnet',
      rpcUrl: chain.url,
      wsUrl: chain.wsUrl,
      ipfsApiUrl: ipfs.apiUrl,
      gatewayUrl: ipfs.gatewayUrl,
      market: marketKey.publicKey.toBase58(),
      nosMint: LOCALNET.nosMint.toBase58(),
      jobsProgram: LOCALNET.jobsProgram.toBase58(),
      stakingProgram: LOCALNET.stakingProgram.toBase58(),
      posterWallet: join(stateDir, FILES.poster),
      posterAddress: poster.publicKey.toBase58(),
      nodeKey: join(stateDir, FILES.node),
      nodeAddress: node.publicKey.toBase58(),
    };
    await writeFileAtomic(join(stateDir, FILES.info), `${JSON.stringify(info, null, 2)}\n`);

    return {
      info,
      chain,
      ipfs,
      market: marketKey.publicKey,
      poster,
      node,
      marketAuthority,
      connection: () => createConnection(chain.url),
      jobsClient: () => new SolanaJobsClient({ connection: createConnection(chain.url), network: LOCALNET }),
      close: async () => {
        await Promise.allSettled([chain.close(), ipfs.close()]);
      },
    };
  } catch (error) {
    await Promise.allSettled([chain.close(), ipfs.close()]);
    throw error;
  }
}

interface Funding {
  owner: PublicKey;
  lamports: bigint;
  /** NOS base units in the owner's associated account; undefined = no NOS account. */
  nos: bigint | undefined;
}

/** Genesis state: the NOS mint at the devnet address, and funded wallets. */
function fundGenesis(chain: ChainServer, mintAuthority: PublicKey, wallets: Funding[]): void {
  const { ledger } = chain;
  if (ledger.get(LOCALNET.nosMint) === undefined) {
    ledger.createMint({ address: LOCALNET.nosMint, mintAuthority, decimals: 6 });
  }
  for (const wallet of wallets) {
    ledger.airdrop(wallet.owner, wallet.lamports);
    if (wallet.nos !== undefined) {
      ledger.createTokenAccount({
        mint: LOCALNET.nosMint,
        owner: wallet.owner,
        address: nosTokenAccount(LOCALNET, wallet.owner),
        amount: wallet.nos,
      });
    }
  }
}
