// A batch of one-op GPU NosanaJobs through the whole loop (post, claim, run, finish) and the checks
// made once it has settled, shared by the chaos scenarios that storm the loop in different ways
// (a faulty chain and IPFS, processes killed at random instants). Each job has a wallet of its own,
// so "exactly one on-chain job" is a count of that wallet's jobs, and a container rule of its own,
// so a result mixed up between jobs shows.
import assert from 'node:assert/strict';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { PublicKey, type Keypair } from '@solana/web3.js';
import type { NosanaNodeObject } from '../../src/api/crds/nosana-node.ts';
import { HEALTH_TABLE } from '../../src/api/health.ts';
import { jobCost } from '../../src/chain/money.ts';
import { RUN_RECORD_LABEL } from '../../src/controllers/nosana-node/run-record-store.ts';
import { readResultDocument } from '../../src/controllers/nosana-job/result.ts';
import { bytes32ToCid } from '../../src/ipfs/cid.ts';
import { GatewayReader } from '../../src/ipfs/gateway.ts';
import { computeCidV0 } from '../../src/ipfs/unixfs.ts';
import type { SimulationRule } from '../../src/local-cluster/simulation.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';
import {
  conditionOf,
  describeJob,
  NOSANA_API_VERSION,
  WALLET_KEY,
  type NosanaJobResource,
  type NosanaJobSpecInput,
  type NosanaNamespace,
} from '../harness/nosana-fixtures.ts';
import { jobAccountsOf, nosOf } from '../harness/nosana-ledger.ts';
import { describeNode, type NodeScene } from '../harness/node-scene.ts';
import { totalNos } from '../localnet/support.ts';

export const PRICE = 10n;
export const TIMEOUT = 600n;

/** Jobs in a chaos batch: the environment variable `variable` (NOSANA_CHAOS_JOBS unless named), else `fallback`. */
export function chaosJobs(fallback: number, variable = 'NOSANA_CHAOS_JOBS'): number {
  const text = process.env[variable];
  if (text === undefined || text === '') return fallback;
  const jobs = Number(text);
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`${variable} must be a positive integer, got "${text}"`);
  return jobs;
}

export interface BatchMember {
  index: number;
  name: string;
  /** The line its container prints. */
  line: string;
  definition: NonNullable<NosanaJobSpecInput['definition']>;
  wallet: Keypair;
}

/** Job `index` of the batch named `prefix`: its name, the line its container prints, its definition. */
function batchJob(prefix: string, index: number): Omit<BatchMember, 'wallet'> {
  const token = `${prefix}-token-${index}`;
  return {
    index,
    name: `${prefix}-${index}`,
    line: `job ${index} ran: ${token}`,
    definition: {
      version: '0.1',
      type: 'container',
      ops: [{ id: `op-${index}`, type: 'container/run', args: { image: 'ubuntu:24.04', cmd: `echo ${token}`, gpu: true } }],
    },
  };
}

/** One rule per job of the batch: each container runs 1 s and prints a line of its own. */
export function batchRules(prefix: string, count: number): SimulationRule[] {
  return Array.from({ length: count }, (_, index) => {
    const job = batchJob(prefix, index);
    return {
      name: job.name,
      match: { image: 'ubuntu:24.04', commandLine: new RegExp(`(?:^| )echo ${prefix}-token-${index}$`) },
      then: { exitCode: 0, runFor: '1s', logs: [{ stream: 'stdout' as const, text: job.line }] },
    };
  });
}

/** The batch's members, each with a funded wallet Secret of its own (funding mints NOS: read totals after). */
async function fundBatch(ns: NosanaNamespace, prefix: string, count: number): Promise<BatchMember[]> {
  const batch: BatchMember[] = [];
  for (let index = 0; index < count; index += 1) {
    const job = batchJob(prefix, index);
    batch.push({ ...job, wallet: await ns.wallet(`${job.name}-wallet`) });
  }
  return batch;
}

export interface PreparedBatch {
  marketAddress: PublicKey;
  batch: BatchMember[];
  /** NOS before the storm: the whole ledger's and each node's (see checkBatchOutcome). */
  before: Map<string, bigint>;
}

/**
 * The loop's stage: the market, one NosanaNode per name (each with a funded key) queued on it, the
 * batch's wallets, and the balances read once every wallet is funded (funding mints NOS) and
 * before anything misbehaves. The batch is not applied yet.
 */
export async function prepareBatch(
  scene: NodeScene,
  options: { market: string; nodeNames: readonly string[]; prefix: string; count: number },
): Promise<PreparedBatch> {
  const { ns } = scene.jobs;
  const marketAddress = await ns.market(options.market, { settings: { price: PRICE, timeout: TIMEOUT } });
  for (const name of options.nodeNames) {
    await ns.wallet(`${name}-key`, { sol: 2n });
    await scene.createNode(name, { market: options.market, keySecret: `${name}-key` });
  }
  for (const name of options.nodeNames) await scene.waitForNodePhase(name, 'Queued', undefined, 90_000);
  const batch = await fundBatch(ns, options.prefix, options.count);
  return { marketAddress, batch, before: await readBefore(scene, options.nodeNames) };
}

