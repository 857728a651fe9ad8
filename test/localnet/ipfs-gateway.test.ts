// GatewayReader against the localnet IPFS service (and one hand-written misbehaving gateway):
// fallbacks, integrity checks, size caps and timeouts, over loopback HTTP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ContentIntegrityError,
  ContentTooLargeError,
  GatewayReadError,
  GatewayReader,
  IpfsServiceError,
  NO_RESULT_CID,
  computeCidV0,
  type IpfsRequestEvent,
} from '../../src/ipfs/index.ts';
import { createIpfsServer, type IpfsServer } from '../../src/localnet/ipfs/index.ts';

const LIVENESS = { timeout: 30_000 };
const FAST_RETRY = { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 };

function failureKinds(error: unknown): string[] {
  assert.ok(error instanceof GatewayReadError, `expected a GatewayReadError, got ${String(error)}`);
  return error.failures.map(({ error: failure }) => failure.name);
}

describe('GatewayReader against the localnet gateway', () => {
  let first: IpfsServer;
  let second: IpfsServer;
  const document = { kind: 'job-definition', ops: [{ id: 'hello', image: 'ubuntu' }] };
  let cid: string;

  before(async () => {
    first = await createIpfsServer();
    second = await createIpfsServer();
    const bytes = new TextEncoder().encode(JSON.stringify(document));
    cid = (await first.store.add(bytes)).cid;
    await second.store.add(bytes);
  });

  after(async () => {
    await Promise.all([first.close(), second.close()]);
  });

  const resetFaults = (): void => {
    for (const server of [first, second]) {
      Object.assign(server.faults, { gatewayErrorRate: 0, gatewayDelayMs: 0, corruptRate: 0, pinErrorRate: 0 });
    }
  };

  test('reads verified bytes and JSON, with the gateway that served them', LIVENESS, async () => {
    resetFaults();
    const events: IpfsRequestEvent[] = [];
    const reader = new GatewayReader({ gateways: [first.gatewayUrl.replace(/\/ipfs\/$/, '')], onRequest: (event) => events.push(event) });
    const { bytes, gateway } = await reader.read(cid);
    assert.equal(gateway, first.gatewayUrl);
    assert.equal(await computeCidV0(bytes), cid);
    assert.deepEqual((await reader.readJson(cid)).value, document);
    assert.deepEqual(
      events.map(({ operation, service, outcome }) => ({ operation, service, outcome })),
      [
        { operation: 'read', service: first.gatewayUrl, outcome: 'ok' },
        { operation: 'read', service: first.gatewayUrl, outcome: 'ok' },
      ],
    );
  });

  test('falls back to the next gateway when the first answers 503', LIVENESS, async () => {
    resetFaults();
    first.faults.gatewayErrorRate = 1;
    const events: IpfsRequestEvent[] = [];
    const reader = new GatewayReader({
      gateways: [first.gatewayUrl, second.gatewayUrl],
      retry: FAST_RETRY,
      onRequest: (event) => events.push(event),
    });
    const { gateway } = await reader.read(cid);
    assert.equal(gateway, second.gatewayUrl);
    assert.deepEqual(
      events.map(({ service, outcome }) => `${service === first.gatewayUrl ? 'first' : 'second'}:${outcome}`),
      ['first:error', 'first:error', 'second:ok'],
      'the first gateway is retried per policy, then abandoned',
    );
  });

  test('rejects corrupt bytes and uses the next gateway', LIVENESS, async () => {
    resetFaults();
    first.faults.corruptRate = 1;
    const reader = new GatewayReader({ gateways: [first.gatewayUrl, second.gatewayUrl], retry: FAST_RETRY });
    const { bytes, gateway } = await reader.read(cid);
    assert.equal(gateway, second.gatewayUrl);
    assert.equal(await computeCidV0(bytes), cid);
  });

  test('fails when every gateway serves corrupt bytes, naming each', LIVENESS, async () => {
    resetFaults();
    first.faults.corruptRate = 1;
    second.faults.corruptRate = 1;
    const reader = new GatewayReader({ gateways: [first.gatewayUrl, second.gatewayUrl], retry: FAST_RETRY });
    const error = await reader.read(cid).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.deepEqual(failureKinds(error), ['ContentIntegrityError', 'ContentIntegrityError']);
    const failures = (error as GatewayReadError).failures;
    assert.ok(
      failures.every(({ error: failure }) => failure instanceof ContentIntegrityError && failure.cid === cid && failure.servedCid !== cid),
    );
    assert.match((error as Error).message, new RegExp(`gateway ${first.gatewayUrl} served corrupt content for ${cid}`));
    assert.match((error as Error).message, new RegExp(`gateway ${second.gatewayUrl} served corrupt content`));
  });

  test('moves on when a gateway does not answer in time', LIVENESS, async () => {
    resetFaults();
    first.faults.gatewayDelayMs = 60_000;
    const reader = new GatewayReader({ gateways: [first.gatewayUrl, second.gatewayUrl], timeoutMs: 300, retry: { attempts: 1 } });
    assert.equal((await reader.read(cid)).gateway, second.gatewayUrl);

    const slowOnly = new GatewayReader({ gateways: [first.gatewayUrl], timeoutMs: 300, retry: { attempts: 1 } });
    await assert.rejects(slowOnly.read(cid), (error: Error) => {
      assert.deepEqual(failureKinds(error), ['IpfsServiceError']);
      assert.match(error.message, /did not answer within 300 ms/);
      return true;
    });
  });

  test("the caller's abort ends the read at once, without trying other gateways", LIVENESS, async () => {
    resetFaults();
    first.faults.gatewayDelayMs = 60_000;
    const events: IpfsRequestEvent[] = [];
    const reader = new GatewayReader({ gateways: [first.gatewayUrl, second.gatewayUrl], onRequest: (event) => events.push(event) });
    const controller = new AbortController();
    const reading = reader.read(cid, { signal: controller.signal });
    controller.abort(new Error('reconcile cancelled'));
    await assert.rejects(reading, /reconcile cancelled/);
    assert.ok(
      events.every(({ service }) => service === first.gatewayUrl),
      'the second gateway was not asked',
    );
  });

  test('reports unknown content as not found without retrying it', LIVENESS, async () => {
    resetFaults();
    const unknown = await computeCidV0(new TextEncoder().encode('never pinned'));
    const events: IpfsRequestEvent[] = [];
    const reader = new GatewayReader({ gateways: [first.gatewayUrl], retry: FAST_RETRY, onRequest: (event) => events.push(event) });
    await assert.rejects(reader.read(unknown), (error: Error) => {
      assert.ok(error instanceof GatewayReadError);
      const [failure] = error.failures;
      assert.ok(failure?.error instanceof IpfsServiceError);
      assert.equal(failure.error.status, 404);
      assert.match(error.message, /HTTP 404/);
      return true;
    });
    assert.equal(events.length, 1, '404 is not retried');
  });

  test('enforces the size cap, and content exactly at the cap is accepted', LIVENESS, async () => {
    resetFaults();
    const { cid: bigCid, size } = await first.store.add(new Uint8Array(5000).fill(42));
    const tight = new GatewayReader({ gateways: [first.gatewayUrl, second.gatewayUrl], maxBytes: size - 1, retry: FAST_RETRY });
    await assert.rejects(tight.read(bigCid), (error: Error) => {
      assert.deepEqual(failureKinds(error), ['ContentTooLargeError', 'IpfsServiceError']);
      assert.match(error.message, new RegExp(`gateway ${first.gatewayUrl} served more than the 4999-byte limit`));
      return true;
    });
    const exact = new GatewayReader({ gateways: [first.gatewayUrl], maxBytes: size });
    assert.equal((await exact.read(bigCid)).bytes.length, size);
  });

  test('refuses CIDs it cannot verify or that name no content, before any request', LIVENESS, async () => {
    const events: IpfsRequestEvent[] = [];
    const reader = new GatewayReader({ gateways: [first.gatewayUrl], onRequest: (event) => events.push(event) });
    await assert.rejects(
      reader.read('bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'),
      /CIDv1, which cannot be stored on chain/,
    );
    await assert.rejects(reader.read(NO_RESULT_CID), /placeholder for 32 zero bytes on chain/);
    assert.equal(events.length, 0);
  });

  test('readJson says which content is not JSON', LIVENESS, async () => {
    resetFaults();
    const textCid = (await first.store.add(new TextEncoder().encode('plain text'))).cid;
    const reader = new GatewayReader({ gateways: [first.gatewayUrl] });
    await assert.rejects(
      reader.readJson(textCid),
      new RegExp(`content of ${textCid} \\(served by ${first.gatewayUrl}\\) is not valid JSON`),
    );
  });
});

describe('GatewayReader against a gateway that streams without end', () => {
  test('stops reading at the cap instead of trusting the stream', LIVENESS, async () => {
    let streamClosed!: () => void;
    const closed = new Promise<void>((resolve) => {
      streamClosed = resolve;
    });
    const endless = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked: no Content-Length
      const chunk = new Uint8Array(64 * 1024);
      const pump = (): void => {
        while (!response.destroyed && response.write(chunk));
      };
      response.on('drain', pump);
      response.on('close', () => streamClosed());
      pump();
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    const { port } = endless.address() as AddressInfo;
    try {
      const cid = await computeCidV0(new Uint8Array(10));
      const reader = new GatewayReader({ gateways: [`http://127.0.0.1:${port}`], maxBytes: 1024 * 1024, retry: { attempts: 1 } });
      await assert.rejects(reader.read(cid), (error: Error) => {
        assert.ok(error instanceof GatewayReadError);
        assert.ok(error.failures[0]?.error instanceof ContentTooLargeError);
        return true;
      });
      await closed; // the reader hung up rather than draining the stream
    } finally {
      endless.closeAllConnections();
      await new Promise((resolve) => endless.close(resolve));
    }
  });
});
