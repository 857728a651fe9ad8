// Kubernetes faults under load, shared by `npm test` (one round per fault) and `npm run
// test:chaos` (NOSANA_CHAOS_RUNS rounds). While the controller is posting a batch of NosanaJobs,
// kube-apiserver or etcd is SIGKILLed, stays down long enough for watches to break and writes to
// fail, and comes back on the same port with the same data. Then: every job of the batch, and one
// created after the restart (it is only seen through a watch that reconnected or a relist), must
// reach Queued within a liveness deadline; each NosanaJob must map to exactly one on-chain job;
// NOS must be conserved. A third test runs the same round against two replicas in leader election
// and SIGKILLs the leader while the API server is down (controller-ha.test.ts covers the handover
// with a healthy API server). The control plane is the file's own, so the kills never reach the
// suite's shared cluster.
import assert from 'node:assert/strict';
import { before, describe, test, type TestContext } from 'node:test';
import type { Keypair, PublicKey } from '@solana/web3.js';
import { JOB_ADDRESS_ANNOTATION } from '../../src/api/annotations.ts';
import { jobDeposit } from '../../src/chain/money.ts';
import type { ComponentName, LocalCluster } from '../../src/local-cluster/cluster.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';
import type { LeaderElectionOptions } from '../harness/controller-process.ts';
import { usePrivateCluster } from '../harness/fixture.ts';
import {
  NOSANA_API_VERSION,
  simpleDefinition,
  WALLET_KEY,
  type NosanaJobResource,
  type NosanaNamespace,
} from '../harness/nosana-fixtures.ts';
import { jobAccountsOf, readLedger, vaultNos, type LedgerReading } from '../harness/nosana-ledger.ts';
import { useNosanaScene, type NosanaScene } from '../harness/nosana-scene.ts';
import { logsAtLeast, type OperatorProcess } from '../harness/operator-process.ts';
import { sumSamples } from '../harness/prometheus-text.ts';
import { totalNos } from '../localnet/support.ts';

const PRICE = 10n;
const TIMEOUT = 600n;
const DEPOSIT = jobDeposit(PRICE, TIMEOUT);
/** The components whose crash a controller must ride out. */
const KILLED_COMPONENTS = ['kube-apiserver', 'etcd'] as const satisfies readonly ComponentName[];
// Long enough for the controller's watches to end and its reconnects and writes to be refused,
// and longer than the leader's renew deadline below, so leadership really lapses in the HA test.
const DOWN_MS = 5_000;
// A correctness bound, not a speed goal: a controller that reconnects at all does so in seconds;
// one that never notices the API server came back would sit forever.
const LIVENESS_MS = 90_000;
const ELECTION = { id: 'nosana-kube-faults', leaseDuration: '4s', renewDeadline: '3s', retryPeriod: '1s' } as const;

/** A NosanaJob being posted in a round, paid by a wallet of its own so its on-chain jobs can be counted exactly. */
interface TrackedJob {
  name: string;
  wallet: Keypair;
  before: LedgerReading;
}

interface Round {
  scene: NosanaScene;
  cluster: LocalCluster;
  market: { name: string; address: PublicKey };
  component: (typeof KILLED_COMPONENTS)[number];
  prefix: string;
  jobs: number;
  /** Runs once the component is down (the HA test SIGKILLs the leader there). */
  whileDown?: () => Promise<void>;
}

/** A funded wallet Secret for the job `name` (funding mints NOS, so it happens before the total is read). */
async function fundJob(ns: NosanaNamespace, name: string, market: PublicKey): Promise<TrackedJob> {
  const wallet = await ns.wallet(`${name}-wallet`);
  return { name, wallet, before: await readLedger(ns.localnet, { poster: wallet.publicKey, market }) };
}

async function submitJob(ns: NosanaNamespace, job: TrackedJob, marketName: string): Promise<void> {
  await ns.createJob(job.name, {
    market: marketName,
    walletSecretRef: { name: `${job.name}-wallet`, key: WALLET_KEY },
    definition: simpleDefinition(),
  });
}

/** Where the batch's posts stand: recorded before broadcast (the annotation), confirmed (phase Queued). */
async function postProgress(ns: NosanaNamespace, jobs: readonly TrackedJob[]): Promise<{ recorded: number; queued: number }> {
  const names = new Set(jobs.map((job) => job.name));
  const listed = await ns.ctx.objects.list<NosanaJobResource>(NOSANA_API_VERSION, 'NosanaJob', ns.name);
  const batch = listed.items.filter((job) => names.has(job.metadata?.name ?? ''));
  return {
    recorded: batch.filter((job) => job.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION] !== undefined).length,
    queued: batch.filter((job) => job.status?.phase === 'Queued').length,
  };
}

