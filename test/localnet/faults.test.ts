// The production adapter against a misbehaving RPC: rate limits, server errors, hung requests and
// slow landing. The job's lifecycle must still complete, exactly once, with NOS conserved.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair, PublicKey } from '@solana/web3.js';
import { LAMPORTS_PER_SOL } from '../../src/chain/money.ts';
import { createConnection } from '../../src/chain/rpc-transport.ts';
import type { RpcRequestEvent } from '../../src/chain/rpc-transport.ts';
import { SolanaJobsClient } from '../../src/chain/solana-jobs-client.ts';
import { LOCALNET } from '../../src/localnet/localnet.ts';
import { DEFINITION_CID_BYTES, totalNos, useLocalnet } from './support.ts';

describe('the adapter on a faulty RPC', () => {
  // Blockhashes live 10 s: each 429 costs the 1 s its Retry-After asks for, so a post can take a
  // few seconds to confirm.
  const getLocalnet = useLocalnet({ market: { price: 7n }, chain: { slotMs: 40, blockhashLifetime: 250, finalizeAfterSlots: 2 } });

  test('post, work and finish complete through 429s, 503s, hung requests and delayed landing', async () => {
    const localnet = getLocalnet();
    const events: RpcRequestEvent[] = [];
    // maxDelayMs covers the localnet's Retry-After of 1 s: a longer one would end the retries.
    const connection = createConnection(localnet.chain.url, {
      timeoutMs: 300,
      maxRetries: 8,
      baseDelayMs: 10,
      maxDelayMs: 1_000,
      onRequest: (event) => events.push(event),
    });
    const client = new SolanaJobsClient({ connection, network: LOCALNET, sender: { pollIntervalMs: 50, rebroadcastIntervalMs: 200 } });
    const node = Keypair.generate();
    localnet.chain.ledger.airdrop(node.publicKey, LAMPORTS_PER_SOL);
    const totalBefore = await totalNos(localnet.connection());

    Object.assign(localnet.chain.faults, {
      rateLimitRate: 0.2,
      serverErrorRate: 0.15,
      hangRate: 0.05,
      hangMs: 1_000,
      landingDelaySlots: 3,
    });
    try {
      await client.ensureStake(node);
      const pending = await client.preparePost({
        wallet: localnet.poster,
        market: localnet.market,
        ipfsJob: DEFINITION_CID_BYTES,
        timeoutSeconds: 60n,
      });
      await client.broadcast(pending);
      for (;;) {
        const resolution = await client.resolvePendingPost(pending);
        if (resolution.outcome === 'landed') break;
        assert.equal(resolution.outcome, 'pending', JSON.stringify(resolution));
        await client.broadcast(pending);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const job = new PublicKey(pending.jobAddress);
      await client.work(node, localnet.market);
      await client.finish(node, job, DEFINITION_CID_BYTES);
      assert.equal((await client.getJob(job))?.status, 'COMPLETED');
    } finally {
      Object.assign(localnet.chain.faults, { rateLimitRate: 0, serverErrorRate: 0, hangRate: 0, landingDelaySlots: 0 });
    }

    assert.equal(await totalNos(localnet.connection()), totalBefore, 'NOS is conserved');
    const retried = events.filter((event) => event.outcome === 'retry');
    assert.ok(
      retried.some((event) => event.status === 429),
      'some requests were rate limited and retried',
    );
    assert.ok(
      retried.some((event) => event.status === 503),
      'some requests met a server error and were retried',
    );
    assert.ok(
      retried.some((event) => event.status === undefined),
      'some requests hung past the timeout and were retried',
    );
    const jobs = await localnet.jobsClient().getRunsByNode(node.publicKey);
    assert.deepEqual(jobs, [], 'the run was closed by finish');
  });
});
