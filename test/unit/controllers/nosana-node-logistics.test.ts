// A definition's logistics on the node side, against loopback HTTP servers: what is read from a
// definition (and refused), the signed Authorization header, fetching the real definition and
// delivering the result with retries, timeouts, bounds and redacted errors, and what gets pinned.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AddressGuard } from '../../../src/http/address-guard.ts';
import { Keypair } from '@solana/web3.js';
import bs58 from 'bs58';
import {
  LogisticsError,
  RECEIVE_API_LISTEN_UNSERVED,
  authorizationHeader,
  deliverResult,
  fetchDefinition,
  logisticsFailure,
  logisticsOf,
  pinnedDocument,
} from '../../../src/controllers/nosana-node/logistics.ts';
import type { ResolvedLogistics } from '../../../src/controllers/nosana-node/logistics.ts';
import { ed25519Verify } from '../../../src/chain/ed25519.ts';
import type { FlowState } from '../../../src/executor/flow-state.ts';
import { loopback } from '../download/loopback.ts';
import type { Loopback } from '../download/loopback.ts';

const JOB = Keypair.generate().publicKey.toBase58();
const NODE = Keypair.generate();
const FAST = { delayMs: 1, timeoutMs: 2_000 };

const flow: FlowState = {
  status: 'success',
  startTime: 1_767_225_600_000,
  endTime: 1_767_225_612_345,
  errors: ['a flow error'],
  secrets: {},
  opStates: [
    {
      operationId: 'infer',
      group: 'infer',
      providerId: 'pod-infer',
      status: 'success',
      startTime: 1_767_225_601_000,
      endTime: 1_767_225_612_000,
      exitCode: 0,
      logs: [{ type: 'stdout', log: 'the confidential answer\n', timestamp: '2026-01-01T00:00:01Z' }],
      errors: [],
      diagnostics: { reason: { hostShutDown: false, jobStopped: false, jobExpired: false } },
    },
  ],
};

/** A server that answers each request with the next of `answers` (the last one repeats), recording request bodies. */
async function scripted(answers: { status: number; body?: string; headers?: Record<string, string> }[]) {
  const bodies: string[] = [];
  const server = await loopback(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    bodies.push(Buffer.concat(chunks).toString('utf8'));
    const answer = answers[Math.min(bodies.length - 1, answers.length - 1)] ?? { status: 500 };
    response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    response.end(answer.body ?? '');
  });
  return { ...server, bodies };
}

/** Runs `run` with the server, and closes it whatever happens. */
async function using<T extends Loopback>(starting: T | Promise<T>, run: (server: T) => Promise<void>): Promise<void> {
  const server = await starting;
  try {
    await run(server);
  } finally {
    await server.close();
  }
}

function definitionWith(logistics: unknown): unknown {
  return { version: '0.1', type: 'container', logistics, ops: [] };
}

