// A node's result document published through the production pinning adapters (Pinata's API and
// Kubo's RPC, as the localnet serves both) and read back through the verified gateway reader, as
// the poster side reads it: the CID the node puts on chain names exactly the bytes a poster gets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readResultDocument } from '../../src/controllers/nosana-job/result.ts';
import { publishResult, resultDocument } from '../../src/controllers/nosana-node/result-publisher.ts';
import type { FlowState, LogEntry } from '../../src/executor/flow-state.ts';
import { GatewayReader, KuboClient, PinataClient } from '../../src/ipfs/index.ts';
import { useLocalnet } from './support.ts';

const LIVENESS = { timeout: 30_000 };
const localnet = useLocalnet();

const lines = (count: number, prefix: string): LogEntry[] =>
  Array.from({ length: count }, (_, index) => ({ type: 'stdout', log: `${prefix} ${index} ${'z'.repeat(100)}\n` }));

function endedFlow(logs: LogEntry[]): FlowState {
  return {
    status: 'success',
    startTime: 1_767_225_600_000,
    endTime: 1_767_225_612_345,
    errors: [],
    secrets: { 'https://private.example': { port: 8080 } },
    opStates: [
      {
        operationId: 'train',
        group: 'train',
        providerId: 'nos-0123456789abcdef-0',
        status: 'success',
        startTime: 1_767_225_601_000,
        endTime: 1_767_225_612_000,
        exitCode: 0,
        logs,
        results: { loss: ['loss=0.12', '0.12'] },
        errors: [],
        diagnostics: { reason: { hostShutDown: false, jobStopped: false, jobExpired: false } },
      },
    ],
  };
}

describe('publishing a result document on the localnet', () => {
  test('pinned through the Pinata adapter, it reads back from the gateway verified, as the poster side parses it', LIVENESS, async () => {
    const net = localnet();
    const flow = endedFlow(lines(20, 'epoch'));
    const published = await publishResult(new PinataClient({ jwt: 'localnet', apiUrl: net.ipfs.apiUrl }), flow, { name: 'result.json' });

    const gateway = new GatewayReader({ gateways: [net.ipfs.gatewayUrl] });
    const { bytes } = await gateway.read(published.cid);
    assert.deepEqual(bytes, resultDocument(flow).bytes, 'the gateway serves the bytes whose CID the node computed');
    const { value } = await gateway.readJson<FlowState>(published.cid);
    assert.deepEqual(value, { ...flow, secrets: {} });

    const seenByPoster = await readResultDocument(gateway, published.cid);
    assert.equal(seenByPoster.status, 'success');
    assert.equal(seenByPoster.ops[0]?.id, 'train');
    assert.match(seenByPoster.ops[0]?.logs ?? '', /^epoch 0 z+\nepoch 1 /);
  });

  test('the Kubo adapter stores the same document under the same CID', LIVENESS, async () => {
    const net = localnet();
    const flow = endedFlow(lines(3, 'step'));
    const viaPinata = await publishResult(new PinataClient({ jwt: 'localnet', apiUrl: net.ipfs.apiUrl }), flow);
    const viaKubo = await publishResult(new KuboClient({ apiUrl: net.ipfs.kuboApiUrl }), flow);
    assert.equal(viaKubo.cid, viaPinata.cid);
  });

  test('a document cut to its bound is what gets pinned and served', LIVENESS, async () => {
    const net = localnet();
    const flow = endedFlow(lines(500, 'noisy'));
    const maxBytes = 20_000;
    const published = await publishResult(new PinataClient({ jwt: 'localnet', apiUrl: net.ipfs.apiUrl }), flow, { maxBytes });
    assert.ok(published.droppedLogEntries > 0);
    assert.ok(published.size <= maxBytes);
    const { bytes } = await new GatewayReader({ gateways: [net.ipfs.gatewayUrl], maxBytes }).read(published.cid);
    assert.equal(bytes.length, published.size);
  });
});
