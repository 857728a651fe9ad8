// Solana's PubSub API, for the one call the operator makes on it: programSubscribe, over the
// websocket an RPC serves beside its HTTP endpoint. A notification only says "this account changed
// at slot S"; whoever listens reads the account again before believing anything (chain-watcher.ts).
//
// Written on `ws` rather than web3.js's Connection.onProgramAccountChange because the watcher must
// know, per subscription, since when it has been in place on the current connection: a snapshot
// read before that may have missed a change, and web3.js neither reports that nor lets a silent,
// half-open socket be told from a quiet one (here a ping that gets no pong ends the connection).
import type { PublicKey } from '@solana/web3.js';
import type { Logger } from 'pino';
import { WebSocket, type RawData } from 'ws';
import { z } from 'zod';
import { redactSecrets } from '../http/redact.ts';
import { retryDelayMs, type RetryPolicy } from '../http/retry.ts';
import { endpointOrigin } from './network-detect.ts';

/** A getProgramAccounts-style filter: bytes (base58) at an offset. */
export interface ProgramFilter {
  memcmp: { offset: number; bytes: string };
}

export interface ProgramAccountNotice {
  /** The name the subscription was added under. */
  subscription: string;
  pubkey: string;
  data: Buffer;
  /** The slot the RPC saw the change at: a read that believes it must have seen this slot. */
  slot: number;
}

export interface ProgramSubscriberOptions {
  /** The websocket URL (see websocketUrlOf). May carry an API key: it is never logged whole. */
  url: string;
  /** Extra headers of the upgrade request (providers that authenticate by header). */
  headers?: Record<string, string>;
  program: PublicKey;
  commitment: 'confirmed' | 'finalized';
  onNotice(notice: ProgramAccountNotice): void;
  /** A subscription came into place, or the connection went and every subscription with it. */
  onChange?(): void;
  log?: Logger;
  /** How often the connection is pinged; no pong before the next ping ends it. Default 10 s. */
  pingIntervalMs?: number;
  /** Waits between reconnects (the HTTP clients' jittered backoff; attempts unused). Default up to 0.5 s doubling to 30 s. */
  reconnect?: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>;
}

const DEFAULT_PING_INTERVAL_MS = 10_000;
const DEFAULT_RECONNECT = { baseDelayMs: 500, maxDelayMs: 30_000 };
/**
 * A notification carries one job (240 bytes) or run (120 bytes) account, well under 1 KB as JSON;
 * the cap keeps an RPC that answers with huge frames from costing the controller memory and CPU.
 */
const MAX_MESSAGE_BYTES = 64 * 1024;
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** A connection that served this long before dropping is reconnected to at the base delay again. */
const STABLE_CONNECTION_MS = 60_000;
/**
 * Messages one connection may bring per window: far above what a network's job and run changes
 * produce, far below what would keep the controller busy. An RPC over it is cut off and backed off
 * from (the jobs are polled meanwhile), so a tenant's own RPC cannot flood the shared controller.
 */
const MESSAGE_BUDGET = { messages: 500, windowMs: 10_000 };
/** How much of an RPC's refusal is logged: enough to debug, never a whole frame. */
const REFUSAL_LOG_CHARS = 200;

const subscribeResponse = z.object({ id: z.number(), result: z.number().optional(), error: z.object({ message: z.string() }).optional() });
const programNotification = z.object({
  method: z.literal('programNotification'),
  params: z.object({
    subscription: z.number(),
    result: z.object({
      context: z.object({ slot: z.number().int().nonnegative() }),
      // A public key in base58 (32 bytes: 32 to 44 characters), never arbitrary text kept by a listener.
      value: z.object({
        pubkey: z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/),
        account: z.object({ data: z.tuple([z.string(), z.literal('base64')]) }),
      }),
    }),
  }),
});

/**
 * The websocket of an RPC, where web3.js and solana-test-validator look for it: ws for http, wss
 * for https, and the next port when a port is given (8899 → 8900). Path and query are kept, since
 * hosted providers put the API key there and serve both on one host.
 */
