// The run record's codec, offline: a record reads back as it was written, a tampered, garbled or
// forged one is an error naming the key at fault (never "no record", which would let the node sign
// a second ending): only the node's key can write a record, for one ConfigMap, holding its own
// endings. Then the ConfigMap's name, labels and owner, and when a record may be released.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { Keypair, SystemProgram, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import type { PublicKey, TransactionInstruction } from '@solana/web3.js';
import { JOB_STATE } from '../../../src/chain/accounts.ts';
import type { JobAccount, RunAccount } from '../../../src/chain/accounts.ts';
import { NETWORKS, nosTokenAccount } from '../../../src/chain/addresses.ts';
import type { JobStatus, JobView } from '../../../src/chain/jobs-client.ts';
import { toNodeTransactionRecord } from '../../../src/chain/node-transaction-record.ts';
import type { NodeTransactionSubject } from '../../../src/chain/node-transaction-record.ts';
import { completeInstructions, finishInstructions, leaveQueueInstructions, quitInstructions } from '../../../src/chain/operations.ts';
import { base58Signature } from '../../../src/chain/transaction-sender.ts';
import type { SignedEnding } from '../../../src/controllers/nosana-node/decision.ts';
import {
  RUN_RECORD_KEYS,
  RUN_RECORD_LABEL,
  RunRecordError,
  buildRunRecordConfigMap,
  decodeRunRecord,
  encodeRunRecord,
  readRunRecordConfigMap,
  releaseRefusal,
  runRecordName,
  runRecordSelector,
} from '../../../src/controllers/nosana-node/run-record-store.ts';
import type { RecordOwner, RecordPlace, ReleaseFacts, StoredRunRecord } from '../../../src/controllers/nosana-node/run-record-store.ts';
import { JOB_LABEL, RUN_LABEL } from '../../../src/executor/labels.ts';
import { NO_RESULT_CID, cidToBytes32 } from '../../../src/ipfs/cid.ts';

const NETWORK = NETWORKS.localnet;
const GENESIS = 'LocalGenesis1111111111111111111111111111111';
const RESULT = 'QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH';
const OTHER_RESULT = 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o';
const key = (): PublicKey => Keypair.generate().publicKey;

const node = Keypair.generate();
/** Another node's key: a stranger's, or this node's before its key Secret was changed. */
const other = Keypair.generate();
const nodeAddress = node.publicKey.toBase58();
const OWNER: RecordOwner = { namespace: 'gpu-owners', name: 'rack-1', uid: '5f0c1f6e-0000-4000-8000-000000000001', nodeAddress };
/** Where the codec tests keep their record, and who must have signed it. */
const WHERE = 'gpu-owners/nos-record-x';
const PLACE: RecordPlace = { configMap: WHERE, nodeAddress };
const AT_NETWORK: RecordPlace = { ...PLACE, network: NETWORK };
const jobAddress = key();
const runAddress = key();
const job: JobAccount = {
  ipfsJob: new Uint8Array(32).fill(1),
  ipfsResult: new Uint8Array(32),
  market: key(),
  node: SystemProgram.programId,
  payer: key(),
  price: 10n,
  project: key(),
  state: JOB_STATE.queued,
  timeEnd: 0n,
  timeStart: 0n,
  timeout: 600n,
};
const run: RunAccount = { job: jobAddress, node: node.publicKey, payer: key(), state: 0, time: 1_000n };

function signed(subject: NodeTransactionSubject, instructions: TransactionInstruction[], by = node) {
  const transaction = new VersionedTransaction(
    new TransactionMessage({ payerKey: by.publicKey, recentBlockhash: key().toBase58(), instructions }).compileToLegacyMessage(),
  );
  transaction.sign([by]);
  const sent = { transaction, signature: base58Signature(transaction), lastValidBlockHeight: 100, slot: 50 };
  return toNodeTransactionRecord(subject, by.publicKey, sent, GENESIS, new Date('2026-06-01T12:00:00Z'));
}