describe('logisticsOf', () => {
  const cases: { reason: string; definition: unknown; want: ResolvedLogistics }[] = [
    { reason: 'a definition without logistics has none', definition: { version: '0.1', ops: [] }, want: {} },
    { reason: 'something that is not a definition has none', definition: 'not a definition', want: {} },
    {
      reason: 'send api: every %%global.job%% in the endpoint is the job address',
      definition: definitionWith({
        send: { type: 'api', args: { endpoint: 'https://poster.example/api/jobs/%%global.job%%/job-definition?job=%%global.job%%' } },
      }),
      want: { send: { type: 'api', endpoint: `https://poster.example/api/jobs/${JOB}/job-definition?job=${JOB}` } },
    },
    {
      reason: 'api-listen needs no endpoint, with or without args; receive api is read like send',
      definition: definitionWith({
        send: { type: 'api-listen', args: {} },
        receive: { type: 'api', args: { endpoint: 'http://results.example:8080/in' } },
      }),
      want: { send: { type: 'api-listen' }, receive: { type: 'api', endpoint: 'http://results.example:8080/in' } },
    },
    {
      reason: 'api-listen without args; keys the node does not know are ignored',
      definition: definitionWith({ receive: { type: 'api-listen', extra: true }, later: 1 }),
      want: { receive: { type: 'api-listen' } },
    },
  ];
  for (const { reason, definition, want } of cases) {
    test(reason, () => assert.deepEqual(logisticsOf(definition, JOB), want));
  }

  const refusals: { reason: string; logistics: unknown; message: RegExp }[] = [
    { reason: 'logistics that is not an object', logistics: 'api', message: /^logistics: expected an object, got "api"$/ },
    { reason: 'a side that is not an object', logistics: { receive: 3 }, message: /^logistics\.receive: expected an object/ },
    {
      reason: 'an unknown type',
      logistics: { send: { type: 'ftp', args: {} } },
      message: /^logistics\.send\.type: expected "api" or "api-listen", got "ftp"$/,
    },
    { reason: 'a missing type', logistics: { send: { args: {} } }, message: /^logistics\.send\.type: .*got nothing$/ },
    { reason: 'args that are not an object', logistics: { send: { type: 'api', args: [] } }, message: /^logistics\.send\.args: / },
    {
      reason: 'an endpoint that is not a string',
      logistics: { receive: { type: 'api', args: { endpoint: 42 } } },
      message: /^logistics\.receive\.args\.endpoint: expected a URL string, got number 42$/,
    },
    {
      reason: 'api without an endpoint',
      logistics: { send: { type: 'api', args: {} } },
      message: /^logistics\.send\.args\.endpoint: required when the type is "api"$/,
    },
    {
      reason: 'a file URL',
      logistics: { send: { type: 'api', args: { endpoint: 'file:///etc/passwd' } } },
      message: /^logistics\.send\.args\.endpoint: only http and https URLs are used, not file:$/,
    },
    {
      reason: 'another scheme',
      logistics: { receive: { type: 'api', args: { endpoint: 'ftp://poster.example/results' } } },
      message: /^logistics\.receive\.args\.endpoint: only http and https URLs are used, not ftp:$/,
    },
    {
      reason: 'text that is not a URL',
      logistics: { send: { type: 'api', args: { endpoint: '/api/jobs/%%global.job%%' } } },
      message: /^logistics\.send\.args\.endpoint: is not a URL$/,
    },
    {
      reason: 'a literal that is not resolved there',
      logistics: { send: { type: 'api', args: { endpoint: 'https://poster.example/%%global.variables.id%%' } } },
      message: /^logistics\.send\.args\.endpoint: holds a literal other than %%global\.job%%/,
    },
    {
      reason: 'credentials in the URL (and they are not quoted)',
      logistics: { send: { type: 'api', args: { endpoint: 'https://poster:hunter2@poster.example/def' } } },
      message: /^logistics\.send\.args\.endpoint: must not carry credentials \(user:password@\)(?!.*hunter2)/,
    },
  ];
  for (const { reason, logistics, message } of refusals) {
    test(`refused: ${reason}`, () => {
      assert.throws(
        () => logisticsOf(definitionWith(logistics), JOB),
        (error: Error) => error instanceof LogisticsError && message.test(error.message),
      );
    });
  }
});

describe('authorizationHeader', () => {
  test('is the job address and its base58 signature by the node key, which verifies with the node public key', () => {
    const header = authorizationHeader(JOB, NODE.secretKey);
    const [message, signature, ...rest] = header.split(':');
    assert.equal(message, JOB);
    assert.deepEqual(rest, []);
    const signatureBytes = bs58.decode(signature ?? '');
    assert.equal(signatureBytes.length, 64);
    assert.equal(ed25519Verify(Buffer.from(JOB), signatureBytes, NODE.publicKey.toBytes()), true);
    assert.equal(ed25519Verify(Buffer.from(JOB), signatureBytes, Keypair.generate().publicKey.toBytes()), false);
  });
});

/** The error's text never holds the node key, in any encoding, nor the header. */
function assertNoKey(error: Error): void {
  const text = `${error.message}\n${error.stack ?? ''}\n${String((error.cause as Error | undefined)?.message)}`;
  for (const secret of [
    bs58.encode(NODE.secretKey),
    Buffer.from(NODE.secretKey).toString('hex'),
    authorizationHeader(JOB, NODE.secretKey),
  ]) {
    assert.equal(text.includes(secret), false);
  }
}

