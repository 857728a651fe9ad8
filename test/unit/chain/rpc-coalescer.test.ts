// The read coalescer against a scripted fetch: which reads merge and which never do, that every
// caller is answered by a request sent after it asked, that each caller gets its own slice with
// its own id, failures reaching every caller, and web3.js's Connection parsing what it returns.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Connection, Keypair } from '@solana/web3.js';
import { coalesceRpcFetch } from '../../../src/chain/rpc-coalescer.ts';

interface Sent {
  method: string;
  params: unknown[];
  id: unknown;
}

interface ScriptedFetch {
  fetch: typeof fetch;
  sent: Sent[];
  /** Answers held until released (when `hold` is on). */
  release(): void;
}

/** A fetch that answers getMultipleAccounts/getAccountInfo with lamports = the key's length, and echoes others. */
function scriptedFetch(options: { hold?: boolean; reply?: (call: Sent) => Response | Promise<Response> } = {}): ScriptedFetch {
  const sent: Sent[] = [];
  let held: (() => void)[] = [];
  const answer = (call: Sent): Response => {
    const account = (key: string): unknown => ({
      lamports: key.length,
      owner: '11111111111111111111111111111111',
      data: ['', 'base64'],
      executable: false,
      rentEpoch: 0,
      space: 0,
    });
    const context = { slot: 7 };
    const result =
      call.method === 'getMultipleAccounts'
        ? { context, value: (call.params[0] as string[]).map(account) }
        : call.method === 'getAccountInfo'
          ? { context, value: account(call.params[0] as string) }
          : call.method === 'getSignatureStatuses'
            ? {
                context,
                value: (call.params[0] as string[]).map((signature) => ({
                  slot: signature.length,
                  confirmations: null,
                  err: null,
                  confirmationStatus: 'finalized',
                })),
              }
            : { answeredRequest: sent.length };
    return new Response(JSON.stringify({ jsonrpc: '2.0', id: call.id, result }), { status: 200 });
  };
  const fetch = (async (_input: unknown, init?: RequestInit) => {
    const call = JSON.parse(String(init?.body)) as Sent;
    sent.push(call);
    if (options.hold === true) await new Promise<void>((resolve) => held.push(resolve));
    return options.reply === undefined ? answer(call) : options.reply(call);
  }) as typeof globalThis.fetch;
  return {
    fetch,
    sent,
    release() {
      const waiting = held;
      held = [];
      for (const resolve of waiting) resolve();
    },
  };
}

const URL = 'http://rpc.test/';

/** The scripted answers: an account or a status (`value` one or a list), or which request answered. */
interface Entry {
  lamports: number;
  slot: number;
}
interface RpcAnswer {
  id: unknown;
  result?: { context?: unknown; value: Entry & Entry[]; answeredRequest?: number };
  error?: { code: number };
}

