// A job definition's `logistics` on the node side (NODE.md §1.9, §3.4): where the real definition
// comes from and where the full result goes when neither is meant for public IPFS.
//
// - send `api`: the definition pinned to IPFS is an empty envelope; the real one is fetched with a
//   GET from the poster's endpoint. send `api-listen` has the poster push it to the node's own API
//   through Nosana's tunnel; this agent serves no such API, so the job fails with `logistics-error`.
// - receive `api`: after the flow the full FlowState is POSTed to the poster's endpoint, and IPFS
//   gets only the public copy (status, times, errors). receive `api-listen` has the poster collect
//   the result from the node's API, which is not served here: IPFS gets the public copy with an
//   error saying the result could not be handed over, and nothing more leaks.
//
// The endpoint is a stranger's URL, so it is held to a few rules: http(s) only and no credentials
// in it (checked when it is read), a timeout per attempt, bounded answers, nothing sent but the
// Authorization header and the flow, GET redirects followed only as fetch does (http(s) targets
// only, Authorization dropped when the origin changes), a POST never redirected (fetch would turn
// a 301/302/303 into a GET and the result would read as delivered). Every failed attempt is tried
// again, a 4xx included, as Nosana's node does: the poster's server may learn of the job only
// after the node claimed it. Errors quote the endpoint redacted; the node key never reaches one.
//
// The definition is read by hand rather than through the job-definition schema: this is the node
// side, which ignores keys it does not know and only refuses what it cannot act on (the whole
// definition is validated elsewhere, once it is known).
import { setTimeout as sleep } from 'node:timers/promises';
import bs58 from 'bs58';
import { isPlainObject, ownProperty } from '../../api/job-definition/json-values.ts';
import { describeValue } from '../../api/job-definition/messages.ts';
import { ed25519Sign } from '../../chain/ed25519.ts';
import { publicCopy } from '../../executor/flow-state.ts';
import type { FlowState, PublicFlowState } from '../../executor/flow-state.ts';
import type { AddressGuard } from '../../http/address-guard.ts';
import { redactError, redactSecrets, redactUrl } from '../../http/redact.ts';
import { parseRetryAfter } from '../../http/retry-after.ts';
import { retryDelayMs } from '../../http/retry.ts';
import type { RetryPolicy } from '../../http/retry.ts';
import { readBodyUpTo } from '../../ipfs/http.ts';

/** Where a definition comes from or a result goes, with the endpoint resolved and checked. */
export type LogisticsTarget = { type: 'api'; endpoint: string } | { type: 'api-listen' };

/** A definition's `logistics` as the node acts on it (named apart from the schema's `Logistics` type). */
export interface ResolvedLogistics {
  send?: LogisticsTarget;
  receive?: LogisticsTarget;
}

/** Logistics that cannot be acted on, or a definition or delivery that failed; the message is redacted. */
export class LogisticsError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(redactSecrets(message), options.cause === undefined ? undefined : { cause: redactError(options.cause) });
    this.name = 'LogisticsError';
  }
}

/** The literal an endpoint may hold, replaced by the job address. */
export const JOB_LITERAL = '%%global.job%%';
/** Tries per request, 10 s apart: Nosana's node's schedule. */
export const DEFAULT_ATTEMPTS = 4;
export const DEFAULT_DELAY_MS = 10_000;
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 30_000;
/** The largest job definition accepted from a send endpoint. */
export const DEFINITION_MAX_BYTES = 1024 * 1024;

export const SEND_API_LISTEN_UNSERVED =
  'logistics.send is "api-listen": the job definition is to be posted to the node\'s own API through Nosana\'s tunnel, which this node does not serve; use "api" with an endpoint the node can fetch the definition from';
export const RECEIVE_API_LISTEN_UNSERVED =
  'the result could not be handed over: logistics.receive is "api-listen", which has the poster collect it from the node\'s own API, and this node does not serve one; only the status, times and errors are published';

const SIDES = ['send', 'receive'] as const;
const LITERAL_LEFT = /%%[^%]*%%/;

/**
 * The logistics of a raw definition, endpoints with `%%global.job%%` replaced by `jobAddress`.
 * No logistics (or a definition that is not an object) is `{}`; a shape the node cannot act on is
 * a LogisticsError whose message starts with the field's path.
 */
export function logisticsOf(definition: unknown, jobAddress: string): ResolvedLogistics {
  const logistics = ownProperty(definition, 'logistics');
  if (logistics === undefined) return {};
  if (!isPlainObject(logistics)) throw new LogisticsError(`logistics: expected an object, got ${describeValue(logistics)}`);
  let resolved: ResolvedLogistics = {};
  for (const side of SIDES) {
    const target = ownProperty(logistics, side);
    if (target !== undefined) resolved = { ...resolved, [side]: targetOf(target, `logistics.${side}`, jobAddress) };
  }
  return resolved;
}

