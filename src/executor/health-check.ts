// One attempt of a health check the kubelet cannot perform as a probe (build-service.ts
// `probeLimitation`): any method, a body, an exact expected status, a websocket. The runner calls
// it when check-schedule.ts says a check is due, against an address check-target.ts resolved.
//
// It behaves on the wire as Nosana's node does with curl: a fresh connection per attempt, a bound
// on connecting and one on the whole attempt, no redirect followed, the status compared exactly
// with `expected_status`, the body sent only with POST and PUT, and the form content type curl
// adds to a body when the check names none. A websocket check passes once what the service sends
// contains `expected_response`; the node concatenates everything it receives, so the response may
// arrive across several messages. (Nosana's node sends its websocket checks to the localhost of its
// tunnel container, where the op does not listen; these go to the op's port, as the definition
// means.) The websocket is read by a small frame reader of its own rather than a client library,
// because the service is the job's, a stranger's: what it sends is looked through as it streams in
// and never held (a client library hands over whole, possibly decompressed, messages).
//
// The outcome's detail is short and safe to log: it names the method, the path without its query
// (queries carry tokens), the statuses, and the kind of network failure, never a header value, the
// body or what the service answered.
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { ClientRequest, OutgoingHttpHeaders } from 'node:http';
import type { HealthCheck, HttpHealthCheck, WebsocketHealthCheck } from '../api/job-definition/index.ts';
import type { Duplex } from 'node:stream';
import type { CheckAddress } from './check-target.ts';

export interface CheckOutcome {
  ok: boolean;
  /** Why, in a few words: what was answered against what was expected, or what failed. */
  detail: string;
}

/** Bounds of one attempt, as curl's --connect-timeout and --max-time. */
export interface CheckTimeouts {
  connectMs: number;
  totalMs: number;
}

/** Methods whose body is sent; the node drops a GET's or DELETE's body. */
const BODY_METHODS = new Set(['POST', 'PUT']);
/** What curl sends with `--data` when no content type is given. */
const CURL_BODY_CONTENT_TYPE = 'application/x-www-form-urlencoded';
const MAX_DETAIL_PATH_LENGTH = 80;

/** Performs one attempt; never throws (a failure is an outcome), resolves early when `signal` aborts. */
export function performHealthCheck(
  check: HealthCheck,
  address: CheckAddress,
  timeouts: CheckTimeouts,
  signal?: AbortSignal,
): Promise<CheckOutcome> {
  if (signal?.aborted === true) return Promise.resolve({ ok: false, detail: 'cancelled' });
  return check.type === 'http' ? httpCheck(check, address, timeouts, signal) : websocketCheck(check, address, timeouts, signal);
}

// ---------------------------------------------------------------------------------------------
// HTTP

function httpCheck(check: HttpHealthCheck, address: CheckAddress, timeouts: CheckTimeouts, signal?: AbortSignal): Promise<CheckOutcome> {
  const what = `${check.method} ${pathForDetail(check.path)}`;
  const url = urlOnAddress('http', address, check.path);
  if (url === undefined) return Promise.resolve({ ok: false, detail: `${what}: the path does not make a URL on the op's port` });
  const body = check.body !== undefined && check.body !== '' && BODY_METHODS.has(check.method) ? check.body : undefined;

  return new Promise((resolve) => {
    let outgoing: ClientRequest | undefined;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const onAbort = (): void => finish({ ok: false, detail: `${what}: cancelled` });
    const finish = (outcome: CheckOutcome): void => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      signal?.removeEventListener('abort', onAbort);
      outgoing?.destroy();
      resolve(outcome);
    };
    try {
      outgoing = request({
        host: address.host,
        port: address.port,
        method: check.method,
        path: `${url.pathname}${url.search}`,
        headers: requestHeaders(check.headers ?? {}, body),
        // A fresh connection per attempt, as curl makes: a pooled one could outlive the container.
        agent: false,
      });
    } catch {
      // node:http refuses header names and values HTTP cannot carry; the value stays unnamed.
      resolve({ ok: false, detail: `${what}: a header cannot be sent in HTTP` });
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    const connectTimer = setTimeout(
      () => finish({ ok: false, detail: `${what}: no connection within ${seconds(timeouts.connectMs)}` }),
      timeouts.connectMs,
    );
    timers.push(connectTimer);
    timers.push(
      setTimeout(() => finish({ ok: false, detail: `${what}: no answer within ${seconds(timeouts.totalMs)}` }), timeouts.totalMs),
    );
    outgoing.once('socket', (socket) => socket.once('connect', () => clearTimeout(connectTimer)));
    outgoing.once('response', (response) => {
      // Only the status matters; the rest of the answer is dropped with the connection.
      response.on('error', () => undefined);
      response.resume();
      const status = response.statusCode ?? 0;
      finish(
        status === check.expected_status
          ? { ok: true, detail: `${what}: answered ${status}` }
          : { ok: false, detail: `${what}: answered ${status}, expected ${check.expected_status}` },
      );
    });
    // Kept after the outcome: destroying the request may report an error of its own.
    outgoing.on('error', (error) => finish({ ok: false, detail: `${what}: ${networkProblem(error)}` }));
    outgoing.end(body);
  });
}