const payout = nosTokenAccount(NETWORK, node.publicKey);
const finish = signed(
  { kind: 'finish', job: jobAddress, run: runAddress, resultCid: RESULT, payout },
  finishInstructions({ network: NETWORK, jobAddress, job, runAddress, run, vault: key(), ipfsResult: cidToBytes32(RESULT), payout }),
) as SignedEnding;
const complete = signed(
  { kind: 'complete', job: jobAddress, resultCid: RESULT },
  completeInstructions(NETWORK, jobAddress, node.publicKey, cidToBytes32(RESULT)),
) as SignedEnding;
const quit = signed(
  { kind: 'quit', job: jobAddress, run: runAddress },
  quitInstructions(NETWORK, jobAddress, runAddress, run),
) as SignedEnding;
// A quit of the same run by another node: its bytes do what it says and its signature verifies.
const othersQuit = signed(
  { kind: 'quit', job: jobAddress, run: runAddress },
  quitInstructions(NETWORK, jobAddress, runAddress, { ...run, node: other.publicKey }),
  other,
) as SignedEnding;
const market = key();
const leaveQueue = signed({ kind: 'leave-queue', market }, leaveQueueInstructions(NETWORK, market, node.publicKey));

const ids = { jobAddress: jobAddress.toBase58(), runAddress: runAddress.toBase58() };
const pinned = { cid: RESULT, flowStatus: 'success' } as const;
const finished: StoredRunRecord = { ...ids, result: pinned, ending: { signed: finish, reason: 'the flow ended (success)', failures: 0 } };

