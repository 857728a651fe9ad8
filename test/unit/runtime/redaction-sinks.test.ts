// The last line of defence: whatever message reaches a log line, an Event note or a condition
// message, credentials in URLs and Authorization values in it are redacted there, even when the
// code that built the message forgot. The Event recorder is driven through its real HTTP path
// against a loopback server standing in for the API server.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { REDACTED } from '../../../src/http/redact.ts';
import { setCondition } from '../../../src/runtime/conditions.ts';
import { ApiEventRecorder } from '../../../src/runtime/events.ts';
import { createLogger } from '../../../src/runtime/logger.ts';
import { captureLogs } from './log-capture.ts';

const LEAKY =
  'RPC getSlot failed: Request cannot be constructed from a URL that includes credentials: ' +
  'http://user:secretpass@127.0.0.1:1/?api-key=SECRETKEY (Authorization: Bearer SECRETTOKEN)';
const WANT =
  `RPC getSlot failed: Request cannot be constructed from a URL that includes credentials: ` +
  `http://${REDACTED}@127.0.0.1:1/?api-key=${REDACTED} (Authorization: Bearer ${REDACTED})`;

function assertNoSecret(text: string): void {
  for (const secret of ['secretpass', 'SECRETKEY', 'SECRETTOKEN']) assert.equal(text.includes(secret), false, `${secret} leaked: ${text}`);
}

describe('condition messages', () => {
  test('a message quoting a URL with credentials is stored redacted, the host kept', () => {
    const update = { type: 'Ready', status: 'False', reason: 'Pending', message: LEAKY } as const;
    const first = setCondition(undefined, update, 1, new Date(0));
    assert.equal(first[0]?.message, WANT);
    assert.deepEqual(
      setCondition(first, update, 1, new Date(1_000)),
      first,
      're-applying the same message changes nothing (no write loop)',
    );
  });
});

describe('Event notes', () => {
  const bodies: Record<string, unknown>[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      if (body !== '') bodies.push(JSON.parse(body) as Record<string, unknown>);
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ metadata: { name: 'event-1' } }));
    });
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('a note quoting a URL with credentials is written redacted', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const recorder = new ApiEventRecorder(kubeConfig, pino({ level: 'silent' }), { reportingInstance: 'test' });
    const job = { apiVersion: 'nosana.io/v1alpha1', kind: 'NosanaJob', metadata: { name: 'j', namespace: 'team', uid: 'u-1' } };
    recorder.record(job, 'Warning', 'RpcUnavailable', 'Post', LEAKY);
    await recorder.flush();
    assert.equal(bodies.length, 1);
    assert.equal(bodies[0]?.['note'], WANT);
    assertNoSecret(JSON.stringify(bodies));
  });
});

describe('log lines', () => {
  test('URL credentials and Bearer tokens in messages, string fields and errors are redacted', () => {
    const capture = captureLogs();
    const log = createLogger({ level: 'info', destination: capture.destination });
    log.warn(
      { rpc: 'https://user:secretpass@rpc.example.com/?api-key=SECRETKEY', detail: 'sent Authorization: Bearer SECRETTOKEN' },
      LEAKY,
    );
    log.error({ err: new Error('outer', { cause: new Error(LEAKY) }) }, 'failed');
    assertNoSecret(capture.text());
    const [first] = capture.lines();
    assert.equal(first?.['msg'], WANT);
    assert.equal(first?.['rpc'], `https://${REDACTED}@rpc.example.com/?api-key=${REDACTED}`);
    assert.equal(first?.['detail'], `sent Authorization: Bearer ${REDACTED}`);
  });
});