describe('fetchDefinition', () => {
  const definition = { version: '0.1', type: 'container', ops: [{ id: 'infer', type: 'container/run', args: { image: 'ubuntu' } }] };

  test('GETs the endpoint with the signed header and returns the JSON', () =>
    using(scripted([{ status: 200, body: JSON.stringify(definition) }]), async (server) => {
      const endpoint = `${server.url}/api/jobs/${JOB}/job-definition`;
      assert.deepEqual(await fetchDefinition({ endpoint }, JOB, NODE.secretKey, FAST), definition);
      assert.equal(server.requests.length, 1);
      assert.equal(server.requests[0]?.method, 'GET');
      assert.equal(server.requests[0]?.target, `/api/jobs/${JOB}/job-definition`);
      assert.equal(server.requests[0]?.headers.authorization, authorizationHeader(JOB, NODE.secretKey));
    }));

  test('tries again after failures (a 404 included) and returns what a later try got', () =>
    using(scripted([{ status: 503 }, { status: 404 }, { status: 200, body: JSON.stringify(definition) }]), async (server) => {
      assert.deepEqual(await fetchDefinition({ endpoint: server.url }, JOB, NODE.secretKey, FAST), definition);
      assert.equal(server.requests.length, 3);
    }));

  test('a long Retry-After does not stretch the wait between tries', () =>
    using(
      scripted([
        { status: 503, headers: { 'retry-after': '3600' } },
        { status: 200, body: JSON.stringify(definition) },
      ]),
      async (server) => {
        const started = performance.now();
        assert.deepEqual(await fetchDefinition({ endpoint: server.url }, JOB, NODE.secretKey, FAST), definition);
        assert.ok(performance.now() - started < 1_000);
        assert.equal(server.requests.length, 2);
      },
    ));

  test('gives up after the tries with the last failure, the endpoint redacted and no key', () =>
    using(scripted([{ status: 500, body: 'internal detail' }]), async (server) => {
      const endpoint = `${server.url}/def?api-key=hunter2`;
      await assert.rejects(fetchDefinition({ endpoint }, JOB, NODE.secretKey, { ...FAST, attempts: 3 }), (error: Error) => {
        assert.ok(error instanceof LogisticsError);
        assert.equal(
          error.message,
          `the job definition could not be fetched from ${server.url}/def?api-key=[redacted] after 3 attempts: HTTP 500`,
        );
        assertNoKey(error);
        return true;
      });
      assert.equal(server.requests.length, 3);
    }));

  const badAnswers: { reason: string; answer: { status: number; body: string; headers?: Record<string, string> }; message: RegExp }[] = [
    {
      reason: 'a body that is not JSON',
      answer: { status: 200, body: '<html>not yet</html>' },
      message: / after 2 attempts: the answer is not JSON$/,
    },
    {
      reason: 'a body over the bound, announced',
      answer: { status: 200, body: JSON.stringify({ padding: 'x'.repeat(500) }), headers: { 'content-length': '514' } },
      message: / after 2 attempts: the answer is larger than 100 bytes$/,
    },
    {
      reason: 'a body over the bound, streamed without a length',
      answer: { status: 200, body: JSON.stringify({ padding: 'x'.repeat(500) }), headers: { 'transfer-encoding': 'chunked' } },
      message: / after 2 attempts: the answer is larger than 100 bytes$/,
    },
  ];
  for (const { reason, answer, message } of badAnswers) {
    test(`refuses ${reason}`, () =>
      using(scripted([answer]), async (server) => {
        await assert.rejects(
          fetchDefinition({ endpoint: server.url }, JOB, NODE.secretKey, { ...FAST, attempts: 2, maxBytes: 100 }),
          (error: Error) => error instanceof LogisticsError && message.test(error.message),
        );
        assert.equal(server.requests.length, 2);
      }));
  }

  test('times out each try', () =>
    using(
      loopback(() => undefined), // never answers
      async (server) => {
        await assert.rejects(
          fetchDefinition({ endpoint: server.url }, JOB, NODE.secretKey, { delayMs: 1, timeoutMs: 50, attempts: 2 }),
          (error: Error) => error instanceof LogisticsError && / after 2 attempts: no answer within 50 ms$/.test(error.message),
        );
        assert.equal(server.requests.length, 2);
      },
    ));

  test('follows a redirect to another origin without the Authorization header', async () => {
    const cdn = await scripted([{ status: 200, body: JSON.stringify(definition) }]);
    await using(cdn, () =>
      using(scripted([{ status: 302, headers: { location: `${cdn.url.replace('127.0.0.1', 'localhost')}/moved` } }]), async (poster) => {
        assert.deepEqual(await fetchDefinition({ endpoint: poster.url }, JOB, NODE.secretKey, FAST), definition);
        assert.equal(poster.requests[0]?.headers.authorization, authorizationHeader(JOB, NODE.secretKey));
        assert.equal(cdn.requests.length, 1);
        assert.equal(cdn.requests[0]?.headers.authorization, undefined);
      }),
    );
  });

  test('does not follow a redirect to a file URL', () =>
    using(scripted([{ status: 302, headers: { location: 'file:///etc/passwd' } }]), async (server) => {
      await assert.rejects(
        fetchDefinition({ endpoint: server.url }, JOB, NODE.secretKey, { ...FAST, attempts: 1 }),
        (error: Error) =>
          error instanceof LogisticsError &&
          / after 1 attempt: the endpoint could not be reached: URL scheme must be a HTTP\(S\) scheme$/.test(error.message),
      );
    }));

  test('refuses an endpoint that is not http(s) without sending anything', async () => {
    await assert.rejects(
      fetchDefinition({ endpoint: 'file:///etc/passwd' }, JOB, NODE.secretKey, FAST),
      (error: Error) =>
        error instanceof LogisticsError && error.message === 'the logistics endpoint only http and https URLs are used, not file:',
    );
  });

  test('with the guard, an endpoint inside a denied range (here the agent’s own loopback) is refused at once, nothing sent', () =>
    using(scripted([{ status: 200, body: JSON.stringify(definition) }]), async (server) => {
      const guard = new AddressGuard(['10.0.0.0/8']);
      await assert.rejects(
        fetchDefinition({ endpoint: `${server.url}/job` }, JOB, NODE.secretKey, { ...FAST, guard }),
        (error: Error) => error instanceof LogisticsError && /inside a range the node may not reach/.test(error.message),
      );
      await assert.rejects(
        deliverResult({ endpoint: `${server.url}/result` }, JOB, NODE.secretKey, flow, { ...FAST, guard }),
        (error: Error) => error instanceof LogisticsError && /inside a range the node may not reach/.test(error.message),
      );
      assert.equal(server.requests.length, 0, 'no request reached the endpoint');
    }));

  test('a caller abort ends the retries with the caller reason', () =>
    using(scripted([{ status: 503 }]), async (server) => {
      const controller = new AbortController();
      const reason = new Error('node shutting down');
      const pending = fetchDefinition({ endpoint: server.url }, JOB, NODE.secretKey, { signal: controller.signal, delayMs: 60_000 });
      while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      controller.abort(reason);
      await assert.rejects(pending, (error: unknown) => error === reason);
      assert.equal(server.requests.length, 1);
    }));
});