describe('run record codec', () => {
  const records: { reason: string; record: StoredRunRecord }[] = [
    { reason: 'a record with neither result nor ending (the decision drops it) is still a record', record: ids },
    { reason: 'a pinned result alone, before the ending is signed', record: { ...ids, result: { cid: RESULT, flowStatus: 'failed' } } },
    { reason: 'a pinned result and its signed finish', record: finished },
    {
      reason: 'a complete, signed again after two failures, keeps its count and reason',
      record: { ...ids, result: pinned, ending: { signed: complete, reason: 'its poster ended the job while it ran', failures: 2 } },
    },
    {
      reason: 'a quit needs no result (the cluster failed the run before one existed)',
      record: { ...ids, ending: { signed: quit, reason: 'pod evicted: node lost', failures: 0 } },
    },
  ];
  for (const { reason, record } of records) {
    test(`reads back what was written: ${reason}`, () => {
      const data = encodeRunRecord(record, node, { configMap: WHERE, network: NETWORK });
      assert.deepEqual(decodeRunRecord(data, AT_NETWORK), record);
      assert.deepEqual(decodeRunRecord(data, PLACE), record, 'without a network the same record reads back');
    });
  }

  const data = encodeRunRecord(finished, node, { configMap: WHERE });
  const tamperedRun = key().toBase58();
  const garbled: {
    reason: string;
    change: (data: Record<string, string>) => Record<string, string> | undefined;
    network?: true;
    want: { key: string; problem: RegExp };
  }[] = [
    {
      reason: 'a ConfigMap with no data at all is unreadable, not an empty record',
      change: () => undefined,
      want: { key: 'key job', problem: /missing/ },
    },
    {
      reason: 'a job that is not an address',
      change: (d) => ({ ...d, job: 'not-an-address!' }),
      want: { key: 'key job', problem: /not a Solana address/ },
    },
    {
      reason: 'a run key removed',
      change: ({ run: _run, ...rest }) => rest,
      want: { key: 'key run', problem: /missing/ },
    },
    {
      reason: 'a key the store never writes is refused, so nothing is silently ignored',
      change: (d) => ({ ...d, note: 'hello' }),
      want: { key: 'key note', problem: /not a key of a run record/ },
    },
    {
      reason: 'a result CID without its flow status',
      change: ({ 'result-flow-status': _status, ...rest }) => rest,
      want: { key: 'key result-flow-status', problem: /missing while result-cid is present/ },
    },
    {
      reason: 'a result CID that is not a CIDv0',
      change: (d) => ({ ...d, 'result-cid': 'bafy-something' }),
      want: { key: 'key result-cid', problem: /./ },
    },
    {
      reason: 'the on-chain placeholder for "no result" is not a pinned result',
      change: (d) => ({ ...d, 'result-cid': NO_RESULT_CID }),
      want: { key: 'key result-cid', problem: /placeholder/ },
    },
    {
      reason: 'a flow status Nosana does not have',
      change: (d) => ({ ...d, 'result-flow-status': 'done' }),
      want: { key: 'key result-flow-status', problem: /not a flow status/ },
    },
    {
      reason: 'a signed ending cut short (not JSON)',
      change: (d) => ({ ...d, 'ending-transaction': (d['ending-transaction'] ?? '').slice(0, 40) }),
      want: { key: 'key ending-transaction', problem: /not JSON/ },
    },
    {
      reason: 'a signed ending missing a field',
      change: (d) => {
        const { signature: _signature, ...rest } = JSON.parse(d['ending-transaction'] ?? '{}') as Record<string, unknown>;
        return { ...d, 'ending-transaction': JSON.stringify(rest) };
      },
      want: { key: 'key ending-transaction', problem: /signature/ },
    },
    {
      reason: 'a node transaction that is not an ending (leaving the queue)',
      change: (d) => ({ ...d, 'ending-transaction': JSON.stringify(leaveQueue) }),
      want: { key: 'key ending-transaction', problem: /leave-queue transaction, not a run's ending/ },
    },
    {
      reason: "an ending of another job than the record's",
      change: (d) => ({ ...d, job: key().toBase58() }),
      want: { key: 'key ending-transaction', problem: /another job/ },
    },
    {
      reason: "a finish of another run than the record's",
      change: (d) => ({ ...d, run: key().toBase58() }),
      want: { key: 'key ending-transaction', problem: /another run/ },
    },
    {
      reason: 'a finish that writes another result than the one pinned',
      change: (d) => ({ ...d, 'result-cid': OTHER_RESULT }),
      want: { key: 'key ending-transaction', problem: /another result/ },
    },
    {
      reason: 'a finish with its pinned result removed',
      change: ({ 'result-cid': _cid, 'result-flow-status': _status, ...rest }) => rest,
      want: { key: 'key ending-transaction', problem: /another result/ },
    },
    {
      reason: 'an ending without its reason',
      change: ({ 'ending-reason': _reason, ...rest }) => rest,
      want: { key: 'key ending-reason', problem: /missing while ending-transaction and ending-failures is present/ },
    },
    {
      reason: 'a failure count that is not a whole number',
      change: (d) => ({ ...d, 'ending-failures': '-1' }),
      want: { key: 'key ending-failures', problem: /whole number/ },
    },
    {
      reason: 'with the network, bytes that close another run than the record says (record and data edited together) are caught',
      change: (d) => ({
        ...d,
        run: tamperedRun,
        'ending-transaction': JSON.stringify({ ...JSON.parse(d['ending-transaction'] ?? '{}'), run: tamperedRun }),
      }),
      network: true,
      want: { key: 'key ending-transaction', problem: /do not do what it says.*run account is not the recorded one/ },
    },
    {
      reason: 'with the network, bytes whose signature was altered are caught',
      change: (d) => {
        const record = JSON.parse(d['ending-transaction'] ?? '{}') as { transaction: string };
        const bytes = Buffer.from(record.transaction, 'base64');
        bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
        return { ...d, 'ending-transaction': JSON.stringify({ ...record, transaction: bytes.toString('base64') }) };
      },
      network: true,
      want: { key: 'key ending-transaction', problem: /do not do what it says/ },
    },
  ];
  for (const { reason, change, network, want } of garbled) {
    test(`a garbled record is an error naming the key: ${reason}`, () => {
      assert.throws(
        () => decodeRunRecord(change({ ...data }), network === true ? AT_NETWORK : PLACE),
        (error: unknown) => {
          assert.ok(error instanceof RunRecordError, `a RunRecordError, got ${String(error)}`);
          assert.equal(error.key, want.key);
          assert.match(error.problem, want.problem);
          assert.match(error.message, /gpu-owners\/nos-record-x/, 'the message names the ConfigMap');
          return true;
        },
      );
    });
  }

  test("tampered bytes consistent with the record's fields are still caught without a network, by the record's signature", () => {
    const edited = garbled.find((entry) => entry.network === true)?.change({ ...data });
    assert.throws(
      () => decodeRunRecord(edited, PLACE),
      (error: unknown) => error instanceof RunRecordError && error.key === 'key record-signature',
    );
  });

  test('the store writes nothing it could not read back', () => {
    const mismatched = { ...finished, result: { cid: OTHER_RESULT, flowStatus: 'success' } } as const;
    assert.throws(
      () => encodeRunRecord(mismatched, node, { configMap: WHERE }),
      /not written, as it would not read back: key ending-transaction writes another result/,
    );
  });

  test('an error never quotes what the ConfigMap holds, nor the key that signs it', () => {
    const secretish = 'Sup3rS3cretNotAnAddress=';
    assert.throws(
      () => decodeRunRecord({ ...data, job: secretish }, PLACE),
      (error: Error) => !error.message.includes(secretish),
    );
    const othersRecord = { ...ids, ending: { signed: othersQuit, reason: 'node lost', failures: 0 } };
    const secret = [Buffer.from(node.secretKey).toString('base64'), Buffer.from(node.secretKey.subarray(0, 32)).toString('hex')];
    assert.throws(
      () => encodeRunRecord(othersRecord, node, { configMap: WHERE }),
      (error: Error) => /signed by node/.test(error.message) && secret.every((text) => !error.message.includes(text)),
    );
  });
});

describe('run record signature: only the node agent writes a record the node reads', () => {
  const pinnedOnly: StoredRunRecord = { ...ids, result: { cid: RESULT, flowStatus: 'failed' } };
  const pinnedData = encodeRunRecord(pinnedOnly, node, { configMap: WHERE });
  const data = encodeRunRecord(finished, node, { configMap: WHERE });
  const forged: { reason: string; data: Record<string, string>; at?: RecordPlace; want: { key: string; problem: RegExp } }[] = [
    {
      reason: "a result CID of someone else's choosing, written over the pinned one before the finish is signed",
      data: { ...pinnedData, 'result-cid': OTHER_RESULT },
      want: { key: 'key record-signature', problem: /does not verify against node/ },
    },
    {
      reason: 'a failed flow rewritten as a success (it would count as completed)',
      data: { ...pinnedData, 'result-flow-status': 'success' },
      want: { key: 'key record-signature', problem: /does not verify/ },
    },
    {
      reason: 'a result forged into a record that had none',
      data: { ...encodeRunRecord(ids, node, { configMap: WHERE }), 'result-cid': OTHER_RESULT, 'result-flow-status': 'success' },
      want: { key: 'key record-signature', problem: /does not verify/ },
    },
    {
      reason: 'a bare job and run with no signature (it would have the running job released)',
      data: { job: ids.jobAddress, run: ids.runAddress },
      want: { key: 'key record-signature', problem: /missing/ },
    },
    {
      reason: "a bare job and run carrying another record's genuine signature",
      data: { job: ids.jobAddress, run: ids.runAddress, 'record-signature': data['record-signature'] ?? '' },
      want: { key: 'key record-signature', problem: /does not verify/ },
    },
    {
      reason: "a job and run of someone else's choosing under a signature of the node's",
      data: { ...pinnedData, job: key().toBase58() },
      want: { key: 'key record-signature', problem: /does not verify/ },
    },
    {
      reason: 'an ending reason edited',
      data: { ...data, 'ending-reason': 'nothing happened' },
      want: { key: 'key record-signature', problem: /does not verify/ },
    },
    {
      reason: 'a failure count edited (it would stop, or unstop, the signing of new versions)',
      data: { ...data, 'ending-failures': '2' },
      want: { key: 'key record-signature', problem: /does not verify/ },
    },
    {
      reason: 'a well-formed record signed by another key',
      data: encodeRunRecord(pinnedOnly, other, { configMap: WHERE }),
      want: { key: 'key record-signature', problem: /does not verify against node/ },
    },
    {
      reason: 'a signature of the wrong length',
      data: { ...pinnedData, 'record-signature': Buffer.alloc(63).toString('base64') },
      want: { key: 'key record-signature', problem: /not an ed25519 signature/ },
    },
    {
      reason: 'a signature that is not base64',
      data: { ...pinnedData, 'record-signature': '!'.repeat(88) },
      want: { key: 'key record-signature', problem: /not an ed25519 signature/ },
    },
    {
      reason: 'a genuine record read as another ConfigMap (the name is signed)',
      data,
      at: { ...PLACE, configMap: 'gpu-owners/nos-record-y' },
      want: { key: 'key record-signature', problem: /does not verify/ },
    },
    {
      reason: "a record holding another node's signed quit (its bytes and signatures check out on the network)",
      data: { ...data, 'ending-transaction': JSON.stringify(othersQuit) },
      at: AT_NETWORK,
      want: { key: 'key ending-transaction', problem: /signed by node .* not by this node/ },
    },
    {
      reason: "a record the node's former key signed, read after the key Secret changed",
      data,
      at: { ...PLACE, nodeAddress: other.publicKey.toBase58() },
      want: { key: 'key ending-transaction', problem: /signed by node .* not by this node/ },
    },
  ];
  for (const { reason, data: read, at, want } of forged) {
    test(`a forged record is an error naming the ConfigMap, never a record: ${reason}`, () => {
      assert.throws(
        () => decodeRunRecord(read, at ?? PLACE),
        (error: unknown) => {
          assert.ok(error instanceof RunRecordError, `a RunRecordError, got ${String(error)}`);
          assert.deepEqual([error.key, error.configMap], [want.key, at?.configMap ?? WHERE]);
          assert.match(error.problem, want.problem);
          return true;
        },
      );
    });
  }

  test("the node's agent writes no record holding another node's ending", () => {
    assert.throws(
      () => encodeRunRecord({ ...ids, ending: { signed: othersQuit, reason: 'node lost', failures: 0 } }, node, { configMap: WHERE }),
      /not written, as it would not read back: key ending-transaction is signed by node/,
    );
  });
});

describe('run record ConfigMap', () => {
  test('its name is a DNS label derived from the NosanaNode and the run alone', () => {
    const name = runRecordName('rack-1', ids.runAddress);
    assert.match(name, /^nos-record-[0-9a-f]{16}$/);
    assert.equal(runRecordName('rack-1', ids.runAddress), name, 'the same run of the same node finds the same record');
    assert.notEqual(runRecordName('rack-2', ids.runAddress), name, "another NosanaNode's record of the run is another object");
    assert.notEqual(runRecordName('rack-1', key().toBase58()), name, 'another run is another record');
  });

  test('it lives in the NosanaNode namespace, is owned by it, and carries the labels a restarted agent lists it by', () => {
    const configMap = buildRunRecordConfigMap(OWNER, finished, node);
    assert.equal(configMap.metadata?.namespace, 'gpu-owners');
    assert.equal(configMap.metadata?.name, runRecordName('rack-1', ids.runAddress));
    assert.equal(configMap.metadata?.resourceVersion, undefined, 'without a version it is a creation');
    assert.deepEqual(configMap.metadata?.ownerReferences, [
      { apiVersion: 'nosana.io/v1alpha1', kind: 'NosanaNode', name: 'rack-1', uid: OWNER.uid, controller: true },
    ]);
    assert.deepEqual(configMap.metadata?.labels, {
      'app.kubernetes.io/managed-by': 'nosana-operator',
      [RUN_RECORD_LABEL]: 'rack-1',
      [JOB_LABEL]: ids.jobAddress,
      [RUN_LABEL]: ids.runAddress,
    });
    assert.equal(runRecordSelector('rack-1'), `app.kubernetes.io/managed-by=nosana-operator,${RUN_RECORD_LABEL}=rack-1`);
    assert.equal(
      buildRunRecordConfigMap(OWNER, finished, node, '42').metadata?.resourceVersion,
      '42',
      'with a version it is a replacement at it',
    );
    const long = 'a'.repeat(100);
    assert.match(
      buildRunRecordConfigMap({ ...OWNER, name: long }, ids, node).metadata?.labels?.[RUN_RECORD_LABEL] ?? '',
      /^sha256-[0-9a-f]{48}$/,
    );
    assert.throws(
      () => buildRunRecordConfigMap(OWNER, ids, other),
      /its signer is not node/,
      "only the NosanaNode's key signs its records",
    );
  });

  test('reading it checks that it is this NosanaNode record of the run its name says', () => {
    const built = buildRunRecordConfigMap(OWNER, finished, node);
    const configMap = { ...built, metadata: { ...built.metadata, resourceVersion: '7' } };
    assert.deepEqual(readRunRecordConfigMap(OWNER, configMap, NETWORK), { record: finished, version: '7' });
    // The same node key serving a second NosanaNode: its record, relabelled and renamed as rack-1's.
    const neighbours = buildRunRecordConfigMap({ ...OWNER, name: 'rack-2' }, finished, node);
    const copied = {
      ...neighbours,
      metadata: { ...neighbours.metadata, name: configMap.metadata.name, labels: configMap.metadata.labels },
    };
    const cases: { reason: string; configMap: V1ConfigMap; node?: string; want: string }[] = [
      { reason: "another NosanaNode's record is not this one's", configMap, node: 'rack-2', want: `label ${RUN_RECORD_LABEL}` },
      {
        reason: "a record moved under another run's name no longer verifies: the name is signed",
        configMap: { ...configMap, metadata: { ...configMap.metadata, name: runRecordName('rack-1', key().toBase58()) } },
        want: `key ${RUN_RECORD_KEYS.signature}`,
      },
      {
        reason: "a record copied from another NosanaNode's name, relabelled, does not verify under this one's",
        configMap: copied,
        want: `key ${RUN_RECORD_KEYS.signature}`,
      },
      {
        reason: 'a record copied into another namespace does not verify there',
        configMap: { ...configMap, metadata: { ...configMap.metadata, namespace: 'elsewhere' } },
        want: `key ${RUN_RECORD_KEYS.signature}`,
      },
      { reason: 'binary data is no part of a record', configMap: { ...configMap, binaryData: { x: 'AA==' } }, want: 'binaryData' },
    ];
    for (const { reason, configMap: read, node: nodeName, want } of cases) {
      assert.throws(
        () => readRunRecordConfigMap({ name: nodeName ?? 'rack-1', nodeAddress }, read),
        (error: unknown) => error instanceof RunRecordError && error.key === want,
        reason,
      );
    }
  });
});

describe('releasing a record', () => {
  const quitting: StoredRunRecord = { ...ids, ending: { signed: quit, reason: 'node lost', failures: 0 } };
  /** The record's job as read: its run open on this node (RUNNING), or the run closed. */
  const jobRead = (status: JobStatus, address = jobAddress): JobView => ({
    address,
    account: status === 'COMPLETED' ? { ...job, state: JOB_STATE.done, node: node.publicKey } : job,
    status,
    ...(status === 'RUNNING' ? { run: { address: runAddress, account: run } } : {}),
  });
  const held = jobRead('RUNNING');
  const cases: { reason: string; record: StoredRunRecord; facts: ReleaseFacts; want: RegExp | undefined }[] = [
    {
      reason: 'a record with nothing signed can go',
      record: { ...ids, result: pinned },
      facts: { outcome: undefined, job: held },
      want: undefined,
    },
    {
      reason: 'an ending that landed can go',
      record: finished,
      facts: { outcome: { outcome: 'landed', evidence: 'signature' }, job: held },
      want: undefined,
    },
    {
      reason: 'an ending that failed beyond rollback can go',
      record: quitting,
      facts: { outcome: { outcome: 'failed', error: undefined, detail: 'x' }, job: held },
      want: undefined,
    },
    {
      reason: 'an ending whose blockhash expired unlanded can go',
      record: finished,
      facts: { outcome: { outcome: 'expired' }, job: held },
      want: undefined,
    },
    {
      reason: 'an ending that may still land on a run still open stays',
      record: finished,
      facts: { outcome: { outcome: 'pending' }, job: held },
      want: /may still land.*pending/,
    },
    {
      reason: 'an ending whose fate the RPC cannot tell, its run still open, stays',
      record: finished,
      facts: { outcome: { outcome: 'unknown', reason: 'no history' }, job: held },
      want: /unknown/,
    },
    {
      reason:
        'a quit whose fate an RPC without history cannot tell, its run closed: done (nothing can be signed for a closed run), it can go',
      record: quitting,
      facts: { outcome: { outcome: 'unknown', reason: 'no history' }, job: jobRead('QUEUED') },
      want: undefined,
    },
    {
      reason: 'a pending finish whose job account is gone: given up, it can go',
      record: finished,
      facts: { outcome: { outcome: 'pending' }, job: undefined },
      want: undefined,
    },
    {
      reason: 'a finish of unknown fate whose result is on the job: done, it can go',
      record: finished,
      facts: {
        outcome: { outcome: 'unknown', reason: 'no history' },
        job: { ...jobRead('COMPLETED'), account: { ...jobRead('COMPLETED').account, ipfsResult: cidToBytes32(RESULT) } },
      },
      want: undefined,
    },
    {
      reason: "a pending ending judged against another job than the record's stays",
      record: quitting,
      facts: { outcome: { outcome: 'pending' }, job: jobRead('QUEUED', key()) },
      want: /not the record's/,
    },
    {
      reason: 'an ending whose outcome could not be read stays, whatever the job',
      record: quitting,
      facts: { outcome: { outcome: 'unreadable', error: 'rpc down' }, job: jobRead('QUEUED') },
      want: /unreadable/,
    },
    {
      reason: 'an ending whose outcome was never read stays',
      record: finished,
      facts: { outcome: undefined, job: undefined },
      want: /not read/,
    },
  ];
  for (const { reason, record, facts, want } of cases) {
    test(reason, () => {
      const refusal = releaseRefusal(record, facts);
      if (want === undefined) assert.equal(refusal, undefined);
      else assert.match(refusal ?? '', want);
    });
  }
});