function targetOf(target: unknown, path: string, jobAddress: string): LogisticsTarget {
  if (!isPlainObject(target))
    throw new LogisticsError(`${path}: expected an object {"type": …, "args": {…}}, got ${describeValue(target)}`);
  const type = ownProperty(target, 'type');
  if (type !== 'api' && type !== 'api-listen') {
    throw new LogisticsError(`${path}.type: expected "api" or "api-listen", got ${describeValue(type)}`);
  }
  const args = ownProperty(target, 'args');
  if (args !== undefined && !isPlainObject(args)) throw new LogisticsError(`${path}.args: expected an object, got ${describeValue(args)}`);
  const endpoint = ownProperty(args, 'endpoint');
  if (endpoint !== undefined && typeof endpoint !== 'string') {
    throw new LogisticsError(`${path}.args.endpoint: expected a URL string, got ${describeValue(endpoint)}`);
  }
  // api-listen needs no endpoint: the poster talks to the node.
  if (type === 'api-listen') return { type };
  if (endpoint === undefined) throw new LogisticsError(`${path}.args.endpoint: required when the type is "api"`);
  const resolved = endpoint.replaceAll(JOB_LITERAL, jobAddress);
  const problem = endpointProblem(resolved);
  if (problem !== undefined) throw new LogisticsError(`${path}.args.endpoint: ${problem}`);
  return { type, endpoint: resolved };
}

/** Why `endpoint` is not fetched, or undefined when it may be. The endpoint itself is not quoted. */
function endpointProblem(endpoint: string): string | undefined {
  if (LITERAL_LEFT.test(endpoint)) return `holds a literal other than ${JOB_LITERAL}, the only one resolved there`;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `only http and https URLs are used, not ${url.protocol}`;
  if (url.username !== '' || url.password !== '') return 'must not carry credentials (user:password@); the node signs its requests';
  return undefined;
}

/**
 * The Authorization value Nosana's services expect from a node: the job address, a colon, and the
 * base58 ed25519 signature of the address with the node's key.
 */
export function authorizationHeader(jobAddress: string, nodeSecretKey: Uint8Array): string {
  return `${jobAddress}:${bs58.encode(ed25519Sign(Buffer.from(jobAddress, 'utf8'), nodeSecretKey))}`;
}

export interface LogisticsRequestOptions {
  /** Ends everything at once; the abort reason is thrown as it is. */
  signal?: AbortSignal;
  /** Tries, the first included. Default 4. */
  attempts?: number;
  /** Between tries. Default 10 s. */
  delayMs?: number;
  /** Per try, body included. Default 30 s. */
  timeoutMs?: number;
  /**
   * When set, an endpoint whose host is or resolves into a denied range is refused before anything
   * is sent, and redirects are not followed (they could lead anywhere).
   */
  guard?: AddressGuard;
}

/** One failed try: what to say, and a wait the server asked for. Never leaves this module. */
class AttemptFailure extends Error {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: { cause?: unknown; retryAfterMs?: number | undefined } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * send `api`: GETs the real job definition from `target.endpoint` and parses it as JSON (at most
 * `maxBytes`, default 1 MiB). The value is unchecked: validate it before running it. Throws a
 * LogisticsError once the tries are used up.
 */
export async function fetchDefinition(
  target: { endpoint: string },
  jobAddress: string,
  nodeSecretKey: Uint8Array,
  options: LogisticsRequestOptions & { maxBytes?: number } = {},
): Promise<unknown> {
  const maxBytes = options.maxBytes ?? DEFINITION_MAX_BYTES;
  const what = `the job definition could not be fetched from ${checkedEndpoint(target.endpoint)}`;
  const headers = { authorization: authorizationHeader(jobAddress, nodeSecretKey), accept: 'application/json' };
  return withRetries(what, options, async (signal) => {
    const response = await send(
      target.endpoint,
      { headers, signal, redirect: options.guard === undefined ? 'follow' : 'manual' },
      options.guard,
    );
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      throw new AttemptFailure(`HTTP ${response.status}: a redirect, which is not followed`);
    }
    if (!response.ok) throw await answerFailure(response);
    if (Number(response.headers.get('content-length') ?? 0) > maxBytes) {
      await response.body?.cancel();
      throw new AttemptFailure(`the answer is larger than ${maxBytes} bytes`);
    }
    const { bytes, truncated } = await readBodyUpTo('the send endpoint', response, maxBytes);
    if (truncated) throw new AttemptFailure(`the answer is larger than ${maxBytes} bytes`);
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
    } catch (error) {
      throw new AttemptFailure('the answer is not JSON', { cause: error });
    }
  });
}

/**
 * receive `api`: POSTs `flow` as JSON to `target.endpoint`; any 2xx answer is a delivery. Throws a
 * LogisticsError once the tries are used up.
 */
