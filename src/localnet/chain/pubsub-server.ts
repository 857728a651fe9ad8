// The localnet's Solana PubSub endpoint: JSON-RPC 2.0 over a websocket, on the port next to the
// HTTP RPC, where @solana/web3.js looks for it (confirmTransaction, onAccountChange, ...). This
// file holds the socket and the protocol; what each subscription notifies is decided in
// pubsub-subscriptions.ts. A ticker (a slot or shorter) syncs the chain and lets every
// subscription compare what it sees with what it last sent. The websocket faults (dropped
// connections, late notifications) are read from the fault settings at every tick and send.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Commitment, LocalChain } from './chain.ts';
import { FaultDice, type FaultSettings } from './faults.ts';
import type { AccountsView } from './ledger.ts';
import {
  NOTIFICATION_METHODS,
  SUBSCRIBE_METHODS,
  UNSUBSCRIBE_METHODS,
  startSubscription,
  tick,
  type PubsubChainView,
  type Subscription,
} from './pubsub-subscriptions.ts';
import { errorResponse, isRequestId, type RpcResponse } from './rpc/json-rpc.ts';
import { integerParam, type Params } from './rpc/params.ts';
import { RPC_ERROR, RpcError } from './rpc/rpc-error.ts';

const MAX_MESSAGE_BYTES = 1024 * 1024;
const MIN_TICK_MS = 5;
const MAX_TICK_MS = 100;
/** How long a client has to answer the close frame when the localnet stops. */
const CLOSE_GRACE_MS = 500;
/** A normal close: web3.js does not reconnect a connection without subscriptions. */
const CLOSE_NORMAL = 1000;

export interface PubsubServerOptions {
  chain: LocalChain;
  faults: FaultSettings;
  host: string;
  port: number;
  /** Seed of the connection-drop draws. */
  faultSeed: number;
}

export interface PubsubStats {
  /** Websocket connections open now. */
  readonly openConnections: number;
  /** Connections cut by the websocket drop faults so far. */
  readonly droppedConnections: number;
  /** Subscriptions active now, over all connections (a test can wait for its own to be in place). */
  readonly subscriptions: number;
}

export interface PubsubServer {
  /** ws://host:port */
  url: string;
  stats: PubsubStats;
  close(): Promise<void>;
}

interface Session {
  socket: WebSocket;
  subscriptions: Map<number, Subscription>;
  notificationsSent: number;
  /** Notifications held back by the delay fault, not yet sent. */
  held: Set<NodeJS.Timeout>;
  /** When the last held notification goes out: later ones never overtake it. */
  lastDueMs: number;
  /** Cut (or about to be) by a drop fault: nothing more is sent. */
  dropped: boolean;
}

/** The chain as one tick (or one subscribe request) sees it, with each commitment's accounts read once. */
function chainView(chain: LocalChain): PubsubChainView {
  const accounts = new Map<Commitment, AccountsView>();
  return {
    slotAt: (commitment, processed) => chain.slotAt(commitment, processed),
    accountsAt: (commitment) => {
      const known = accounts.get(commitment);
      if (known) return known;
      const view = chain.accountsAt(chain.slotAt(commitment));
      accounts.set(commitment, view);
      return view;
    },
    transaction: (signature) => {
      const record = chain.signatures.get(signature, chain.slot);
      return record && { slot: record.slot, err: record.err, confirmationStatus: chain.signatures.confirmationStatus(record, chain.slot) };
    },
  };
}

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(new Uint8Array(data)).toString('utf8');
}

function closeGracefully(socket: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) {
      resolve();
      return;
    }
    const timer = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.close(CLOSE_NORMAL, 'the localnet is stopping');
  });
}

