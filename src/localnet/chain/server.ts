// The localnet's Solana JSON-RPC endpoint on loopback HTTP: what @solana/web3.js `Connection`
// and our own adapter talk to. Adds fault injection at the HTTP level, `GET /health`, and an
// optional state file so a restarted localnet keeps its ledger. The PubSub websocket listens on
// the RPC port + 1, as on solana-test-validator, since web3.js derives its URL that way.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { LocalChain } from './chain.ts';
import type { ChainClock } from './clock.ts';
import { FaultDice, FaultSettings, type ChainFaults } from './faults.ts';
import type { Ledger } from './ledger.ts';
import { StateFileWriter, loadSnapshot } from './persistence.ts';
import type { LocalProgram } from './program.ts';
import { listenPubsub, type PubsubServer, type PubsubServerOptions, type PubsubStats } from './pubsub-server.ts';
import { handleJsonRpc } from './rpc/json-rpc.ts';

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const SAVE_INTERVAL_MS = 1000;
/** Ephemeral ports tried before giving up when the port after each one is taken. */
const EPHEMERAL_PORT_ATTEMPTS = 10;
const MAX_PORT = 65_535;

export interface ChainServerOptions {
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** Defaults to 0 (an ephemeral port). The PubSub websocket takes the next port. */
  port?: number;
  /** Programs besides the built-ins (System, ComputeBudget, SPL Token, Associated Token). */
  programs: readonly LocalProgram[];
  /** Slot length in ms (default 400). */
  slotMs?: number;
  /** Blocks a blockhash stays valid (default 150). */
  blockhashLifetime?: number;
  /** Slots until a landed transaction is finalized (default 32). */
  finalizeAfterSlots?: number;
  /** false: answer like a node without transaction history (default true). */
  keepHistory?: boolean;
  /** JSON file the ledger is loaded from at start and saved to while running and at close. */
  stateFile?: string;
  faults?: Partial<ChainFaults>;
  /** Seed of the fault draws (default 1). */
  faultSeed?: number;
  /** Time source in unix ms (tests); defaults to Date.now. */
  now?: () => number;
}

export interface ChainServer {
  /** http://host:port */
  url: string;
  /** ws://host:port+1, the Solana PubSub websocket. */
  wsUrl: string;
  /** Websocket connections, drops and subscriptions, counted (tests wait on them). */
  pubsub: PubsubStats;
  /** Accounts and genesis helpers (setAccount, airdrop, createMint, createTokenAccount, mintTo). */
  ledger: Ledger;
  /** Mutable fault settings, read on every request. */
  faults: FaultSettings;
  /** The chain clock; `clock.advance(seconds)` moves time (and slots) forward. */
  clock: ChainClock;
  /** The bank behind the RPC, for tests that need to look deeper (signatures, sync). */
  chain: LocalChain;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

export async function createChainServer(options: ChainServerOptions): Promise<ChainServer> {
  const faults = new FaultSettings(options.faults);
  const restore = options.stateFile ? loadSnapshot(options.stateFile) : undefined;
  const chain = new LocalChain({
    programs: options.programs,
    faults,
    ...(options.faultSeed === undefined ? {} : { faultSeed: options.faultSeed }),
    ...(options.slotMs === undefined ? {} : { slotMs: options.slotMs }),
    ...(options.blockhashLifetime === undefined ? {} : { blockhashLifetime: options.blockhashLifetime }),
    ...(options.finalizeAfterSlots === undefined ? {} : { finalizeAfterSlots: options.finalizeAfterSlots }),
    ...(options.keepHistory === undefined ? {} : { keepHistory: options.keepHistory }),
    ...(options.now ? { now: options.now } : {}),
    ...(restore ? { restore } : {}),
  });
  const writer = options.stateFile ? new StateFileWriter(options.stateFile, chain) : undefined;
  const dice = new FaultDice((options.faultSeed ?? 1) + 1);
  const heldResponses = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();

  const send = (response: ServerResponse, status: number, body: string | undefined, headers: Record<string, string> = {}) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(body ?? '');
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'GET' && request.url === '/health') {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
      return;
    }
    if (request.method !== 'POST') {
      send(response, 405, JSON.stringify({ error: 'use POST for JSON-RPC' }), { allow: 'POST' });
      return;
    }
    const body = await readBody(request);
    if (body === undefined) {
      send(response, 413, JSON.stringify({ error: `request body exceeds ${MAX_BODY_BYTES} bytes` }));
      return;
    }
    if (dice.roll(faults.rateLimitRate)) {
      send(
        response,
        429,
        JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: 429, message: 'Too many requests for a specific RPC call' } }),
        { 'retry-after': '1' },
      );
      return;
    }
    if (dice.roll(faults.serverErrorRate)) {
      response.writeHead(503, { 'content-type': 'text/plain' });
      response.end('Service Unavailable');
      return;
    }
    chain.sync();
    const answer = handleJsonRpc(body, chain);
    if (!dice.roll(faults.hangRate)) {
      send(response, 200, answer);
      return;
    }
    // The request took effect; only the answer is late (a client timing out must not assume it failed).
    const timer = setTimeout(() => {
      heldResponses.delete(timer);
      send(response, 200, answer);
    }, faults.hangMs);
    heldResponses.add(timer);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
      else response.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const pubsub = await listenWithPubsub(server, options.host ?? '127.0.0.1', options.port ?? 0, {
    chain,
    faults,
    faultSeed: (options.faultSeed ?? 1) + 3,
  });

  const syncTimer = setInterval(() => chain.sync(), chain.clock.slotMs);
  const saveTimer = writer ? setInterval(() => writer.saveIfChanged(), SAVE_INTERVAL_MS) : undefined;
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    wsUrl: pubsub.url,
    pubsub: pubsub.stats,
    ledger: chain.ledger,
    faults,
    clock: chain.clock,
    chain,
    close: async () => {
      await pubsub.close();
      clearInterval(syncTimer);
      if (saveTimer) clearInterval(saveTimer);
      for (const timer of heldResponses) clearTimeout(timer);
      heldResponses.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      writer?.saveIfChanged();
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function isPortTaken(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}

/**
 * Listens on `port` and the websocket on `port + 1`. An ephemeral port (0) is drawn again when
 * the one after it is taken; a chosen port whose neighbour is taken is an error.
 */
async function listenWithPubsub(
  server: Server,
  host: string,
  port: number,
  pubsubOptions: Omit<PubsubServerOptions, 'host' | 'port'>,
): Promise<PubsubServer> {
  for (let attempt = 1; ; attempt++) {
    await listen(server, host, port);
    const wsPort = (server.address() as AddressInfo).port + 1;
    let taken: unknown = new Error(`port ${wsPort} does not exist`);
    if (wsPort <= MAX_PORT) {
      try {
        return await listenPubsub({ ...pubsubOptions, host, port: wsPort });
      } catch (error) {
        if (!isPortTaken(error)) {
          await closeServer(server);
          throw error;
        }
        taken = error;
      }
    }
    await closeServer(server);
    if (port !== 0) {
      throw new Error(
        `the localnet serves Solana PubSub (websocket) on the RPC port + 1, and port ${wsPort} on ${host} is not free: ` +
          'free it or choose another RPC port. (@solana/web3.js looks for the websocket on the RPC port + 1 unless its ' +
          'Connection is given `wsEndpoint`; the localnet listens on port + 1 only.)',
        { cause: taken },
      );
    }
    if (attempt === EPHEMERAL_PORT_ATTEMPTS) {
      throw new Error(`no two adjacent free ports for the RPC and its websocket after ${attempt} attempts`, { cause: taken });
    }
  }
}