/** The check's headers, plus what curl adds that a service may rely on. */
function requestHeaders(headers: Record<string, string>, body: string | undefined): OutgoingHttpHeaders {
  const names = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
  const added: OutgoingHttpHeaders = {};
  if (!names.has('accept')) added.accept = '*/*';
  if (body !== undefined && !names.has('content-type')) added['content-type'] = CURL_BODY_CONTENT_TYPE;
  if (body !== undefined && !names.has('content-length')) added['content-length'] = String(Buffer.byteLength(body));
  return { ...added, ...headers };
}

// ---------------------------------------------------------------------------------------------
// WebSocket

function websocketCheck(
  check: WebsocketHealthCheck,
  address: CheckAddress,
  timeouts: CheckTimeouts,
  signal?: AbortSignal,
): Promise<CheckOutcome> {
  const expected = check.expected_response;
  const url = urlOnAddress('ws', address, '/');
  if (url === undefined) return Promise.resolve({ ok: false, detail: 'websocket: the address does not make a URL' });

  return new Promise((resolve) => {
    const key = randomBytes(16).toString('base64');
    const upgrade = request(url.href.replace(/^ws:/, 'http:'), {
      method: 'GET',
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': key },
    });
    let socket: Duplex | undefined;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const onAbort = (): void => finish({ ok: false, detail: 'websocket: cancelled' });
    const finish = (outcome: CheckOutcome): void => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      signal?.removeEventListener('abort', onAbort);
      upgrade.destroy();
      socket?.destroy();
      resolve(outcome);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const connectTimer = setTimeout(
      () => finish({ ok: false, detail: `websocket: no connection within ${seconds(timeouts.connectMs)}` }),
      timeouts.connectMs,
    );
    timers.push(
      connectTimer,
      setTimeout(
        () => finish({ ok: false, detail: `websocket: the expected response did not arrive within ${seconds(timeouts.totalMs)}` }),
        timeouts.totalMs,
      ),
    );
    const refused = (): void => finish({ ok: false, detail: 'websocket: could not connect (refused, or not a websocket endpoint)' });
    upgrade.on('error', refused);
    upgrade.on('response', refused);
    upgrade.on('upgrade', (response, upgraded, head: Buffer) => {
      socket = upgraded;
      clearTimeout(connectTimer);
      const accept = websocketAccept(key);
      if (response.headers['sec-websocket-accept'] !== accept) {
        refused();
        return;
      }
      // Any output contains the empty string: the node passes such a check at once.
      if (expected === '') {
        finish({ ok: true, detail: 'websocket: connected' });
        return;
      }
      const reader = new FrameReader(expected);
      const take = (chunk: Buffer): void => {
        const verdict = reader.push(chunk);
        if (verdict !== undefined) finish(verdict);
      };
      upgraded.on('data', take);
      upgraded.on('error', () => finish({ ok: false, detail: 'websocket: connection reset' }));
      upgraded.on('close', () => finish({ ok: false, detail: 'websocket: closed by the service before the expected response' }));
      if (head.length > 0) take(head);
    });
    upgrade.end();
  });
}

