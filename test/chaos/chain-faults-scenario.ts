// The whole loop on a bad network day, shared by `npm run test:chaos` (NOSANA_CHAOS_JOBS jobs) and,
// later, a reduced run in `npm test`. The controller process posts a batch of NosanaJobs and two
// NosanaNodes served by the node agent process claim, run and finish them, while the localnet
// misbehaves on both wires: the RPC drops a fifth of the transactions, lands the rest late,
// answers 429 and 503, holds some answers past the client's 30 s timeout, serves reads from a
// backend that lags behind the last write and drops websocket connections; the IPFS gateway fails,
// answers slowly and serves corrupted bytes, and pins fail. Then, with the faults off: every
// NosanaJob reached a terminal phase, each paid for exactly one on-chain job, no run was finished
// twice (no transaction about a job failed, no run record is left, each node counted and was paid
// for each of its jobs once), NOS is conserved to the base unit, corrupted bytes were served and
// refused, and what the NosanaJobs show is what is really pinned.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
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
import type { ChainFaults } from '../../src/localnet/chain/faults.ts';
import type { GatewayFaults } from '../../src/localnet/ipfs/index.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';
import {
  conditionOf,
  describeJob,
  NOSANA_API_VERSION,
  WALLET_KEY,
  type NosanaJobResource,
  type NosanaJobSpecInput,
} from '../harness/nosana-fixtures.ts';
import { jobAccountsOf, nosOf } from '../harness/nosana-ledger.ts';
import { describeNode, useNodeScene, type NodeScene } from '../harness/node-scene.ts';
import type { OperatorProcess } from '../harness/operator-process.ts';
import { totalNos } from '../localnet/support.ts';

const PRICE = 10n;
const TIMEOUT = 600n;
const MARKET = 'chain-faults';
const NODES = ['cf-node-a', 'cf-node-b'] as const;

/** The RPC's bad day: every knob of src/localnet/chain/faults.ts that a client must ride out. */
export const CHAIN_FAULTS = {
  dropRate: 0.2,
  landingDelaySlots: 3,
  rateLimitRate: 0.05,
  serverErrorRate: 0.05,
  // past the RPC transport's 30 s per-attempt timeout: the client gives up on a request that took effect
  hangRate: 0.005,
  hangMs: 31_000,
  // 2 s behind at 100 ms slots: a read after a write often does not see it
  lagSlots: 20,
  lagRate: 0.3,
  wsDropRate: 0.1,
} as const satisfies Partial<ChainFaults>;

/** The IPFS service's bad day. Corruption is frequent enough that a small batch meets it for sure. */
export const IPFS_FAULTS = {
  gatewayErrorRate: 0.1,
  gatewayDelayMs: 100,
  corruptRate: 0.3,
  pinErrorRate: 0.1,
} as const satisfies Partial<GatewayFaults>;

/** What ContentIntegrityError (src/ipfs/errors.ts) says when a gateway's bytes do not hash to the CID asked for. */
const CORRUPTION_REFUSED = 'served corrupt content for';

/** Jobs in the batch: NOSANA_CHAOS_JOBS, else `fallback`. */
export function chaosJobs(fallback: number): number {
  const text = process.env['NOSANA_CHAOS_JOBS'];
  if (text === undefined || text === '') return fallback;
  const jobs = Number(text);
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`NOSANA_CHAOS_JOBS must be a positive integer, got "${text}"`);
  return jobs;
}

/** Job `index` of the batch: its name, the line its container prints, its definition. */
function batchJob(index: number): { name: string; line: string; definition: NonNullable<NosanaJobSpecInput['definition']> } {
  const token = `chain-faults-${index}`;
  return {
    name: `cf-${index}`,
    line: `job ${index} ran: ${token}`,
    definition: {
      version: '0.1',
      type: 'container',
      ops: [{ id: `op-${index}`, type: 'container/run', args: { image: 'ubuntu:24.04', cmd: `echo ${token}`, gpu: true } }],
    },
  };
}

/** One rule per job, so each container prints a line of its own and a result mixed up or altered shows. */
function batchRules(count: number): SimulationRule[] {
  return Array.from({ length: count }, (_, index) => {
    const job = batchJob(index);
    return {
      name: job.name,
      match: { image: 'ubuntu:24.04', commandLine: new RegExp(`(?:^| )echo chain-faults-${index}$`) },
      then: { exitCode: 0, runFor: '1s', logs: [{ stream: 'stdout' as const, text: job.line }] },
    };
  });
}

/** Terminal in the phase table (src/api/health.ts): nothing more happens to it, and its Ready reason says why. */
function isTerminal(job: NosanaJobResource): boolean {
  const reason = conditionOf(job, 'Ready')?.reason;
  return HEALTH_TABLE.some((row) => row.kind === 'NosanaJob' && row.phase === job.status?.phase && row.reason === reason && row.terminal);
}

function outcomeOf(job: NosanaJobResource): string {
  return `${job.status?.phase ?? '-'}/${conditionOf(job, 'Ready')?.reason ?? '-'}`;
}

