// Merges concurrent JSON-RPC reads into fewer requests, under web3.js's Connection and above the
// retrying transport. A controller posting hundreds of jobs asks the same questions many times a
// second (the wallet's balance, the latest blockhash, the market account, one signature status
// per job): asked one by one they cost a request each, which is what RPC providers bill and
// throttle.
//
// Freshness is never traded: every caller is answered by a request sent after it asked. A read
// that arrives while an equal one is in flight waits for the next one, which leaves as soon as
// the one in flight returns, carrying every read that queued meanwhile. So batches grow with
// load and an idle process sends each read at once.
//
// Merged: getAccountInfo and getMultipleAccounts with the same settings (one getMultipleAccounts
// of up to 100 keys, at the highest minContextSlot asked, which satisfies every caller's "at this
// slot or later"), getSignatureStatuses with the same settings (up to 256 signatures). Shared:
// identical reads (same method and parameters). Everything else, and every write, passes through.
// A failure of a merged request is every caller's failure, as if each had sent its own.

/** Read methods whose identical requests may share one answer. */
const SHAREABLE = new Set([
  'getBalance',
  'getBlockHeight',
  'getEpochInfo',
  'getFirstAvailableBlock',
  'getGenesisHash',
  'getLatestBlockhash',
  'getMinimumBalanceForRentExemption',
  'getProgramAccounts',
  'getRecentPrioritizationFees',
  'getSlot',
  'getTokenAccountBalance',
  'isBlockhashValid',
]);

/** getMultipleAccounts takes at most 100 keys, getSignatureStatuses 256 signatures. */
const ACCOUNTS_PER_REQUEST = 100;
const SIGNATURES_PER_REQUEST = 256;

interface RpcCall {
  jsonrpc?: string;
  id?: unknown;
  method: string;
  params?: unknown[];
}

interface Waiter {
  call: RpcCall;
  /** The keys or signatures this caller asked for, in order (merged methods only). */
  items: string[];
  resolve: (response: Response) => void;
  reject: (error: unknown) => void;
}

interface Group {
  /** Requests in flight for this group; a new caller waits for the next send. */
  inFlight: number;
  /** When the latest request of this group left. */
  sentAt: number;
  /** Set while callers wait on a request in flight for longer than IN_FLIGHT_PATIENCE_MS. */
  timer?: NodeJS.Timeout;
  waiting: Waiter[];
  send: (batch: Waiter[]) => Promise<void>;
}

/**
 * How long callers wait for the request in flight before theirs leaves anyway: a request that
 * hangs (retried by the transport for minutes) must not hold every later read of its kind.
 */
const IN_FLIGHT_PATIENCE_MS = 1_000;

type Merge = { kind: 'accounts' | 'signatures' | 'same'; key: string; items: string[] };

function parseCall(body: unknown): RpcCall | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const call = parsed as RpcCall;
    return typeof call.method === 'string' && (call.params === undefined || Array.isArray(call.params)) ? call : undefined;
  } catch {
    return undefined;
  }
}

/** The config object of a call, without minContextSlot (merged requests take the highest). */
function settingsOf(config: unknown): { rest: Record<string, unknown>; minContextSlot?: number } {
  if (typeof config !== 'object' || config === null) return { rest: {} };
  const { minContextSlot, ...rest } = config as Record<string, unknown>;
  if (minContextSlot === undefined) return { rest };
  // kept in `rest` when it is no number, so the call is not merged (mergeOf)
  return typeof minContextSlot === 'number' ? { rest, minContextSlot } : { rest: { ...rest, minContextSlot } };
}