/** RFC 6455's proof that the server read our key. */
function websocketAccept(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

/**
 * Reads a server's frames as they stream in, without holding a frame: payload bytes of text,
 * binary and continuation frames go through a streaming UTF-8 decoder into a window just long
 * enough to find `expected` across chunk and frame boundaries. A service may send at most
 * MAX_WEBSOCKET_BYTES before the check fails (a check needs a handful of bytes; a hostile service
 * would otherwise make the runner hold what it sends). Compression is never offered, so frames are
 * plain.
 */
class FrameReader {
  readonly #expected: string;
  readonly #decoder = new TextDecoder();
  #header = Buffer.alloc(0);
  /** Payload bytes left in the current frame, and whether they are data. */
  #remaining = 0;
  #data = false;
  #received = 0;
  #tail = '';

  constructor(expected: string) {
    this.#expected = expected;
  }

  push(chunk: Buffer): CheckOutcome | undefined {
    this.#received += chunk.length;
    if (this.#received > MAX_WEBSOCKET_BYTES) {
      return { ok: false, detail: `websocket: more than ${MAX_WEBSOCKET_BYTES} bytes arrived without the expected response` };
    }
    let rest = chunk;
    while (rest.length > 0) {
      if (this.#remaining > 0) {
        const payload = rest.subarray(0, this.#remaining);
        rest = rest.subarray(payload.length);
        this.#remaining -= payload.length;
        if (this.#data && this.#matches(this.#decoder.decode(payload, { stream: true }))) {
          return { ok: true, detail: 'websocket: received the expected response' };
        }
        continue;
      }
      this.#header = Buffer.concat([this.#header, rest]);
      const frame = frameHeader(this.#header);
      if (frame === undefined) return undefined;
      if (frame.opcode === CLOSE_OPCODE) return { ok: false, detail: 'websocket: closed by the service before the expected response' };
      if (frame.length > MAX_WEBSOCKET_BYTES) {
        return { ok: false, detail: `websocket: a frame of ${frame.length} bytes is more than a check reads` };
      }
      this.#data = frame.opcode <= BINARY_OPCODE;
      this.#remaining = frame.length;
      rest = this.#header.subarray(frame.headerLength);
      this.#header = Buffer.alloc(0);
    }
    return undefined;
  }

  #matches(text: string): boolean {
    const window = this.#tail + text;
    if (window.includes(this.#expected)) return true;
    // Only the last expected.length - 1 characters can begin a match that later data completes.
    this.#tail = window.slice(Math.max(0, window.length - this.#expected.length + 1));
    return false;
  }
}

const BINARY_OPCODE = 0x2;
const CLOSE_OPCODE = 0x8;
/** The most a service may send a websocket check before it fails. */
export const MAX_WEBSOCKET_BYTES = 1024 * 1024;

/** A frame's opcode, payload length and header size, once the header has fully arrived. */
function frameHeader(bytes: Buffer): { opcode: number; length: number; headerLength: number } | undefined {
  if (bytes.length < 2) return undefined;
  const opcode = (bytes[0] ?? 0) & 0x0f;
  const masked = ((bytes[1] ?? 0) & 0x80) !== 0;
  const short = (bytes[1] ?? 0) & 0x7f;
  const lengthBytes = short === 126 ? 2 : short === 127 ? 8 : 0;
  const headerLength = 2 + lengthBytes + (masked ? 4 : 0);
  if (bytes.length < headerLength) return undefined;
  const length = short === 126 ? bytes.readUInt16BE(2) : short === 127 ? Number(bytes.readBigUInt64BE(2)) : short;
  return { opcode, length, headerLength };
}

// ---------------------------------------------------------------------------------------------
// Helpers

/**
 * The URL the node would build by appending the path to `<scheme>://<host>:<port>`, or undefined
 * when that is no URL or names another host or port: a path is never a way to send the runner's
 * request elsewhere (`@other.host/` would make everything before it a user name).
 */
function urlOnAddress(scheme: 'http' | 'ws', address: CheckAddress, path: string): URL | undefined {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  const origin = `${scheme}://${host}:${address.port}`;
  try {
    const base = new URL(origin);
    const url = new URL(`${origin}${path}`);
    return url.host === base.host && url.username === '' && url.password === '' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** The path as a log may show it: without query or fragment, and not too long. */
function pathForDetail(path: string): string {
  const bare = path.split(/[?#]/, 1)[0] ?? '';
  return bare.length > MAX_DETAIL_PATH_LENGTH ? `${bare.slice(0, MAX_DETAIL_PATH_LENGTH)}…` : bare;
}

/** The kind of network failure, from the error code alone (messages may carry addresses and data). */
function networkProblem(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case undefined:
      return 'connection failed';
    default:
      return code.startsWith('HPE_') ? 'the answer is not HTTP' : `connection failed (${code})`;
  }
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