export async function deliverResult(
  target: { endpoint: string },
  jobAddress: string,
  nodeSecretKey: Uint8Array,
  flow: FlowState,
  options: LogisticsRequestOptions = {},
): Promise<void> {
  const what = `the result could not be delivered to ${checkedEndpoint(target.endpoint)}`;
  const headers = { authorization: authorizationHeader(jobAddress, nodeSecretKey), 'content-type': 'application/json' };
  const body = JSON.stringify(flow);
  await withRetries(what, options, async (signal) => {
    const response = await send(target.endpoint, { method: 'POST', headers, body, signal, redirect: 'manual' }, options.guard);
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      throw new AttemptFailure(`HTTP ${response.status}: a redirect, which is not followed with a result`);
    }
    if (!response.ok) throw await answerFailure(response);
    await response.body?.cancel();
  });
}

/** The endpoint redacted for a message, or a LogisticsError when it is not one the node uses. */
function checkedEndpoint(endpoint: string): string {
  const problem = endpointProblem(endpoint);
  if (problem !== undefined) throw new LogisticsError(`the logistics endpoint ${problem}`);
  return redactUrl(endpoint);
}

async function send(endpoint: string, init: RequestInit, guard: AddressGuard | undefined): Promise<Response> {
  let refusal: string | undefined;
  try {
    refusal = await guard?.refusal(endpoint);
  } catch (error) {
    throw new AttemptFailure(`the endpoint's host could not be resolved: ${(error as Error).message}`, { cause: error });
  }
  // Not retried: the answer will not change, and nothing was sent.
  if (refusal !== undefined) throw new LogisticsError(`the logistics endpoint is refused: ${refusal}`);
  try {
    return await fetch(endpoint, init);
  } catch (error) {
    if (init.signal?.aborted === true) throw error;
    const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new AttemptFailure(`the endpoint could not be reached: ${reason}`, { cause: error });
  }
}

/** A non-2xx answer: its status only, since the text of a stranger's error page ends up in a public result. */
async function answerFailure(response: Response): Promise<AttemptFailure> {
  await response.body?.cancel();
  return new AttemptFailure(`HTTP ${response.status}`, { retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) });
}

/**
 * Runs `attempt` until it succeeds or the tries are used up, waiting `delayMs` between tries (or
 * the server's Retry-After, when not longer); each try gets its own timeout.
 */
async function withRetries<T>(what: string, options: LogisticsRequestOptions, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const delayMs = options.delayMs ?? DEFAULT_DELAY_MS;
  // A fixed spacing, as Nosana's node waits: the poster's server gets its full window to be ready.
  const policy: RetryPolicy = { attempts: options.attempts ?? DEFAULT_ATTEMPTS, baseDelayMs: delayMs, maxDelayMs: delayMs };
  const timeoutMs = options.timeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
  for (let index = 0; ; index++) {
    options.signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
    try {
      return await attempt(signal);
    } catch (error) {
      options.signal?.throwIfAborted();
      // A refusal is final: trying again changes nothing.
      if (error instanceof LogisticsError) throw error;
      const failure = timeout.aborted
        ? new AttemptFailure(`no answer within ${timeoutMs} ms`)
        : error instanceof AttemptFailure
          ? error
          : new AttemptFailure(error instanceof Error ? error.message : String(error), { cause: error });
      const attemptsMade = index + 1;
      if (attemptsMade >= policy.attempts) {
        const tries = attemptsMade === 1 ? '1 attempt' : `${attemptsMade} attempts`;
        // The URL is not followed by punctuation, which redaction could take as part of it.
        throw new LogisticsError(`${what} after ${tries}: ${failure.message}`, { cause: failure.cause });
      }
      // A Retry-After may shorten the wait, never lengthen it (retryDelayMs says undefined then):
      // giving up early would fail the job outright, and waiting longer would stretch Nosana's
      // node's schedule.
      const delay = retryDelayMs(index, policy, failure.retryAfterMs, () => 1) ?? policy.maxDelayMs;
      await sleep(delay, undefined, options.signal === undefined ? {} : { signal: options.signal }).catch((error: unknown) => {
        // The caller's reason, not the timer's AbortError wrapping it.
        options.signal?.throwIfAborted();
        throw error;
      });
    }
  }
}

/**
 * What the node pins for an ended flow: the flow itself when there is no receive target, else the
 * public copy, with `deliveryError` when handing the result over failed (for `api-listen`, always:
 * it cannot be handed over here).
 */
export function pinnedDocument(flow: FlowState, receive: LogisticsTarget | undefined, deliveryError?: string): FlowState | PublicFlowState {
  if (receive === undefined) return flow;
  if (receive.type === 'api-listen') return publicCopy(flow, [deliveryError ?? RECEIVE_API_LISTEN_UNSERVED]);
  return publicCopy(flow, deliveryError === undefined ? [] : [deliveryError]);
}

/** The flow of a job whose definition could not be obtained: nothing ran, the reason is the error. */
export function logisticsFailure(message: string, now: number): FlowState {
  return { status: 'logistics-error', startTime: now, endTime: now, errors: [message], secrets: {}, opStates: [] };
}