/**
 * One round: a batch is created, the component is SIGKILLed once the controller has started
 * posting it, restarted after DOWN_MS, and a further job is created; then the outcome is checked.
 * Returns a line of timings for the test's diagnostics.
 */
async function faultRound(round: Round): Promise<string> {
  const { scene, cluster, market, component, prefix } = round;
  const { ns, localnet } = scene;
  const batch: TrackedJob[] = [];
  for (let index = 0; index < round.jobs; index += 1) batch.push(await fundJob(ns, `${prefix}-j${index}`, market.address));
  const late = await fundJob(ns, `${prefix}-late`, market.address);
  const [vaultBefore, totalBefore] = await Promise.all([vaultNos(localnet, market.address), totalNos(localnet.connection())]);

  // all at once, so several posts are in flight when the component dies
  await Promise.all(batch.map((job) => submitJob(ns, job, market.name)));
  // kill while the controller is posting: once the first post is recorded, the rest are in flight or waiting
  const atKill = await waitFor(
    async () => {
      const progress = await postProgress(ns, batch);
      return progress.recorded > 0 ? progress : undefined;
    },
    { what: `a first post of ${prefix} to be recorded`, timeoutMs: 60_000, intervalMs: 20 },
  );
  const killedAt = Date.now();
  await cluster.kill(component);
  await round.whileDown?.();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, killedAt + DOWN_MS - Date.now())));
  await cluster.restart(component);
  // after an etcd restart the API server serves once its own etcd client has reconnected
  await waitFor(() => ns.ctx.core.readNamespace({ name: ns.name }), { what: 'the API server to answer again', timeoutMs: 60_000 });
  const servingAt = Date.now();

  await submitJob(ns, late, market.name);
  const jobs = [...batch, late];
  for (const job of jobs) {
    const left = servingAt + LIVENESS_MS - Date.now();
    await ns.waitForPhase(job.name, 'Queued', undefined, Math.max(left, 1_000)).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${controllerDiagnostics(scene)}`);
    });
  }
  const recoveredAt = Date.now();

  for (const job of jobs) {
    const resource = await ns.job(job.name);
    const onChain = await jobAccountsOf(localnet, job.wallet.publicKey, market.address);
    assert.deepEqual(
      onChain.map((entry) => entry.address),
      [resource?.status?.jobAddress],
      `exactly one on-chain job for NosanaJob ${job.name}, and status.jobAddress names it`,
    );
    assert.equal(
      resource?.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION],
      onChain[0]!.address,
      `the annotation of ${job.name} names that job`,
    );
    const after = await readLedger(localnet, { poster: job.wallet.publicKey, market: market.address });
    assert.equal(after.poster, job.before.poster - DEPOSIT, `${job.name}'s wallet paid one deposit`);
  }
  const [vaultAfter, totalAfter] = await Promise.all([vaultNos(localnet, market.address), totalNos(localnet.connection())]);
  assert.equal(vaultAfter, vaultBefore + BigInt(jobs.length) * DEPOSIT, 'the vault holds one deposit per NosanaJob');
  assert.equal(totalAfter, totalBefore, 'NOS is conserved');

  const seconds = (ms: number): string => (ms / 1000).toFixed(1);
  return (
    `at the kill ${atKill.recorded}/${batch.length} posts recorded, ${atKill.queued} confirmed; down ${seconds(servingAt - killedAt)} s ` +
    `(restart ${component} to serving); all ${jobs.length} Queued ${seconds(recoveredAt - servingAt)} s after`
  );
}

function controllerDiagnostics(scene: NosanaScene): string {
  try {
    return scene.controller.diagnostics(40);
  } catch {
    return '(no controller)';
  }
}

function warningsSince(controller: OperatorProcess, line: number): number {
  return controller
    .logs()
    .slice(line)
    .filter((entry) => logsAtLeast(entry, 'warn')).length;
}

async function isLeader(controller: OperatorProcess): Promise<boolean> {
  return sumSamples(await controller.scrape(), 'leader_election_master_status') === 1;
}