/** Log lines of `processes` that say a gateway's corrupted bytes were refused. */
function corruptionRefusals(processes: readonly OperatorProcess[]): number {
  let count = 0;
  for (const component of processes) {
    for (const line of component.logs()) if (JSON.stringify(line).includes(CORRUPTION_REFUSED)) count += 1;
  }
  return count;
}

interface BatchMember {
  index: number;
  name: string;
  line: string;
  definition: NonNullable<NosanaJobSpecInput['definition']>;
  wallet: Keypair;
}

async function listNodes(scene: NodeScene): Promise<NosanaNodeObject[]> {
  return Promise.all(
    NODES.map(async (name) => {
      const node = await scene.node(name);
      assert.ok(node !== undefined, `NosanaNode ${name} exists`);
      return node;
    }),
  );
}

/** Checks the loop after the storm; returns a line for the test's diagnostics. */
async function checkOutcome(
  scene: NodeScene,
  batch: readonly BatchMember[],
  marketAddress: PublicKey,
  before: Map<string, bigint>,
): Promise<string> {
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
  for (const listed of await listNodes(scene)) {
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
  return [...outcomes].map(([outcome, count]) => `${count} ${outcome}`).join(', ');
}

/** Registers the test: `count` NosanaJobs through the loop on a faulty chain and IPFS. Call at the top of a test file. */
export function chainFaultsScenario(count: number): void {
  describe(`chain and IPFS faults: ${count} NosanaJob${count === 1 ? '' : 's'} through post, claim, run and finish`, () => {
    const scene = useNodeScene({ prefix: 'nn-chainfault', rules: batchRules(count) });

    test('every job reaches a terminal phase, posted once, finished once, corruption refused, NOS conserved', async (t) => {
      const current = scene();
      const { ns, localnet } = current.jobs;
      try {
        const marketAddress = await ns.market(MARKET, { settings: { price: PRICE, timeout: TIMEOUT } });
        for (const name of NODES) {
          await ns.wallet(`${name}-key`, { sol: 2n });
          await current.createNode(name, { market: MARKET, keySecret: `${name}-key` });
        }
        for (const name of NODES) await current.waitForNodePhase(name, 'Queued', undefined, 90_000);
        const batch: BatchMember[] = [];
        for (let index = 0; index < count; index += 1) {
          const job = batchJob(index);
          batch.push({ ...job, index, wallet: await ns.wallet(`${job.name}-wallet`) });
        }
        // read once every wallet is funded (funding mints NOS) and before the RPC misbehaves
        const before = new Map<string, bigint>([['total', await totalNos(localnet.connection())]]);
        for (const node of await listNodes(current)) {
          const address = node.status?.nodeAddress ?? '';
          before.set(address, await nosOf(localnet, new PublicKey(address)));
        }

        // a correctness bound, not a speed goal: a job stuck for good never gets there
        const deadlineMs = 300_000 + count * 30_000;
        const started = Date.now();
        const stormed = await current.jobs.faults.during({ chain: CHAIN_FAULTS, ipfs: IPFS_FAULTS }, async () => {
          for (const member of batch) {
            await ns.createJob(member.name, {
              market: MARKET,
              timeout: Number(TIMEOUT),
              retries: 0,
              walletSecretRef: { name: `${member.name}-wallet`, key: WALLET_KEY },
              definition: member.definition,
            });
          }
          return waitFor(
            async () => {
              const listed = await ns.ctx.objects.list<NosanaJobResource>(NOSANA_API_VERSION, 'NosanaJob', ns.name);
              const open = listed.items.filter((job) => !isTerminal(job));
              if (open.length === 0 && listed.items.length === batch.length) return listed.items;
              throw new Error(`not terminal yet: ${open.map((job) => `${job.metadata?.name} ${describeJob(job)}`).join('; ')}`);
            },
            { what: `all ${count} NosanaJobs to reach a terminal phase`, timeoutMs: deadlineMs, intervalMs: 1_000 },
          );
        });
        const stormSeconds = ((Date.now() - started) / 1000).toFixed(1);
        current.jobs.controller.assertRunning();
        current.agent.assertRunning();

        // settled: each node has no job in hand and has counted everything it finished
        for (const name of NODES) {
          await current.waitForNode(name, 'to have no job in hand', (node) => node.status?.currentJob === undefined, 120_000);
        }
        const refusals = corruptionRefusals([current.jobs.controller, current.agent]);
        assert.ok(refusals > 0, `corrupted gateway reads were served and refused (log lines saying "${CORRUPTION_REFUSED}": ${refusals})`);
        const outcomes = await checkOutcome(current, batch, marketAddress, before);
        assert.equal(stormed.length, count);
        t.diagnostic(`${count} jobs terminal after ${stormSeconds} s under faults: ${outcomes}; ${refusals} corrupted reads refused`);
      } catch (error) {
        t.diagnostic(current.jobs.controller.diagnostics(40));
        t.diagnostic(current.agent.diagnostics(40));
        throw error;
      }
    });
  });
}