function mergeOf(call: RpcCall, target: string): Merge | undefined {
  const params = call.params ?? [];
  if (call.method === 'getAccountInfo' || call.method === 'getMultipleAccounts') {
    const keys = call.method === 'getAccountInfo' ? [params[0]] : params[0];
    if (!Array.isArray(keys) || keys.length === 0 || !keys.every((key) => typeof key === 'string')) return undefined;
    const { rest, minContextSlot } = settingsOf(params[1]);
    // A caller asking for parsed JSON gets another shape per account owner; a minContextSlot
    // that is no number would be lost in a merge: both are left alone.
    if (rest['encoding'] === 'jsonParsed' || (minContextSlot === undefined && 'minContextSlot' in rest)) return undefined;
    return { kind: 'accounts', key: `${target}\0accounts\0${JSON.stringify(rest)}`, items: keys as string[] };
  }
  if (call.method === 'getSignatureStatuses') {
    const signatures = params[0];
    if (!Array.isArray(signatures) || signatures.length === 0 || !signatures.every((entry) => typeof entry === 'string')) return undefined;
    return { kind: 'signatures', key: `${target}\0signatures\0${JSON.stringify(params[1] ?? null)}`, items: signatures as string[] };
  }
  if (SHAREABLE.has(call.method)) return { kind: 'same', key: `${target}\0${call.method}\0${JSON.stringify(params)}`, items: [] };
  return undefined;
}

function jsonResponse(body: unknown): Response {
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
}

interface RpcAnswer {
  result?: unknown;
  error?: unknown;
}

/** Every caller in the batch gets its own copy of a response that is no JSON-RPC answer (an HTTP error, say). */
async function answerEachWith(batch: readonly Waiter[], response: Response): Promise<void> {
  const body = await response.arrayBuffer();
  for (const waiter of batch)
    waiter.resolve(new Response(body.slice(0), { status: response.status, statusText: response.statusText, headers: response.headers }));
}

/**
 * Wraps a fetch that speaks JSON-RPC to one endpoint (createRpcFetch's) so concurrent reads are
 * merged. A merged request goes with the URL and headers of the caller that opened its group:
 * web3.js sends the same for every request of a Connection, and a fetch serves one Connection.
 */