/** Applies every member as a NosanaJob on `market` (no retries: one attempt, one on-chain job). */
export async function applyBatch(ns: NosanaNamespace, batch: readonly BatchMember[], market: string): Promise<void> {
  for (const member of batch) {
    await ns.createJob(member.name, {
      market,
      timeout: Number(TIMEOUT),
      retries: 0,
      walletSecretRef: { name: `${member.name}-wallet`, key: WALLET_KEY },
      definition: member.definition,
    });
  }
}

/** Terminal in the phase table (src/api/health.ts): nothing more happens to it, and its Ready reason says why. */
export function isTerminal(job: NosanaJobResource): boolean {
  const reason = conditionOf(job, 'Ready')?.reason;
  return HEALTH_TABLE.some((row) => row.kind === 'NosanaJob' && row.phase === job.status?.phase && row.reason === reason && row.terminal);
}

export function outcomeOf(job: NosanaJobResource): string {
  return `${job.status?.phase ?? '-'}/${conditionOf(job, 'Ready')?.reason ?? '-'}`;
}

/** Waits until every member's NosanaJob is terminal; `deadlineMs` is a correctness bound, not a speed goal. */
export async function waitBatchTerminal(
  ns: NosanaNamespace,
  batch: readonly BatchMember[],
  deadlineMs: number,
  signal?: AbortSignal,
): Promise<NosanaJobResource[]> {
  return waitFor(
    async () => {
      const listed = await ns.ctx.objects.list<NosanaJobResource>(NOSANA_API_VERSION, 'NosanaJob', ns.name);
      const open = listed.items.filter((job) => !isTerminal(job));
      if (open.length === 0 && listed.items.length === batch.length) return listed.items;
      throw new Error(`not terminal yet: ${open.map((job) => `${job.metadata?.name} ${describeJob(job)}`).join('; ')}`);
    },
    {
      what: `all ${batch.length} NosanaJobs to reach a terminal phase`,
      timeoutMs: deadlineMs,
      intervalMs: 1_000,
      ...(signal === undefined ? {} : { signal }),
    },
  );
}

async function listNodes(scene: NodeScene, names: readonly string[]): Promise<NosanaNodeObject[]> {
  return Promise.all(
    names.map(async (name) => {
      const node = await scene.node(name);
      assert.ok(node !== undefined, `NosanaNode ${name} exists`);
      return node;
    }),
  );
}

/** What the checks compare against: NOS on the whole ledger and each node's NOS, read before the storm. */
async function readBefore(scene: NodeScene, nodeNames: readonly string[]): Promise<Map<string, bigint>> {
  const { localnet } = scene.jobs;
  const before = new Map<string, bigint>([['total', await totalNos(localnet.connection())]]);
  for (const node of await listNodes(scene, nodeNames)) {
    const address = node.status?.nodeAddress ?? '';
    before.set(address, await nosOf(localnet, new PublicKey(address)));
  }
  return before;
}

/**
 * Checks the loop after the storm: each NosanaJob paid for exactly one on-chain job, the one it
 * names, with the definition applied; no transaction about a job failed (a second finish would);
 * a Succeeded job shows the result really pinned, with its own container's line; each node
 * counted, and was paid price × elapsed for, each job it finished once; no run record is left;
 * NOS is conserved to the base unit. Returns the outcomes, counted, for the test's diagnostics.
 */
