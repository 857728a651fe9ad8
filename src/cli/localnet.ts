// `nosana-operator localnet`: runs the embedded Nosana network until interrupted.
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatNos, formatSol, parseNos } from '../chain/money.ts';
import { DEFAULT_MARKET, startLocalnet } from '../localnet/localnet.ts';
import type { Localnet, LocalnetOptions } from '../localnet/localnet.ts';
import { EXIT_OK, EXIT_USAGE } from './io.ts';
import type { CommandIo } from './io.ts';

function defaultStateDir(): string {
  const base = process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state');
  return join(base, 'nosana-operator', 'localnet');
}

const HELP = `Usage: nosana-operator localnet [options]

Runs a local Nosana network on loopback: a Solana JSON-RPC endpoint executing the Nosana jobs
and staking programs (devnet program ids and NOS mint), and an IPFS pinning API (Pinata- and
Kubo-compatible) with a gateway. It creates a funded poster wallet, a node key and an open
market, and writes them with the URLs to <state-dir>/localnet.json. It is never mainnet.

Options:
  --state-dir DIR          wallets, localnet.json and the ledger (default ${defaultStateDir()})
  --ephemeral              keep no ledger: a fresh chain each start; without --state-dir, wallets
                           live in a temporary directory removed on exit
  --host HOST              listen address (default 127.0.0.1)
  --rpc-port PORT          JSON-RPC port (default 8899)
  --ipfs-port PORT         IPFS API and gateway port (default 5001)
  --market-price NOS       price per second of the market (default ${formatNos(DEFAULT_MARKET.price)})
  --market-timeout SEC     market default job timeout (default ${DEFAULT_MARKET.timeout})
  --job-expiration SEC     seconds after a job ends before it may be cleaned (default ${DEFAULT_MARKET.jobExpiration})
  --slot-ms MS             slot length (default 400, as mainnet)
  --blockhash-lifetime N   blocks a blockhash stays valid (default 150)
  -h, --help               this help
`;

function positiveInteger(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${option} must be a non-negative integer, got "${value}"`);
  return parsed;
}

function parseOptions(args: readonly string[]): LocalnetOptions | 'help' {
  const { values } = parseArgs({
    args: [...args],
    options: {
      'state-dir': { type: 'string' },
      ephemeral: { type: 'boolean' },
      host: { type: 'string' },
      'rpc-port': { type: 'string' },
      'ipfs-port': { type: 'string' },
      'market-price': { type: 'string' },
      'market-timeout': { type: 'string' },
      'job-expiration': { type: 'string' },
      'slot-ms': { type: 'string' },
      'blockhash-lifetime': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) return 'help';
  const market: LocalnetOptions['market'] = {};
  if (values['market-price'] !== undefined) market.price = parseNos(values['market-price']);
  const timeout = positiveInteger(values['market-timeout'], '--market-timeout');
  if (timeout !== undefined) market.timeout = BigInt(timeout);
  const expiration = positiveInteger(values['job-expiration'], '--job-expiration');
  if (expiration !== undefined) market.jobExpiration = BigInt(expiration);
  const slotMs = positiveInteger(values['slot-ms'], '--slot-ms');
  const lifetime = positiveInteger(values['blockhash-lifetime'], '--blockhash-lifetime');
  const ephemeral = values.ephemeral === true;
  return {
    // An ephemeral network without a state directory gets a temporary one (see runLocalnet).
    stateDir: values['state-dir'] ?? (ephemeral ? '' : defaultStateDir()),
    persist: !ephemeral,
    host: values.host ?? '127.0.0.1',
    rpcPort: positiveInteger(values['rpc-port'], '--rpc-port') ?? 8899,
    ipfsPort: positiveInteger(values['ipfs-port'], '--ipfs-port') ?? 5001,
    market,
    chain: {
      ...(slotMs === undefined ? {} : { slotMs }),
      ...(lifetime === undefined ? {} : { blockhashLifetime: lifetime }),
    },
  };
}

export async function describeLocalnet(localnet: Localnet): Promise<string> {
  const client = localnet.jobsClient();
  const market = await client.getMarket(localnet.market);
  const poster = await client.getBalances(localnet.poster.publicKey);
  const { info } = localnet;
  const price = market === undefined ? '?' : `${formatNos(market.account.jobPrice)} NOS/s, default timeout ${market.account.jobTimeout}s`;
  return `Nosana localnet is running (network: localnet; devnet program ids; not mainnet, not devnet)
  rpc:           ${info.rpcUrl}
  websocket:     ${info.wsUrl}  (Solana PubSub: web3.js finds it on the RPC port + 1)
  ipfs api:      ${info.ipfsApiUrl}  (Pinata /pinning/*, Kubo /api/v0/add)
  ipfs gateway:  ${info.gatewayUrl}
  market:        ${info.market}  (${price}, open to any node)
  poster wallet: ${info.posterWallet}  (${info.posterAddress}: ${formatSol(poster.lamports)} SOL, ${formatNos(poster.nos)} NOS)
  node key:      ${info.nodeKey}  (${info.nodeAddress})
  details:       ${info.posterWallet.replace(/[^/]+$/, 'localnet.json')}
Press Ctrl-C to stop.
`;
}

export async function runLocalnet(args: readonly string[], io: CommandIo): Promise<number> {
  let options: LocalnetOptions | 'help';
  try {
    options = parseOptions(args);
  } catch (error) {
    io.stderr.write(`nosana-operator localnet: ${(error as Error).message}\n\n${HELP}`);
    return EXIT_USAGE;
  }
  if (options === 'help') {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  const temporary = options.stateDir === '' ? await mkdtemp(join(tmpdir(), 'nosana-localnet-')) : undefined;
  const localnet = await startLocalnet({ ...options, stateDir: temporary ?? options.stateDir });
  io.stdout.write(await describeLocalnet(localnet));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  io.stdout.write('stopping the localnet…\n');
  await localnet.close();
  if (temporary !== undefined) await rm(temporary, { recursive: true, force: true });
  return EXIT_OK;
}