export function coalesceRpcFetch(inner: typeof fetch): typeof fetch {
  const groups = new Map<string, Group>();

  const flush = (key: string): void => {
    const group = groups.get(key);
    if (group === undefined || group.waiting.length === 0) return;
    const waited = performance.now() - group.sentAt;
    if (group.inFlight > 0 && waited < IN_FLIGHT_PATIENCE_MS) {
      group.timer ??= setTimeout(() => {
        group.timer = undefined;
        flush(key);
      }, IN_FLIGHT_PATIENCE_MS - waited);
      return;
    }
    clearTimeout(group.timer);
    group.timer = undefined;
    const batch = group.waiting;
    group.waiting = [];
    group.inFlight += 1;
    group.sentAt = performance.now();
    void group.send(batch).finally(() => {
      group.inFlight -= 1;
      if (group.waiting.length > 0) flush(key);
      else if (group.inFlight === 0) groups.delete(key);
    });
  };

  const post = (input: Parameters<typeof fetch>[0], init: RequestInit | undefined, call: RpcCall): Promise<Response> =>
    inner(input, { ...init, body: JSON.stringify(call) });

  /** Answers every caller from one JSON-RPC answer, `pick` choosing each caller's result. */
  const answer = async (
    batch: readonly Waiter[],
    response: Response,
    /** Each caller's part of the result; none when every caller gets it whole. */
    pick?: (result: unknown, waiter: Waiter) => unknown,
  ): Promise<void> => {
    if (!response.ok) return answerEachWith(batch, response);
    let parsed: RpcAnswer;
    try {
      parsed = (await response.clone().json()) as RpcAnswer;
    } catch {
      return answerEachWith(batch, response);
    }
    if (parsed.error !== undefined || parsed.result === undefined) {
      for (const waiter of batch) waiter.resolve(jsonResponse({ jsonrpc: '2.0', id: waiter.call.id ?? null, error: parsed.error }));
      return;
    }
    // One answer shared whole (a page of program accounts, say) is serialised once, not per caller.
    const shared = pick === undefined ? JSON.stringify(parsed.result) : undefined;
    for (const waiter of batch) {
      const result = shared ?? JSON.stringify(pick?.(parsed.result, waiter));
      const body = `{"jsonrpc":"2.0","id":${JSON.stringify(waiter.call.id ?? null)},"result":${result}}`;
      waiter.resolve(new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }));
    }
  };

  const sender =
    (input: Parameters<typeof fetch>[0], init: RequestInit | undefined, merge: Merge) =>
    async (batch: Waiter[]): Promise<void> => {
      const first = batch[0];
      if (first === undefined) return;
      const perRequest = merge.kind === 'accounts' ? ACCOUNTS_PER_REQUEST : SIGNATURES_PER_REQUEST;
      const chunks: Waiter[][] = [];
      if (merge.kind === 'same') chunks.push(batch);
      else {
        // Callers are kept whole: a caller asking for more than a request holds goes alone.
        let chunk: Waiter[] = [];
        let count = 0;
        for (const waiter of batch) {
          if (chunk.length > 0 && count + waiter.items.length > perRequest) {
            chunks.push(chunk);
            chunk = [];
            count = 0;
          }
          chunk.push(waiter);
          count += waiter.items.length;
        }
        if (chunk.length > 0) chunks.push(chunk);
      }
      await Promise.all(chunks.map(async (chunk) => sendChunk(input, init, merge, chunk)));
    };

  const sendChunk = async (
    input: Parameters<typeof fetch>[0],
    init: RequestInit | undefined,
    merge: Merge,
    chunk: Waiter[],
  ): Promise<void> => {
    const first = chunk[0]!;
    try {
      if (merge.kind === 'same' || chunk.length === 1) {
        const response = await inner(input, { ...init, body: JSON.stringify(first.call) });
        if (chunk.length === 1) return first.resolve(response);
        return await answer(chunk, response);
      }
      const items = [...new Set(chunk.flatMap((waiter) => waiter.items))];
      const position = new Map(items.map((item, index) => [item, index]));
      let call: RpcCall;
      if (merge.kind === 'accounts') {
        const slots = chunk.map((waiter) => settingsOf((waiter.call.params ?? [])[1]).minContextSlot).filter((slot) => slot !== undefined);
        const { rest } = settingsOf((first.call.params ?? [])[1]);
        const config = slots.length === 0 ? rest : { ...rest, minContextSlot: Math.max(...slots) };
        call = { jsonrpc: '2.0', id: first.call.id ?? null, method: 'getMultipleAccounts', params: [items, config] };
      } else {
        const config = (first.call.params ?? [])[1];
        call = {
          jsonrpc: '2.0',
          id: first.call.id ?? null,
          method: 'getSignatureStatuses',
          params: config === undefined ? [items] : [items, config],
        };
      }
      const response = await post(input, init, call);
      await answer(chunk, response, (result, waiter) => {
        const { context, value } = result as { context?: unknown; value?: unknown };
        // A short or misshapen answer must fail, not read as accounts or signatures that do not exist.
        if (!Array.isArray(value) || value.length !== items.length)
          throw new Error(
            `the RPC answered ${call.method} for ${items.length} entries with ${Array.isArray(value) ? value.length : 'no list of'} entries`,
          );
        const mine = waiter.items.map((item) => value[position.get(item) ?? -1] as unknown);
        return { context, value: waiter.call.method === 'getAccountInfo' ? mine[0] : mine };
      });
    } catch (error) {
      for (const waiter of chunk) waiter.reject(error);
    }
  };

  return (input, init) => {
    const call = parseCall(init?.body);
    const merge = call === undefined ? undefined : mergeOf(call, String(input instanceof Request ? input.url : input));
    // A caller with its own abort signal is not made to share a fate with others.
    if (call === undefined || merge === undefined || init?.signal != null) return inner(input, init);
    return new Promise<Response>((resolve, reject) => {
      let group = groups.get(merge.key);
      if (group === undefined) {
        group = { inFlight: 0, sentAt: 0, waiting: [], send: sender(input, init, merge) };
        groups.set(merge.key, group);
      }
      group.waiting.push({ call, items: merge.items, resolve, reject });
      // Callers of the same tick leave together; later ones join while it is in flight.
      setImmediate(() => flush(merge.key));
    });
  };
}