export async function checkBatchOutcome(
  scene: NodeScene,
  nodeNames: readonly string[],
  batch: readonly BatchMember[],
  marketAddress: PublicKey,
  before: Map<string, bigint>,
): Promise<Map<string, number>> {
  const { ns, localnet } = scene.jobs;
  const client = localnet.jobsClient();
  const gateway = new GatewayReader({ gateways: [localnet.ipfs.gatewayUrl] });
  const outcomes = new Map<string, number>();
  /** COMPLETED on-chain jobs per node address: what each node must have counted and been paid for. */
  const finishedBy = new Map<string, bigint[]>();

  for (const member of batch) {
    const job = await ns.job(member.name);
    assert.ok(job !== undefined, `NosanaJob ${member.name} exists`);
    const outcome = outcomeOf(job);
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    const where = `NosanaJob ${member.name} (${describeJob(job)})`;

    // create once: exactly one on-chain job paid by its wallet, the one status names
    const onChain = await jobAccountsOf(localnet, member.wallet.publicKey, marketAddress);
    assert.equal(
      onChain.length,
      1,
      `${where}: exactly one on-chain job, found ${onChain.map((entry) => entry.address).join(', ') || 'none'}`,
    );
    const [entry] = onChain;
    assert.equal(job.status?.jobAddress, entry!.address, `${where}: status.jobAddress names that job`);
    assert.equal(job.status?.attempts?.length ?? 1, 1, `${where}: one attempt (retries are 0)`);

    // no second ending (nor any other refused transaction) about the job
    const jobAddress = new PublicKey(entry!.address);
    const signatures = await localnet.connection().getSignaturesForAddress(jobAddress);
    const failed = signatures.filter((signature) => signature.err !== null);
    assert.deepEqual(
      failed.map((signature) => `${signature.signature}: ${JSON.stringify(signature.err)}`),
      [],
      `${where}: no transaction about the job failed (a second finish would)`,
    );

    // the definition the job account points at is the one applied, stored under its own CID
    const definitionCid = bytes32ToCid(entry!.account.ipfsJob);
    assert.equal(job.status?.ipfsJob, definitionCid, `${where}: status.ipfsJob is the job account's`);
    const definitionBytes = localnet.ipfs.store.get(definitionCid);
    assert.ok(definitionBytes !== undefined, `${where}: the definition is pinned`);
    assert.equal(await computeCidV0(definitionBytes), definitionCid, `${where}: the pinned definition hashes to its CID`);
    const pinned = JSON.parse(new TextDecoder().decode(definitionBytes)) as { ops?: unknown };
    assert.deepEqual(pinned.ops, member.definition.ops, `${where}: the pinned definition has the ops applied`);

    const chainJob = await client.getJob(jobAddress);
    assert.ok(chainJob !== undefined, `${where}: the job account reads back`);
    if (chainJob.status === 'COMPLETED') {
      const node = chainJob.account.node.toBase58();
      const cost = jobCost(PRICE, chainJob.account.timeEnd - chainJob.account.timeStart, TIMEOUT);
      finishedBy.set(node, [...(finishedBy.get(node) ?? []), cost]);
    }
    if (job.status?.phase !== 'Succeeded') continue;

    // a Succeeded job shows the result that is really pinned, read past no corrupted byte
    assert.equal(chainJob.status, 'COMPLETED', `${where}: Succeeded only once the job is completed on chain`);
    const resultCid = bytes32ToCid(chainJob.account.ipfsResult);
    assert.equal(job.status.ipfsResult, resultCid, `${where}: status.ipfsResult is the job account's`);
    const resultBytes = localnet.ipfs.store.get(resultCid);
    assert.ok(resultBytes !== undefined, `${where}: the result is pinned`);
    assert.equal(await computeCidV0(resultBytes), resultCid, `${where}: the pinned result hashes to its CID`);
    const truth = await readResultDocument(gateway, resultCid);
    assert.deepEqual(
      (job.status.ops ?? []).map((op) => ({
        id: op.id,
        status: op.status,
        exitCode: op.exitCode,
        startTime: op.startTime,
        endTime: op.endTime,
      })),
      truth.ops.map((op) => ({ id: op.id, status: op.status, exitCode: op.exitCode, startTime: op.startTime, endTime: op.endTime })),
      `${where}: status.ops are those of the pinned result`,
    );
    assert.equal(job.status.ops?.[0]?.id, `op-${member.index}`);
    assert.match(job.status.ops?.[0]?.logTail ?? '', new RegExp(`${member.line}`), `${where}: the log tail is its own container's`);
    assert.ok(truth.ops[0]?.logs.includes(member.line), `${where}: the pinned result holds its own container's line`);
  }

  // each node counted, and was paid for, each job it finished once; no run record is left open
  for (const listed of await listNodes(scene, nodeNames)) {
    const address = listed.status?.nodeAddress ?? '';
    const costs = finishedBy.get(address) ?? [];
    // a node counts a job once its ending is settled, a little after the chain shows it
    const node = await scene.waitForNode(
      listed.metadata?.name ?? '',
      `to count the ${costs.length} jobs it finished on chain`,
      (candidate) => (candidate.status?.jobsCompleted ?? 0) + (candidate.status?.jobsFailed ?? 0) >= costs.length,
      120_000,
    );
    const where = `NosanaNode ${node.metadata?.name} (${describeNode(node)})`;
    assert.equal(
      (node.status?.jobsCompleted ?? 0) + (node.status?.jobsFailed ?? 0),
      costs.length,
      `${where}: each finished job counted once`,
    );
    const earned = (await nosOf(localnet, new PublicKey(address))) - (before.get(address) ?? 0n);
    assert.equal(
      earned,
      costs.reduce((sum, cost) => sum + cost, 0n),
      `${where}: paid price × elapsed once per finished job`,
    );
  }
  await waitFor(
    async () => {
      const records = await scene.jobs.ctx.core.listNamespacedConfigMap({ namespace: ns.name, labelSelector: RUN_RECORD_LABEL });
      if (records.items.length === 0) return true;
      throw new Error(`run records left: ${records.items.map((record: V1ConfigMap) => record.metadata?.name).join(', ')}`);
    },
    { what: 'every run record to be settled and released', timeoutMs: 60_000, intervalMs: 500 },
  );
  assert.equal(await totalNos(localnet.connection()), before.get('total'), 'NOS is conserved on the whole ledger');
  return outcomes;
}

export function describeOutcomes(outcomes: Map<string, number>): string {
  return [...outcomes].map(([outcome, count]) => `${count} ${outcome}`).join(', ');
}
