// The run record store against a real API server: a record reads back as written, two workers
// racing to record an ending leave exactly one (the other gets a conflict, never an overwrite), a
// restarted agent finds its NosanaNode's records by label, a release is conditional and refused
// while the ending may still land, and a garbled or forged record reads as an error, never as "no
// record".
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import { Keypair, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import type { TransactionInstruction } from '@solana/web3.js';
import { JOB_STATE } from '../../src/chain/accounts.ts';
import { NETWORKS } from '../../src/chain/addresses.ts';
import type { JobView } from '../../src/chain/jobs-client.ts';
import { toNodeTransactionRecord } from '../../src/chain/node-transaction-record.ts';
import type { NodeTransactionSubject } from '../../src/chain/node-transaction-record.ts';
import { completeInstructions, quitInstructions } from '../../src/chain/operations.ts';
import { base58Signature } from '../../src/chain/transaction-sender.ts';
import type { SignedEnding } from '../../src/controllers/nosana-node/decision.ts';
import { RUN_RECORD_LABEL, RunRecordError, RunRecordStore, runRecordName } from '../../src/controllers/nosana-node/run-record-store.ts';
import type { RecordOwner, StoredRunRecord } from '../../src/controllers/nosana-node/run-record-store.ts';
import { cidToBytes32 } from '../../src/ipfs/cid.ts';
import { KubeApi } from '../../src/runtime/kube-api.ts';
import { useCluster, type ClusterContext } from '../harness/fixture.ts';
import { installNosanaApis } from '../harness/nosana-apis.ts';

const NETWORK = NETWORKS.localnet;
const RESULT = 'QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH';

let ctx: ClusterContext;
let namespace: string;

const nodeKey = Keypair.generate();

/** A signed ending of `kind` for the run, as the agent records it before broadcast. */
function signedEnding(kind: 'complete' | 'quit', job: Keypair, run: Keypair): SignedEnding {
  const [subject, instructions]: [NodeTransactionSubject, TransactionInstruction[]] =
    kind === 'complete'
      ? [
          { kind, job: job.publicKey, resultCid: RESULT },
          completeInstructions(NETWORK, job.publicKey, nodeKey.publicKey, cidToBytes32(RESULT)),
        ]
      : [
          { kind, job: job.publicKey, run: run.publicKey },
          quitInstructions(NETWORK, job.publicKey, run.publicKey, {
            job: job.publicKey,
            node: nodeKey.publicKey,
            payer: Keypair.generate().publicKey,
            state: 0,
            time: 1n,
          }),
        ];
  const transaction = new VersionedTransaction(
    new TransactionMessage({
      payerKey: nodeKey.publicKey,
      recentBlockhash: Keypair.generate().publicKey.toBase58(),
      instructions,
    }).compileToLegacyMessage(),
  );
  transaction.sign([nodeKey]);
  const sent = { transaction, signature: base58Signature(transaction), lastValidBlockHeight: 100, slot: 50 };
  return toNodeTransactionRecord(subject, nodeKey.publicKey, sent, 'LocalGenesis1111111111111111111111111111111') as SignedEnding;
}

/** The job as read while this node holds its run: a quit for it may still land. */
function heldJob(job: Keypair, run: Keypair): JobView {
  const someone = Keypair.generate().publicKey;
  return {
    address: job.publicKey,
    status: 'RUNNING',
    account: {
      ipfsJob: new Uint8Array(32).fill(1),
      ipfsResult: new Uint8Array(32),
      market: someone,
      node: someone,
      payer: someone,
      price: 10n,
      project: someone,
      state: JOB_STATE.queued,
      timeEnd: 0n,
      timeStart: 0n,
      timeout: 600n,
    },
    run: { address: run.publicKey, account: { job: job.publicKey, node: nodeKey.publicKey, payer: someone, state: 0, time: 1n } },
  };
}

/** A fresh job and run, with the result pinned and nothing signed yet. */
function pinnedRun(): { job: Keypair; run: Keypair; record: StoredRunRecord } {
  const job = Keypair.generate();
  const run = Keypair.generate();
  return {
    job,
    run,
    record: { jobAddress: job.publicKey.toBase58(), runAddress: run.publicKey.toBase58(), result: { cid: RESULT, flowStatus: 'success' } },
  };
}

async function nosanaNode(name: string): Promise<RecordOwner> {
  const created = await ctx.objects.create<KubernetesObject>({
    apiVersion: 'nosana.io/v1alpha1',
    kind: 'NosanaNode',
    metadata: { name, namespace },
    spec: { market: 'm', keySecretRef: { name: 'k' } },
  } as KubernetesObject);
  return { namespace, name, uid: created.metadata?.uid ?? '', nodeAddress: nodeKey.publicKey.toBase58() };
}

function configMapPath(owner: RecordOwner, runAddress: string): string {
  return `/api/v1/namespaces/${namespace}/configmaps/${runRecordName(owner.name, runAddress)}`;
}

describe('the run record store on a real API server', () => {
  let api: KubeApi;

  before(async () => {
    ctx = await useCluster();
    await installNosanaApis(ctx);
    namespace = await ctx.freshNamespace('records');
    api = new KubeApi(ctx.kubeConfig);
  });

  test('a record written reads back as written, in a ConfigMap owned by the NosanaNode', async () => {
    const store = new RunRecordStore(api, { network: NETWORK });
    const owner = await nosanaNode('rack-1');
    const { job, run, record } = pinnedRun();
    assert.equal(await store.find(owner, record.runAddress), undefined, 'no record yet reads as none');

    const created = await store.write(owner, nodeKey, record, undefined);
    assert.equal(created.outcome, 'written');
    const read = await store.find(owner, record.runAddress);
    assert.deepEqual(read?.record, record);
    assert.equal(read?.version, created.outcome === 'written' ? created.version : '', 'the version returned is the one read back');

    const ending = { signed: signedEnding('complete', job, run), reason: 'its poster ended the job while it ran', failures: 0 };
    const withEnding = { ...record, ending };
    const replaced = await store.write(owner, nodeKey, withEnding, read?.version);
    assert.equal(replaced.outcome, 'written');
    assert.deepEqual((await store.find(owner, record.runAddress))?.record, withEnding);

    const configMap = await api.request<V1ConfigMap>('GET', configMapPath(owner, record.runAddress));
    assert.deepEqual(
      configMap.metadata?.ownerReferences?.map(({ kind, name, uid }) => ({ kind, name, uid })),
      [{ kind: 'NosanaNode', name: 'rack-1', uid: owner.uid }],
    );
  });

  test('two workers recording an ending from the same read: one wins, the other gets a conflict and overwrites nothing', async () => {
    const store = new RunRecordStore(api, { network: NETWORK });
    const owner = await nosanaNode('rack-2');
    const { job, run, record } = pinnedRun();

    // Two creations at once: one record.
    const creations = await Promise.all([store.write(owner, nodeKey, record, undefined), store.write(owner, nodeKey, record, undefined)]);
    assert.deepEqual(creations.map((write) => write.outcome).sort(), ['conflict', 'written']);

    const read = await store.find(owner, record.runAddress);
    assert.ok(read !== undefined);
    const complete = { ...record, ending: { signed: signedEnding('complete', job, run), reason: 'poster ended it', failures: 0 } };
    const quit = { ...record, ending: { signed: signedEnding('quit', job, run), reason: 'node lost', failures: 0 } };
    const writes = await Promise.all([
      store.write(owner, nodeKey, complete, read.version),
      store.write(owner, nodeKey, quit, read.version),
    ]);
    assert.deepEqual(writes.map((write) => write.outcome).sort(), ['conflict', 'written']);
    const winner = writes[0]?.outcome === 'written' ? complete : quit;
    const loser = winner === complete ? quit : complete;
    const kept = await store.find(owner, record.runAddress);
    assert.equal(kept?.record.ending?.signed.signature, winner.ending.signed.signature, "the winner's ending is the one recorded");

    const late = await store.write(owner, nodeKey, loser, read.version);
    assert.equal(late.outcome, 'conflict', 'a writer that read before the winner wrote can never replace its ending');
    assert.equal((await store.find(owner, record.runAddress))?.record.ending?.signed.signature, winner.ending.signed.signature);
  });

  test("after a restart, a new store lists the NosanaNode's records by label, and no one else's", async () => {
    const owner = await nosanaNode('rack-3');
    const neighbour = await nosanaNode('rack-3b');
    const original = new RunRecordStore(api, { network: NETWORK });
    const first = pinnedRun().record;
    const second = { ...pinnedRun().record, result: { cid: RESULT, flowStatus: 'failed' as const } };
    for (const record of [first, second]) assert.equal((await original.write(owner, nodeKey, record, undefined)).outcome, 'written');
    assert.equal((await original.write(neighbour, nodeKey, pinnedRun().record, undefined)).outcome, 'written');

    const restarted = new RunRecordStore(new KubeApi(ctx.kubeConfig), { network: NETWORK });
    const listed = await restarted.list(owner);
    const byRun = (a: StoredRunRecord, b: StoredRunRecord) => a.runAddress.localeCompare(b.runAddress);
    assert.deepEqual(listed.map((read) => read.record).sort(byRun), [first, second].sort(byRun));
    assert.ok(listed.every((read) => read.version !== ''));
  });

  test('a release is refused while the ending may still land, conditional on the version read, and idempotent', async () => {
    const store = new RunRecordStore(api, { network: NETWORK });
    const owner = await nosanaNode('rack-4');
    const { job, run, record } = pinnedRun();
    const ending = { signed: signedEnding('quit', job, run), reason: 'node lost', failures: 0 };
    await store.write(owner, nodeKey, { ...record, ending }, undefined);
    const read = await store.find(owner, record.runAddress);
    assert.ok(read !== undefined);

    const refused = await store.release(owner, read, { outcome: { outcome: 'pending' }, job: heldJob(job, run) });
    assert.equal(refused.outcome, 'refused');
    assert.notEqual(await store.find(owner, record.runAddress), undefined, 'a refused release deletes nothing');

    const resigned = await store.write(owner, nodeKey, { ...read.record, ending: { ...ending, failures: 1 } }, read.version);
    assert.equal(resigned.outcome, 'written');
    const stale = await store.release(owner, read, { outcome: { outcome: 'expired' }, job: heldJob(job, run) });
    assert.equal(stale.outcome, 'conflict', 'a record changed since it was judged is not deleted');
    assert.notEqual(await store.find(owner, record.runAddress), undefined);

    const current = await store.find(owner, record.runAddress);
    assert.ok(current !== undefined);
    assert.deepEqual(await store.release(owner, current, { outcome: { outcome: 'landed', evidence: 'signature' }, job: undefined }), {
      outcome: 'released',
    });
    assert.equal(await store.find(owner, record.runAddress), undefined);
    assert.deepEqual(await store.release(owner, current, { outcome: { outcome: 'landed', evidence: 'signature' }, job: undefined }), {
      outcome: 'released',
    });
  });

  test('a garbled record is an error naming the key, for find and for list alike', async () => {
    const store = new RunRecordStore(api, { network: NETWORK });
    const owner = await nosanaNode('rack-5');
    const { job, run, record } = pinnedRun();
    await store.write(
      owner,
      nodeKey,
      { ...record, ending: { signed: signedEnding('quit', job, run), reason: 'node lost', failures: 0 } },
      undefined,
    );
    await api.request('PATCH', configMapPath(owner, record.runAddress), {
      contentType: 'application/merge-patch+json',
      body: { data: { 'ending-transaction': '{"kind":"quit","job":' } },
    });
    const namesTheKey = (error: unknown) => error instanceof RunRecordError && error.key === 'key ending-transaction';
    await assert.rejects(store.find(owner, record.runAddress), namesTheKey);
    await assert.rejects(store.list(owner), namesTheKey);
  });

  test('a record forged by someone who may write ConfigMaps but holds no node key is an error, never a record', async () => {
    const store = new RunRecordStore(api, { network: NETWORK });
    const owner = await nosanaNode('rack-6');
    const { record } = pinnedRun();
    // The name and labels are computable from public data; the signature is not.
    await api.request('POST', `/api/v1/namespaces/${namespace}/configmaps`, {
      body: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: runRecordName(owner.name, record.runAddress), labels: { [RUN_RECORD_LABEL]: owner.name } },
        data: { job: record.jobAddress, run: record.runAddress, 'result-cid': RESULT, 'result-flow-status': 'success' },
      },
    });
    const namesTheSignature = (error: unknown) =>
      error instanceof RunRecordError &&
      error.key === 'key record-signature' &&
      error.configMap.endsWith(runRecordName('rack-6', record.runAddress));
    await assert.rejects(store.find(owner, record.runAddress), namesTheSignature);
  });
});