describe('deliverResult', () => {
  // What fetch itself sends; anything else would be the node adding information.
  const TRANSPORT_HEADERS = new Set([
    'host',
    'connection',
    'content-length',
    'accept',
    'accept-language',
    'accept-encoding',
    'sec-fetch-mode',
    'user-agent',
  ]);

  test('POSTs exactly the flow as JSON, with the signed header and nothing else', () =>
    using(scripted([{ status: 204 }]), async (server) => {
      await deliverResult({ endpoint: `${server.url}/results/${JOB}` }, JOB, NODE.secretKey, flow, FAST);
      assert.equal(server.requests.length, 1);
      const [request] = server.requests;
      assert.equal(request?.method, 'POST');
      assert.equal(request?.target, `/results/${JOB}`);
      assert.equal(server.bodies[0], JSON.stringify(flow));
      assert.equal(request?.headers.authorization, authorizationHeader(JOB, NODE.secretKey));
      assert.equal(request?.headers['content-type'], 'application/json');
      const extra = Object.keys(request?.headers ?? {}).filter(
        (name) => !TRANSPORT_HEADERS.has(name) && name !== 'authorization' && name !== 'content-type',
      );
      assert.deepEqual(extra, []);
    }));

  test('tries again after a failure', () =>
    using(scripted([{ status: 500 }, { status: 200, body: '{"ok":true}' }]), async (server) => {
      await deliverResult({ endpoint: server.url }, JOB, NODE.secretKey, flow, FAST);
      assert.equal(server.requests.length, 2);
      assert.deepEqual(server.bodies, [JSON.stringify(flow), JSON.stringify(flow)]);
    }));

  test('gives up after four tries by default', () =>
    using(scripted([{ status: 502 }]), async (server) => {
      await assert.rejects(deliverResult({ endpoint: server.url }, JOB, NODE.secretKey, flow, FAST), (error: Error) => {
        assert.ok(error instanceof LogisticsError);
        assert.equal(error.message, `the result could not be delivered to ${server.url} after 4 attempts: HTTP 502`);
        assertNoKey(error);
        return true;
      });
      assert.equal(server.requests.length, 4);
    }));

  test('does not follow a redirect with the result', async () => {
    const elsewhere = await scripted([{ status: 200 }]);
    await using(elsewhere, () =>
      using(scripted([{ status: 307, headers: { location: `${elsewhere.url}/take` } }]), async (server) => {
        await assert.rejects(
          deliverResult({ endpoint: server.url }, JOB, NODE.secretKey, flow, { ...FAST, attempts: 2 }),
          (error: Error) =>
            error instanceof LogisticsError &&
            / after 2 attempts: HTTP 307: a redirect, which is not followed with a result$/.test(error.message),
        );
        assert.equal(elsewhere.requests.length, 0);
      }),
    );
  });
});