export interface KubeFaultsOptions {
  /** Kill-and-restart rounds per component. */
  rounds: number;
  /** NosanaJobs being posted when the component is killed (one more is created after the restart). */
  jobsPerRound: number;
  /** Also run the two-replica test (leader SIGKILLed while the API server is down). */
  leaderHandover: boolean;
}

/** Registers the tests of the Kubernetes-faults scenario. Call at the top of a test file. */
export function kubeFaultsScenario(options: KubeFaultsOptions): void {
  const { rounds, jobsPerRound } = options;
  describe(`Kubernetes faults while posting (${rounds} round${rounds === 1 ? '' : 's'} of ${jobsPerRound}+1 jobs, private control plane)`, () => {
    let cluster: LocalCluster | undefined;
    // registered before the scene's hooks, so the scene finds this cluster rather than the suite's
    before(async () => {
      cluster = (await usePrivateCluster()).cluster;
    });
    const scene = useNosanaScene({ prefix: 'nj-kube-faults', startController: false });
    const privateCluster = (): LocalCluster => {
      if (cluster === undefined) throw new Error('the private cluster is not up');
      return cluster;
    };

    for (const component of KILLED_COMPONENTS) {
      test(`${component} SIGKILLed and restarted mid-post: progress resumes, one on-chain job per NosanaJob, NOS conserved`, async (t: TestContext) => {
        const current = scene();
        const controller = await current.startController({ name: `controller-${component}` });
        try {
          await controller.waitReady();
          const marketName = `faults-${component}`;
          const address = await current.ns.market(marketName, { settings: { price: PRICE, timeout: TIMEOUT } });
          for (let round = 1; round <= rounds; round += 1) {
            const logLine = controller.logs().length;
            const summary = await faultRound({
              scene: current,
              cluster: privateCluster(),
              market: { name: marketName, address },
              component,
              prefix: `${component}-r${round}`,
              jobs: jobsPerRound,
            });
            assert.ok(controller.running, `the controller rode out the restart of ${component}\n${controller.diagnostics()}`);
            const warnings = warningsSince(controller, logLine);
            // requests to a dead API server fail at once; with etcd dead they only wait, so may log nothing
            if (component === 'kube-apiserver') assert.ok(warnings > 0, 'the controller felt the outage (it logged warnings)');
            t.diagnostic(`round ${round}/${rounds}: ${summary}; ${warnings} warnings logged`);
          }
        } finally {
          await current.stopControllers();
        }
      });
    }

    if (options.leaderHandover) {
      test('two replicas under load: the leader is SIGKILLed while kube-apiserver is down; the other takes over and nothing is posted twice', async (t) => {
        const current = scene();
        const election: LeaderElectionOptions = { namespace: current.ns.name, ...ELECTION };
        const replicas = [
          await current.startController({ name: 'replica-a', leaderElection: election }),
          await current.startController({ name: 'replica-b', leaderElection: election }),
        ];
        try {
          await Promise.all(replicas.map((replica) => replica.waitReady()));
          const marketName = 'faults-handover';
          const address = await current.ns.market(marketName, { settings: { price: PRICE, timeout: TIMEOUT } });
          for (let round = 1; round <= rounds; round += 1) {
            let killed: OperatorProcess | undefined;
            const summary = await faultRound({
              scene: current,
              cluster: privateCluster(),
              market: { name: marketName, address },
              component: 'kube-apiserver',
              prefix: `ha-r${round}`,
              jobs: jobsPerRound,
              // the leader dies before its renew deadline: mid-term, with posts in flight, not by giving up the Lease
              whileDown: async () => {
                const leading = await Promise.all(replicas.map((replica) => isLeader(replica).catch(() => false)));
                killed = replicas[leading.indexOf(true)];
                assert.ok(killed !== undefined, 'one replica was leading when the API server went down');
                await killed.sigkill();
              },
            });
            const survivors = replicas.filter((replica) => replica !== killed);
            assert.deepEqual(
              await Promise.all(survivors.map(isLeader)),
              [true],
              'the other replica took the Lease over (and, above, posted what the killed leader left, once)',
            );
            // a Deployment would start the killed replica again; it joins as the follower for the next round
            const index = replicas.indexOf(killed!);
            replicas[index] = await current.startController({ name: `replica-${round}`, leaderElection: election });
            await replicas[index].waitReady();
            t.diagnostic(`round ${round}/${rounds}: ${summary}; ${killed!.name} SIGKILLed while leading`);
          }
        } finally {
          await current.stopControllers();
        }
      });
    }
  });
}