/** Listens on host:port; rejects with the listen error (EADDRINUSE when the port is taken). */
export async function listenPubsub(options: PubsubServerOptions): Promise<PubsubServer> {
  const { chain, faults } = options;
  const dice = new FaultDice(options.faultSeed);
  const sessions = new Set<Session>();
  const rawSockets = new Set<Socket>();
  let nextSubscriptionId = 0;
  let droppedConnections = 0;
  let closing = false;

  // No close frame: the client sees an abnormal close, as after a network failure, and reconnects.
  // `lastMessage` still reaches the client before the cut.
  const drop = (session: Session, lastMessage?: string) => {
    if (session.dropped) return;
    session.dropped = true;
    droppedConnections++;
    for (const timer of session.held) clearTimeout(timer);
    session.held.clear();
    if (lastMessage === undefined) session.socket.terminate();
    else session.socket.send(lastMessage, () => session.socket.terminate());
  };

  const write = (session: Session, message: string) => {
    if (session.dropped || session.socket.readyState !== WebSocket.OPEN) return;
    session.notificationsSent++;
    const limit = faults.wsDropAfterNotifications;
    if (limit !== null && session.notificationsSent >= limit) drop(session, message);
    else session.socket.send(message);
  };

  const deliver = (session: Session, message: string) => {
    const now = Date.now();
    const dueMs = Math.max(now + faults.wsNotificationDelayMs, session.lastDueMs);
    session.lastDueMs = dueMs;
    if (dueMs <= now) {
      write(session, message);
      return;
    }
    const timer = setTimeout(() => {
      session.held.delete(timer);
      write(session, message);
    }, dueMs - now);
    session.held.add(timer);
  };

  const notifySession = (session: Session, view: PubsubChainView) => {
    for (const [id, subscription] of session.subscriptions) {
      const { results, next } = tick(subscription, view);
      if (next) session.subscriptions.set(id, next);
      else session.subscriptions.delete(id);
      for (const result of results) {
        if (session.dropped) return;
        const params = { result, subscription: id };
        deliver(session, JSON.stringify({ jsonrpc: '2.0', method: NOTIFICATION_METHODS[subscription.kind], params }));
      }
    }
  };

  const onTick = () => {
    if (sessions.size === 0) return;
    chain.sync();
    const view = chainView(chain);
    const limit = faults.wsDropAfterNotifications;
    for (const session of sessions) {
      if (session.dropped) continue;
      if (dice.roll(faults.wsDropRate) || (limit !== null && session.notificationsSent >= limit)) drop(session);
      else notifySession(session, view);
    }
  };

  const call = (session: Session, method: string, params: Params): unknown => {
    const kind = Object.hasOwn(SUBSCRIBE_METHODS, method) ? SUBSCRIBE_METHODS[method] : undefined;
    if (kind) {
      chain.sync();
      const subscription = startSubscription(kind, params, chainView(chain));
      const id = nextSubscriptionId++;
      session.subscriptions.set(id, subscription);
      return id;
    }
    if (UNSUBSCRIBE_METHODS.has(method)) {
      const id = integerParam(params, 0, 'subscription id');
      if (!session.subscriptions.delete(id)) throw new RpcError(RPC_ERROR.invalidParams, 'Invalid subscription id.');
      return true;
    }
    throw new RpcError(RPC_ERROR.methodNotFound, 'Method not found');
  };

  /** The answer to one request; undefined for a notification (web3.js's heartbeat `ping` is one). */
  const answer = (session: Session, request: unknown): RpcResponse | undefined => {
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      return errorResponse(null, new RpcError(RPC_ERROR.invalidRequest, 'Invalid request'));
    }
    const fields = request as Record<string, unknown>;
    const id = isRequestId(fields['id']) ? fields['id'] : null;
    const params = fields['params'] ?? [];
    if (fields['jsonrpc'] !== '2.0' || typeof fields['method'] !== 'string' || !Array.isArray(params)) {
      return errorResponse(id, new RpcError(RPC_ERROR.invalidRequest, 'Invalid request'));
    }
    if (!('id' in fields)) return undefined;
    try {
      return { jsonrpc: '2.0', id, result: call(session, fields['method'], params) };
    } catch (error) {
      if (error instanceof RpcError) return errorResponse(id, error);
      const detail = error instanceof Error ? error.message : String(error);
      return errorResponse(id, new RpcError(RPC_ERROR.internalError, `Internal error: ${detail}`));
    }
  };

  const onMessage = (session: Session, text: string) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      session.socket.send(JSON.stringify(errorResponse(null, new RpcError(RPC_ERROR.parseError, 'Parse error'))));
      return;
    }
    if (!Array.isArray(parsed)) {
      const response = answer(session, parsed);
      if (response) session.socket.send(JSON.stringify(response));
      return;
    }
    if (parsed.length === 0) {
      session.socket.send(JSON.stringify(errorResponse(null, new RpcError(RPC_ERROR.invalidRequest, 'Invalid request'))));
      return;
    }
    const responses = parsed.map((request) => answer(session, request)).filter((response) => response !== undefined);
    if (responses.length > 0) session.socket.send(JSON.stringify(responses));
  };

  const open = (socket: WebSocket) => {
    const session: Session = { socket, subscriptions: new Map(), notificationsSent: 0, held: new Set(), lastDueMs: 0, dropped: false };
    sessions.add(session);
    socket.on('message', (data) => onMessage(session, textOf(data)));
    // Protocol errors (bad frames, oversized messages): the connection is closed by ws; nothing to report.
    socket.on('error', () => socket.terminate());
    socket.on('close', () => {
      sessions.delete(session);
      for (const timer of session.held) clearTimeout(timer);
      session.held.clear();
    });
  };

  const websockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  const server: Server = createServer((_request, response) => {
    response.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    response.end('Solana PubSub: connect with a websocket');
  });
  server.on('upgrade', (request, socket, head) => {
    if (closing) {
      socket.destroy();
      return;
    }
    websockets.handleUpgrade(request, socket, head, open);
  });
  server.on('connection', (socket) => {
    rawSockets.add(socket);
    socket.on('close', () => rawSockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const ticker = setInterval(onTick, Math.max(MIN_TICK_MS, Math.min(chain.clock.slotMs, MAX_TICK_MS)));
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `ws://${host}:${address.port}`,
    stats: {
      get openConnections() {
        return sessions.size;
      },
      get droppedConnections() {
        return droppedConnections;
      },
      get subscriptions() {
        let count = 0;
        for (const session of sessions) count += session.subscriptions.size;
        return count;
      },
    },
    close: async () => {
      closing = true;
      clearInterval(ticker);
      for (const session of sessions) {
        for (const timer of session.held) clearTimeout(timer);
        session.held.clear();
      }
      await Promise.all([...sessions].map((session) => closeGracefully(session.socket)));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of rawSockets) socket.destroy();
      websockets.close();
      await closed;
    },
  };
}