async function rpc(fetch: typeof globalThis.fetch, id: number, method: string, params: unknown[]): Promise<RpcAnswer> {
  const response = await fetch(URL, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id, method, params }) });
  assert.equal(response.status, 200);
  return (await response.json()) as RpcAnswer;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('coalesceRpcFetch', () => {
  test('account reads of one tick with the same settings become one getMultipleAccounts, each caller getting its own keys and id', async () => {
    const inner = scriptedFetch();
    const fetch = coalesceRpcFetch(inner.fetch);
    const config = { encoding: 'base64', commitment: 'confirmed' };
    const [one, many, again] = await Promise.all([
      rpc(fetch, 1, 'getAccountInfo', ['a', config]),
      rpc(fetch, 2, 'getMultipleAccounts', [['bb', 'ccc', 'a'], config]),
      rpc(fetch, 3, 'getAccountInfo', ['dddd', config]),
    ]);
    assert.deepEqual(
      inner.sent.map((call) => [call.method, call.params]),
      [['getMultipleAccounts', [['a', 'bb', 'ccc', 'dddd'], config]]],
    );
    assert.deepEqual([one.id, many.id, again.id], [1, 2, 3]);
    assert.equal(one.result?.value.lamports, 1);
    assert.deepEqual(
      many.result?.value.map((account: { lamports: number }) => account.lamports),
      [2, 3, 1],
    );
    assert.equal(again.result?.value.lamports, 4);
    assert.deepEqual(one.result?.context, { slot: 7 });
  });

  test('a read asked while an equal one is in flight is answered by the next request, sent after it asked', async () => {
    const inner = scriptedFetch({ hold: true });
    const fetch = coalesceRpcFetch(inner.fetch);
    const first = rpc(fetch, 1, 'getLatestBlockhash', [{ commitment: 'confirmed' }]);
    await settle();
    assert.equal(inner.sent.length, 1);
    const second = rpc(fetch, 2, 'getLatestBlockhash', [{ commitment: 'confirmed' }]);
    const third = rpc(fetch, 3, 'getLatestBlockhash', [{ commitment: 'confirmed' }]);
    await settle();
    assert.equal(inner.sent.length, 1, 'nothing more leaves while the first is in flight');
    inner.release();
    assert.deepEqual((await first).result, { answeredRequest: 1 });
    await settle();
    assert.equal(inner.sent.length, 2, 'the two that waited leave together');
    inner.release();
    const [two, three] = await Promise.all([second, third]);
    assert.deepEqual([two.result, three.result], [{ answeredRequest: 2 }, { answeredRequest: 2 }]);
    assert.deepEqual([two.id, three.id], [2, 3]);
  });

  test('different settings, parsed encodings, other methods and writes are never merged', async () => {
    const inner = scriptedFetch();
    const fetch = coalesceRpcFetch(inner.fetch);
    await Promise.all([
      rpc(fetch, 1, 'getAccountInfo', ['a', { encoding: 'base64', commitment: 'confirmed' }]),
      rpc(fetch, 2, 'getAccountInfo', ['b', { encoding: 'base64', commitment: 'finalized' }]),
      rpc(fetch, 3, 'getAccountInfo', ['c', { encoding: 'jsonParsed' }]),
      rpc(fetch, 4, 'getAccountInfo', ['d', { encoding: 'jsonParsed' }]),
      rpc(fetch, 5, 'getBalance', ['a', { commitment: 'confirmed' }]),
      rpc(fetch, 6, 'getBalance', ['b', { commitment: 'confirmed' }]),
      rpc(fetch, 7, 'sendTransaction', ['AAAA', { encoding: 'base64' }]),
      rpc(fetch, 8, 'sendTransaction', ['AAAA', { encoding: 'base64' }]),
      rpc(fetch, 9, 'simulateTransaction', ['AAAA', { encoding: 'base64' }]),
      rpc(fetch, 10, 'simulateTransaction', ['AAAA', { encoding: 'base64' }]),
    ]);
    assert.equal(inner.sent.length, 10);
    assert.deepEqual(
      inner.sent.filter((call) => call.method === 'sendTransaction').map((call) => call.id),
      [7, 8],
    );
  });

  test('identical reads share one request; the highest minContextSlot asked is the merged read’s', async () => {
    const inner = scriptedFetch();
    const fetch = coalesceRpcFetch(inner.fetch);
    await Promise.all([
      rpc(fetch, 1, 'getBalance', ['w', { commitment: 'confirmed' }]),
      rpc(fetch, 2, 'getBalance', ['w', { commitment: 'confirmed' }]),
      rpc(fetch, 3, 'getProgramAccounts', ['p', { filters: [{ memcmp: { offset: 8, bytes: 'x' } }] }]),
      rpc(fetch, 4, 'getProgramAccounts', ['p', { filters: [{ memcmp: { offset: 8, bytes: 'x' } }] }]),
      rpc(fetch, 5, 'getAccountInfo', ['a', { encoding: 'base64', minContextSlot: 90 }]),
      rpc(fetch, 6, 'getAccountInfo', ['b', { encoding: 'base64', minContextSlot: 120 }]),
      rpc(fetch, 7, 'getAccountInfo', ['c', { encoding: 'base64' }]),
    ]);
    assert.deepEqual(
      inner.sent.map((call) => call.method),
      ['getBalance', 'getProgramAccounts', 'getMultipleAccounts'],
    );
    assert.deepEqual(inner.sent[2]?.params, [['a', 'b', 'c'], { encoding: 'base64', minContextSlot: 120 }]);
  });

  test('signature statuses merge up to 256 per request, keeping callers whole', async () => {
    const inner = scriptedFetch();
    const fetch = coalesceRpcFetch(inner.fetch);
    const signatures = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, index) => `${prefix}${index}`);
    const answers = await Promise.all([
      rpc(fetch, 1, 'getSignatureStatuses', [signatures('a', 200), { searchTransactionHistory: true }]),
      rpc(fetch, 2, 'getSignatureStatuses', [signatures('bb', 100), { searchTransactionHistory: true }]),
      rpc(fetch, 3, 'getSignatureStatuses', [['ccc'], { searchTransactionHistory: true }]),
      rpc(fetch, 4, 'getSignatureStatuses', [['dddd']]),
    ]);
    assert.deepEqual(
      inner.sent.map((call) => (call.params[0] as string[]).length).sort((a, b) => a - b),
      [1, 101, 200],
      'the 200 alone, the 100 with the single one, the one without history search apart',
    );
    assert.equal(answers[0]?.result?.value.length, 200);
    assert.equal(answers[1]?.result?.value[99]?.slot, 'bb99'.length);
    assert.equal(answers[2]?.result?.value[0]?.slot, 3);
    assert.equal(answers[3]?.result?.value[0]?.slot, 4);
  });

  test('a JSON-RPC error, an HTTP error or a network failure of a merged request reaches every caller', async () => {
    const failing = scriptedFetch({
      reply: (call) =>
        call.method === 'getMultipleAccounts'
          ? new Response(
              JSON.stringify({
                jsonrpc: '2.0',
                id: call.id,
                error: { code: -32016, message: 'Minimum context slot has not been reached' },
              }),
            )
          : new Response('busy', { status: 503 }),
    });
    const fetch = coalesceRpcFetch(failing.fetch);
    const errors = await Promise.all([rpc(fetch, 1, 'getAccountInfo', ['a', {}]), rpc(fetch, 2, 'getAccountInfo', ['b', {}])]);
    assert.deepEqual(
      errors.map((answer) => [answer.id, answer.error?.code]),
      [
        [1, -32016],
        [2, -32016],
      ],
    );
    const statuses = await Promise.all(
      [1, 2].map((id) => fetch(URL, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id, method: 'getSlot', params: [] }) })),
    );
    assert.deepEqual(await Promise.all(statuses.map(async (response) => [response.status, await response.text()])), [
      [503, 'busy'],
      [503, 'busy'],
    ]);
    assert.equal(failing.sent.length, 2);

    const broken = coalesceRpcFetch((async () => {
      throw new Error('RPC getSlot failed: no answer');
    }) as typeof globalThis.fetch);
    const outcomes = await Promise.allSettled([rpc(broken, 1, 'getSlot', []), rpc(broken, 2, 'getSlot', [])]);
    assert.deepEqual(
      outcomes.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as Error).message : 'answered')),
      ['RPC getSlot failed: no answer', 'RPC getSlot failed: no answer'],
    );
  });

  test('a merged answer with too few entries fails every caller rather than reading as accounts that do not exist', async () => {
    const short = scriptedFetch({
      reply: (call) => new Response(JSON.stringify({ jsonrpc: '2.0', id: call.id, result: { context: { slot: 1 }, value: [null] } })),
    });
    const fetch = coalesceRpcFetch(short.fetch);
    const outcomes = await Promise.allSettled([rpc(fetch, 1, 'getAccountInfo', ['a', {}]), rpc(fetch, 2, 'getAccountInfo', ['b', {}])]);
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ['rejected', 'rejected'],
    );
    assert.match(String((outcomes[0] as PromiseRejectedResult).reason), /2 entries with 1 entries/);
  });

  test('a request in flight for longer than a second does not hold the reads asked after it', async () => {
    const inner = scriptedFetch({ hold: true });
    const fetch = coalesceRpcFetch(inner.fetch);
    const hanging = rpc(fetch, 1, 'getSlot', []);
    await settle();
    const started = performance.now();
    const later = rpc(fetch, 2, 'getSlot', []);
    while (inner.sent.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    const waitedMs = performance.now() - started;
    assert.ok(waitedMs >= 900 && waitedMs < 5_000, `the later read left after about a second (${Math.round(waitedMs)} ms)`);
    inner.release();
    assert.deepEqual([(await hanging).result?.answeredRequest, (await later).result?.answeredRequest], [2, 2]);
  });

  test('a minContextSlot that is no number is not merged away', async () => {
    const inner = scriptedFetch();
    const fetch = coalesceRpcFetch(inner.fetch);
    await Promise.all([rpc(fetch, 1, 'getAccountInfo', ['a', { minContextSlot: 'soon' }]), rpc(fetch, 2, 'getAccountInfo', ['b', {}])]);
    assert.deepEqual(
      inner.sent.map((call) => call.params),
      [
        ['a', { minContextSlot: 'soon' }],
        ['b', {}],
      ],
    );
  });

  test("web3.js's Connection reads merged accounts as if each had asked alone", async () => {
    const inner = scriptedFetch();
    const connection = new Connection(URL, { fetch: coalesceRpcFetch(inner.fetch), commitment: 'confirmed' });
    const keys = [Keypair.generate().publicKey, Keypair.generate().publicKey, Keypair.generate().publicKey];
    const [single, several] = await Promise.all([connection.getAccountInfo(keys[0]!), connection.getMultipleAccountsInfo(keys.slice(1))]);
    assert.equal(inner.sent.length, 1);
    assert.equal(single?.lamports, keys[0]!.toBase58().length);
    assert.deepEqual(
      several.map((account) => account?.lamports),
      keys.slice(1).map((key) => key.toBase58().length),
    );
  });
});