export function websocketUrlOf(rpcUrl: string): string {
  const url = new URL(rpcUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`the RPC URL must be http or https, got ${url.protocol}`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  // A websocket URL has no fragment (the client refuses one).
  url.hash = '';
  if (url.port !== '') url.port = String(Number(url.port) + 1);
  return url.toString();
}

interface Active {
  /** performance.now() when the RPC confirmed it. */
  since: number;
}

/**
 * Holds a set of named program subscriptions on one connection, reconnecting with backoff and
 * subscribing everything again after each reconnect. Connects on the first add(), and lets the
 * connection go once the last name is removed.
 */
export class ProgramSubscriber {
  readonly #options: ProgramSubscriberOptions;
  readonly #wanted = new Map<string, ProgramFilter[]>();
  readonly #active = new Map<string, Active>();
  /** Subscribe requests sent on the current connection and not answered yet: request id → name. */
  readonly #requests = new Map<number, string>();
  /** The RPC's subscription id of each name in place, both ways. */
  readonly #names = new Map<number, string>();
  readonly #ids = new Map<string, number>();
  #socket: WebSocket | undefined;
  #nextRequestId = 1;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  /** Connections lost in a row without having served for a while: the reconnect backoff. */
  #failures = 0;
  /** When the current connection first had a subscription in place. */
  #servingSince: number | undefined;
  /** Messages of the current connection in the current budget window, and when the window began. */
  #budget = { used: 0, since: 0 };
  /** One "not JSON" warning per connection: an RPC sending junk must not flood the logs. */
  #junkLogged = false;
  #closed = false;

  constructor(options: ProgramSubscriberOptions) {
    this.#options = options;
  }

  /** Subscribes `filters` under `name` (now if connected, else on connecting). Adding a name twice is adding it once. */
  add(name: string, filters: ProgramFilter[]): void {
    if (this.#closed || this.#wanted.has(name)) return;
    this.#wanted.set(name, filters);
    if (this.#socket === undefined) {
      if (this.#reconnectTimer === undefined) this.#connect();
    } else if (this.#socket.readyState === WebSocket.OPEN) {
      this.#subscribe(this.#socket, name, filters);
    }
  }

  /** Ends the subscription `name`; with no name left, the connection goes too. */
  remove(name: string): void {
    if (!this.#wanted.delete(name)) return;
    const id = this.#ids.get(name);
    this.#active.delete(name);
    this.#ids.delete(name);
    if (id !== undefined) this.#names.delete(id);
    if (this.#wanted.size === 0) {
      clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = undefined;
      const socket = this.#socket;
      this.#socket = undefined;
      this.#disconnect();
      socket?.close(1000);
      return;
    }
    if (id !== undefined && this.#socket?.readyState === WebSocket.OPEN) {
      this.#socket.send(JSON.stringify({ jsonrpc: '2.0', id: this.#nextRequestId++, method: 'programUnsubscribe', params: [id] }));
    }
  }

  /** When the subscription `name` came into place on the current connection; undefined while it is not in place. */
  activeSince(name: string): number | undefined {
    return this.#active.get(name)?.since;
  }

  /** Ends the connection and every subscription; onChange is not called (the owner is closing too). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    this.#disconnect();
    this.#socket?.close(1000);
    this.#socket = undefined;
  }

  #connect(): void {
    this.#reconnectTimer = undefined;
    if (this.#closed || this.#wanted.size === 0) return;
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.#options.url, {
        ...(this.#options.headers === undefined ? {} : { headers: this.#options.headers }),
        maxPayload: MAX_MESSAGE_BYTES,
        handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
        followRedirects: false,
        // Compression would let a small frame expand into work; notifications are small anyway.
        perMessageDeflate: false,
      });
    } catch (error) {
      // A URL the client refuses: logged, retried with backoff like any failed connection.
      this.#options.log?.warn(
        { websocket: endpointOrigin(this.#options.url), reason: redactSecrets((error as Error).message) },
        'chain subscription failed',
      );
      this.#scheduleReconnect();
      return;
    }
    this.#socket = socket;
    this.#budget = { used: 0, since: performance.now() };
    this.#junkLogged = false;
    let awaitingPong = false;
    socket.on('open', () => {
      this.#options.log?.info({ websocket: endpointOrigin(this.#options.url) }, 'chain subscription connected');
      for (const [name, filters] of this.#wanted) this.#subscribe(socket, name, filters);
      this.#pingTimer = setInterval(() => {
        // No pong since the last ping: the connection is gone even if TCP has not noticed.
        if (awaitingPong) return socket.terminate();
        awaitingPong = true;
        socket.ping();
      }, this.#options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS).unref();
    });
    socket.on('pong', () => {
      awaitingPong = false;
    });
    socket.on('message', (data: RawData) => {
      if (this.#socket !== socket) return;
      if (!this.#withinBudget()) {
        this.#options.log?.warn(
          { websocket: endpointOrigin(this.#options.url), messages: MESSAGE_BUDGET.messages, windowMs: MESSAGE_BUDGET.windowMs },
          'the chain subscription sent more messages than allowed; cut off, jobs are polled meanwhile',
        );
        // Not a connection that served well, whatever its age: the backoff keeps growing.
        this.#servingSince = undefined;
        socket.terminate();
        return;
      }
      this.#receive(data);
    });
    socket.on('error', (error: Error) => {
      this.#options.log?.warn(
        { websocket: endpointOrigin(this.#options.url), reason: redactSecrets(error.message) },
        'chain subscription failed',
      );
    });
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      const hadSubscriptions = this.#active.size > 0;
      this.#disconnect();
      if (hadSubscriptions) this.#options.onChange?.();
      this.#scheduleReconnect();
    });
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#wanted.size === 0) return;
    const reconnect = this.#options.reconnect ?? DEFAULT_RECONNECT;
    // Only a connection that served for a while earns a fresh backoff: an RPC that accepts
    // subscriptions and drops the socket at once must not be reconnected to at the base rate.
    if (this.#servingSince !== undefined && performance.now() - this.#servingSince >= STABLE_CONNECTION_MS) this.#failures = 0;
    this.#servingSince = undefined;
    const waitMs = retryDelayMs(this.#failures++, { attempts: Infinity, ...reconnect }, undefined) ?? reconnect.maxDelayMs;
    this.#options.log?.info({ websocket: endpointOrigin(this.#options.url), retryInMs: waitMs }, 'chain subscription disconnected');
    this.#reconnectTimer = setTimeout(() => this.#connect(), waitMs).unref();
  }

  #withinBudget(): boolean {
    const now = performance.now();
    if (now - this.#budget.since >= MESSAGE_BUDGET.windowMs) this.#budget = { used: 0, since: now };
    this.#budget.used += 1;
    return this.#budget.used <= MESSAGE_BUDGET.messages;
  }

  #disconnect(): void {
    clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
    this.#active.clear();
    this.#requests.clear();
    this.#names.clear();
    this.#ids.clear();
  }

  #subscribe(socket: WebSocket, name: string, filters: ProgramFilter[]): void {
    const id = this.#nextRequestId++;
    this.#requests.set(id, name);
    const config = { encoding: 'base64', commitment: this.#options.commitment, filters };
    socket.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'programSubscribe', params: [this.#options.program.toBase58(), config] }));
  }

  #receive(data: RawData): void {
    let message: unknown;
    try {
      message = JSON.parse(data.toString());
    } catch {
      if (this.#junkLogged) return;
      this.#junkLogged = true;
      return this.#options.log?.warn('the chain subscription sent a message that is not JSON; ignored (said once per connection)');
    }
    const notification = programNotification.safeParse(message);
    if (notification.success) {
      const { subscription, result } = notification.data.params;
      const name = this.#names.get(subscription);
      if (name === undefined) return;
      const notice = {
        subscription: name,
        pubkey: result.value.pubkey,
        data: Buffer.from(result.value.account.data[0], 'base64'),
        slot: result.context.slot,
      };
      return this.#options.onNotice(notice);
    }
    const response = subscribeResponse.safeParse(message);
    if (!response.success) return;
    const name = this.#requests.get(response.data.id);
    if (name === undefined) return;
    this.#requests.delete(response.data.id);
    // Removed while the answer was on its way: nothing to put in place.
    if (!this.#wanted.has(name)) return;
    if (response.data.result === undefined) {
      const reason = redactSecrets((response.data.error?.message ?? 'no subscription id in the answer').slice(0, REFUSAL_LOG_CHARS));
      return this.#options.log?.warn({ subscription: name, reason }, 'the RPC refused a chain subscription; its accounts are polled');
    }
    this.#active.set(name, { since: performance.now() });
    this.#names.set(response.data.result, name);
    this.#ids.set(name, response.data.result);
    this.#servingSince ??= performance.now();
    this.#options.onChange?.();
  }
}