describe('pinnedDocument', () => {
  const publicFields = (document: object) => Object.keys(document).sort();

  test('without a receive target, the flow itself', () => {
    assert.equal(pinnedDocument(flow, undefined), flow);
  });

  test('receive api delivered: status, times and errors only', () => {
    const document = pinnedDocument(flow, { type: 'api', endpoint: 'https://poster.example/in' });
    assert.deepEqual(document, {
      status: 'success',
      startTime: flow.startTime,
      endTime: flow.endTime,
      opStates: [],
      errors: ['a flow error'],
    });
  });

  test('receive api not delivered: the delivery error is added', () => {
    const document = pinnedDocument(flow, { type: 'api', endpoint: 'https://poster.example/in' }, 'the result could not be delivered');
    assert.deepEqual(document.errors, ['a flow error', 'the result could not be delivered']);
    assert.deepEqual(document.opStates, []);
  });

  test('receive api-listen: the public copy says the result could not be handed over, and nothing of the ops leaks', () => {
    const document = pinnedDocument(flow, { type: 'api-listen' });
    assert.deepEqual(publicFields(document), ['endTime', 'errors', 'opStates', 'startTime', 'status']);
    assert.deepEqual(document.errors, ['a flow error', RECEIVE_API_LISTEN_UNSERVED]);
    assert.match(RECEIVE_API_LISTEN_UNSERVED, /could not be handed over/);
    assert.equal(JSON.stringify(document).includes('confidential'), false);
  });
});

describe('logisticsFailure', () => {
  test('a logistics-error flow that ran nothing, with the message as its error', () => {
    assert.deepEqual(logisticsFailure('the job definition could not be fetched', 1_767_225_600_000), {
      status: 'logistics-error',
      startTime: 1_767_225_600_000,
      endTime: 1_767_225_600_000,
      errors: ['the job definition could not be fetched'],
      secrets: {},
      opStates: [],
    });
  });
});
