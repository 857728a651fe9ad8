// How fast, and at what RPC cost, the NosanaJob controller notices what happens on chain: by
// polling every job at the production interval, or by the RPC's websocket subscription.
//
// Both modes run in one process against the same control plane and the same localnet (at its
// defaults: 400 ms slots, mainnet-like confirmation), one after the other, each with a controller,
// a namespace, a market and a wallet of its own, so the only difference is --chain-subscribe.
// N NosanaJobs are applied at once; the benchmark plays N nodes through the production chain
// client (a node runs one job at a time), claiming and then finishing the jobs spread evenly over
// two poll intervals, so the claims and finishes fall on every phase of the poll cycle rather
// than on one. Each latency runs from the moment the chain action was confirmed (or the create
// returned) to the moment this process's watch saw the NosanaJob's phase change.
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { PublicKey } from '@solana/web3.js';
import pino from 'pino';
import type { NosanaJobPhase } from '../src/api/crds/nosana-job.ts';
import { LocalCluster } from '../src/local-cluster/cluster.ts';
import { controlPlaneBinaries } from '../src/local-cluster/binaries.ts';
import { waitFor } from '../src/local-cluster/wait.ts';
import { DEFAULT_FINALIZE_AFTER_SLOTS } from '../src/localnet/chain/chain.ts';
import { startLocalnet, type Localnet } from '../src/localnet/localnet.ts';
import { SupervisedInformer } from '../src/runtime/informer.ts';
import { controllerIdentity, startController, type ControllerIdentity } from '../test/harness/controller-process.ts';
import type { ClusterContext } from '../test/harness/fixture.ts';
import { localnetDir } from '../test/harness/localnet-faults.ts';
import { installNosanaApis } from '../test/harness/nosana-apis.ts';
import {
  describeJob,
  NOSANA_API_VERSION,
  NosanaNamespace,
  simpleDefinition,
  type NosanaJobResource,
} from '../test/harness/nosana-fixtures.ts';
import { TestNode } from '../test/harness/nosana-ledger.ts';
import { growth, sumByLabel, sumSamples, type MetricSample } from '../test/harness/prometheus-text.ts';
import { summarize, type Summary } from './stats.ts';

export const MODES = ['polling', 'subscription'] as const;
export type Mode = (typeof MODES)[number];

/** The production default: the point is how the shipped settings behave. */
const POLL_INTERVAL = '5s';
const POLL_INTERVAL_MS = 5_000;
/** Claims and finishes are spread over two poll intervals, whatever N, so every poll phase is sampled. */
const SPREAD_MS = 2 * POLL_INTERVAL_MS;
const OP_ID = 'main';
const JOB_TIMEOUT_SECONDS = 600;
/** How long each step may take beyond the spread before the run is abandoned. */
const STEP_TIMEOUT_MS = 180_000;

export interface ChainFollowOptions {
  jobs: number;
  /** How long the jobs run between the claims and the finishes: what polling a running job costs. */
  holdMs: number;
  modes: readonly Mode[];
  /** One line per step, as things start and finish (the control plane alone takes 10-40 s). */
  progress: (line: string) => void;
}

export interface ModeResult {
  mode: Mode;
  /** apply → Queued: the create returned → the watch saw phase Queued. */
  applyToQueuedMs: Summary;
  /** claim landed → Running: the node's `work` confirmed on chain → phase Running. */
  claimToRunningMs: Summary;
  /** finish landed → Succeeded: the node's `finish` confirmed on chain → phase Succeeded. */
  finishToSucceededMs: Summary;
  /**
   * The same two figures counted from when `work` and `finish` returned in the benchmark instead:
   * the client learns of its own confirmation by polling, up to a poll (400 ms) late, so these
   * understate, and may turn negative where the controller hears of the change first.
   */
  claimReturnedToRunningMs: Summary;
  finishReturnedToSucceededMs: Summary;
  /** Solana JSON-RPC HTTP requests of the controller from the first apply to the last Succeeded, per job. */
  rpcRequestsPerJob: number;
  rpcRequestsPerJobByMethod: Record<string, number>;
  /** Websocket notifications the controller received, per job (0 when polling). */
  notificationsPerJob: number;
  /** From the first apply to the last Succeeded. */
  wallSeconds: number;
}

export interface ChainFollowResult {
  settings: {
    jobs: number;
    pollInterval: string;
    spreadMs: number;
    holdMs: number;
    localnet: { slotMs: number; blockhashLifetime: number; finalizeAfterSlots: number };
  };
  modes: ModeResult[];
}

interface Environment {
  ctx: ClusterContext;
  localnet: Localnet;
  identity: ControllerIdentity;
  progress: (line: string) => void;
}

export async function runChainFollow(options: ChainFollowOptions): Promise<ChainFollowResult> {
  const { progress } = options;
  // undone in reverse order whatever happens, so a failed run leaves no process or directory behind
  const cleanups: { what: string; run: () => Promise<unknown> }[] = [];
  try {
    progress('starting the control plane (etcd, kube-apiserver, scheduler, controller-manager, KWOK)…');
    let started = Date.now();
    const cluster = await LocalCluster.start();
    cleanups.push({ what: 'the control plane', run: () => cluster.stop() });
    progress(`control plane ${cluster.handle.version} up in ${seconds(started)}`);
    const ctx = await clusterContext(cluster);

    started = Date.now();
    const stateDir = await mkdtemp(join(tmpdir(), 'nosana-bench-localnet-'));
    // also on Ctrl-C, where run.ts exits without these cleanups (the cluster's watchdog removes its own)
    const removeState = (): void => rmSync(stateDir, { recursive: true, force: true });
    process.once('exit', removeState);
    cleanups.push({
      what: 'the localnet state',
      run: async () => {
        process.removeListener('exit', removeState);
        await rm(stateDir, { recursive: true, force: true });
      },
    });
    const localnet = await startLocalnet({ stateDir });
    cleanups.push({ what: 'the localnet', run: () => localnet.close() });
    progress(`localnet at ${localnet.info.rpcUrl} (${localnet.chain.clock.slotMs} ms slots) up in ${seconds(started)}`);

    await installNosanaApis(ctx);
    const identity = await controllerIdentity(ctx, await ctx.freshNamespace('bench'));
    cleanups.push({ what: 'the controller identity', run: () => identity.remove() });
    progress('nosana.io APIs installed');

    const env: Environment = { ctx, localnet, identity, progress };
    const modes: ModeResult[] = [];
    for (const mode of options.modes) modes.push(await runMode(env, mode, options.jobs, options.holdMs));
    return {
      settings: {
        jobs: options.jobs,
        pollInterval: POLL_INTERVAL,
        spreadMs: SPREAD_MS,
        holdMs: options.holdMs,
        localnet: {
          slotMs: localnet.chain.clock.slotMs,
          blockhashLifetime: localnet.chain.chain.blockhashLifetime,
          // not exposed by the running chain; the benchmark never overrides it
          finalizeAfterSlots: DEFAULT_FINALIZE_AFTER_SLOTS,
        },
      },
      modes,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup.run().catch((error: unknown) => progress(`stopping ${cleanup.what} failed: ${(error as Error).message}`));
    }
  }
}

async function runMode(env: Environment, mode: Mode, jobs: number, holdMs: number): Promise<ModeResult> {
  const { ctx, localnet, progress } = env;
  const ns = new NosanaNamespace(ctx, localnet, await ctx.freshNamespace(`bench-${mode}`));
  progress(`[${mode}] starting the controller (--poll-interval ${POLL_INTERVAL} --chain-subscribe=${mode === 'subscription'})`);
  const controller = await startController({
    name: `controller-${mode}`,
    kubeconfigPath: env.identity.kubeconfigPath,
    localnetDir: localnetDir(localnet),
    namespaces: [ns.name],
    pollInterval: POLL_INTERVAL,
    // debug logging costs the controller CPU on a small machine and would skew the figures
    logLevel: 'info',
    extraArgs: [`--chain-subscribe=${mode === 'subscription'}`],
  });
  const timeline = new JobTimeline(ctx.kubeConfig, ns.name);
  try {
    await controller.waitReady();
    // a wallet of its own per mode; 10 SOL covers the rent of a few hundred job accounts
    const stage = await ns.stage('bench', { settings: { timeout: BigInt(JOB_TIMEOUT_SECONDS) }, funding: { sol: 10n, nos: 10_000_000n } });
    const nodes = await Promise.all(Array.from({ length: jobs }, () => TestNode.join(localnet)));
    await timeline.start();
    progress(`[${mode}] controller ready; market, wallet and ${jobs} staked nodes in place`);

    const before = await controller.scrape();
    const started = Date.now();
    const names = Array.from({ length: jobs }, (_, index) => `job-${String(index).padStart(3, '0')}`);
    await Promise.all(
      names.map(async (name) => {
        await ns.createJob(name, {
          market: stage.marketName,
          timeout: JOB_TIMEOUT_SECONDS,
          walletSecretRef: stage.walletSecretRef,
          definition: simpleDefinition(OP_ID, 'echo ok'),
        });
        timeline.mark(name, 'applied');
      }),
    );
    await timeline.waitAll(names, 'Queued', STEP_TIMEOUT_MS);
    progress(`[${mode}] ${jobs} jobs Queued after ${seconds(started)}; claiming them over ${SPREAD_MS / 1_000} s`);

    const claims = await spread(nodes, async (node) => {
      await node.work(stage.market);
      const returned = Date.now();
      const job = await node.currentJob();
      if (job === undefined) throw new Error(`node ${node.address.toBase58()} has no job after its work landed`);
      const name = timeline.nameOf(job);
      timeline.mark(name, 'claimLanded', confirmedAt(localnet, node.address));
      timeline.mark(name, 'claimReturned', returned);
      return { node, job, name };
    });
    await timeline.waitAll(names, 'Running', SPREAD_MS + STEP_TIMEOUT_MS);
    progress(`[${mode}] all Running after ${seconds(started)}; they run ${holdMs / 1_000} s, then finish over ${SPREAD_MS / 1_000} s`);
    await new Promise((resolve) => setTimeout(resolve, holdMs));

    await spread(claims, async ({ node, job, name }) => {
      await node.finish(job, [{ id: OP_ID, exitCode: 0, logs: ['ok'] }]);
      timeline.mark(name, 'finishReturned');
      timeline.mark(name, 'finishLanded', confirmedAt(localnet, node.address));
    });
    await timeline.waitAll(names, 'Succeeded', SPREAD_MS + STEP_TIMEOUT_MS);
    const wallSeconds = (Date.now() - started) / 1_000;
    const after = await controller.scrape();
    progress(`[${mode}] all Succeeded after ${wallSeconds.toFixed(1)} s; releasing the jobs`);

    const left = await ns.releaseJobs(60_000);
    if (left.length > 0) progress(`[${mode}] ${left.length} jobs were still held after 60 s and lost their finalizers`);
    return {
      mode,
      applyToQueuedMs: summarize(timeline.intervals(names, 'applied', 'Queued')),
      claimToRunningMs: summarize(timeline.intervals(names, 'claimLanded', 'Running')),
      finishToSucceededMs: summarize(timeline.intervals(names, 'finishLanded', 'Succeeded')),
      claimReturnedToRunningMs: summarize(timeline.intervals(names, 'claimReturned', 'Running')),
      finishReturnedToSucceededMs: summarize(timeline.intervals(names, 'finishReturned', 'Succeeded')),
      ...rpcPerJob(before, after, jobs),
      wallSeconds,
    };
  } catch (error) {
    const message = (error as Error).message;
    // an error about the controller's exit carries its logs already
    const logs = message.includes(controller.stderrPath) ? '' : `\n${controller.diagnostics()}`;
    throw new Error(`[${mode}] ${message}${logs}`, { cause: error });
  } finally {
    await timeline.stop();
    await controller.stop();
  }
}

function rpcPerJob(
  before: readonly MetricSample[],
  after: readonly MetricSample[],
  jobs: number,
): Pick<ModeResult, 'rpcRequestsPerJob' | 'rpcRequestsPerJobByMethod' | 'notificationsPerJob'> {
  const byMethod = growth(
    sumByLabel(before, 'nosana_rpc_requests_total', 'method'),
    sumByLabel(after, 'nosana_rpc_requests_total', 'method'),
  );
  const perJob = Object.fromEntries(
    Object.entries(byMethod)
      .sort(([, a], [, b]) => b - a)
      .map(([method, count]) => [method, count / jobs]),
  );
  const notifications = sumSamples(after, 'nosana_chain_notifications_total') - sumSamples(before, 'nosana_chain_notifications_total');
  return {
    rpcRequestsPerJob: Object.values(byMethod).reduce((sum, count) => sum + count, 0) / jobs,
    rpcRequestsPerJobByMethod: perJob,
    notificationsPerJob: notifications / jobs,
  };
}

/** Runs `action` on each item, the i-th starting i × SPREAD_MS / n after the first. */
async function spread<T, R>(items: readonly T[], action: (item: T) => Promise<R>): Promise<R[]> {
  const step = SPREAD_MS / items.length;
  return Promise.all(
    items.map(async (item, index) => {
      await new Promise((resolve) => setTimeout(resolve, index * step));
      return action(item);
    }),
  );
}

/**
 * When the newest transaction `payer` paid for was confirmed, in Date.now() milliseconds. Each
 * benchmark node sends one transaction at a time, so after `work` or `finish` returns, its newest
 * is that one. Read from the localnet in this process, as no client can learn it sooner.
 */
function confirmedAt(localnet: Localnet, payer: PublicKey): number {
  const [record] = localnet.chain.chain.signatures.forAddress(payer.toBase58());
  if (record === undefined || record.accountKeys[0] !== payer.toBase58()) {
    throw new Error(`no transaction paid by ${payer.toBase58()} on the localnet`);
  }
  const { clock } = localnet.chain;
  // confirmed once the next slot begins; slots are counted from genesis on the chain's clock
  return clock.genesisMs + (record.slot + 1) * clock.slotMs - clock.offsetMs;
}

type Milestone = 'applied' | 'claimLanded' | 'claimReturned' | 'finishLanded' | 'finishReturned' | NosanaJobPhase;

/**
 * When each NosanaJob of a namespace passed each milestone, in Date.now() milliseconds (the
 * localnet's chain clock is Date.now too, so confirmation times compare directly): phases are
 * the first time the watch showed them, so no poll of ours adds a delay to what is measured.
 */
class JobTimeline {
  readonly #informer: SupervisedInformer<NosanaJobResource>;
  readonly #times = new Map<string, Map<Milestone, number>>();
  readonly #latest = new Map<string, NosanaJobResource>();
  readonly #byAddress = new Map<string, string>();

  constructor(kubeConfig: k8s.KubeConfig, namespace: string) {
    const path = `/apis/${NOSANA_API_VERSION}/namespaces/${namespace}/nosanajobs`;
    this.#informer = new SupervisedInformer<NosanaJobResource>(kubeConfig, path, pino({ level: 'silent' }));
    this.#informer.on(({ type, object }) => {
      if (type === 'deleted') return;
      const name = object.metadata?.name ?? '';
      this.#latest.set(name, object);
      const { phase, jobAddress } = object.status ?? {};
      if (phase !== undefined) this.mark(name, phase);
      if (jobAddress !== undefined) this.#byAddress.set(jobAddress, name);
    });
  }

  start(): Promise<void> {
    return this.#informer.start();
  }

  stop(): Promise<void> {
    return this.#informer.stop();
  }

  /** Records the first time only: a phase seen again after a relist is not a new transition. */
  mark(name: string, milestone: Milestone, at = Date.now()): void {
    const times = this.#times.get(name) ?? new Map<Milestone, number>();
    if (!times.has(milestone)) times.set(milestone, at);
    this.#times.set(name, times);
  }

  nameOf(job: PublicKey): string {
    const name = this.#byAddress.get(job.toBase58());
    if (name === undefined) throw new Error(`no NosanaJob of this run follows job ${job.toBase58()}`);
    return name;
  }

  /** Milliseconds from `from` to `to` for each job that has both. */
  intervals(names: readonly string[], from: Milestone, to: Milestone): number[] {
    return names.flatMap((name) => {
      const times = this.#times.get(name);
      const start = times?.get(from);
      const end = times?.get(to);
      return start === undefined || end === undefined ? [] : [end - start];
    });
  }

  /** Waits until every job has reached `phase`; a job that failed or stopped ends the run at once. */
  async waitAll(names: readonly string[], phase: NosanaJobPhase, timeoutMs: number): Promise<void> {
    const waiting = (): string[] => names.filter((name) => !this.#times.get(name)?.has(phase));
    const describe = (name: string): string => `NosanaJob ${name}: ${describeJob(this.#latest.get(name))}`;
    let outcome: { failed: string } | 'done';
    try {
      outcome = await waitFor(
        () => {
          const failed = names.find((name) => ['Failed', 'Stopped'].includes(this.#latest.get(name)?.status?.phase ?? ''));
          if (failed !== undefined) return { failed };
          return waiting().length === 0 ? 'done' : undefined;
        },
        { what: `every NosanaJob to reach ${phase}`, timeoutMs, intervalMs: 50 },
      );
    } catch (error) {
      const stuck = waiting();
      const examples = stuck.slice(0, 5).map(describe).join('\n  ');
      throw new Error(`${(error as Error).message}; ${stuck.length} are not there, e.g.\n  ${examples}`, { cause: error });
    }
    if (outcome !== 'done') throw new Error(`while waiting for ${phase}: ${describe(outcome.failed)}`);
  }
}

/** What the test harness's helpers need of a cluster, for the one this process started. */
async function clusterContext(cluster: LocalCluster): Promise<ClusterContext> {
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(cluster.handle.kubeconfigPath);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  return {
    handle: cluster.handle,
    kubeConfig,
    binaries: await controlPlaneBinaries(),
    core,
    objects: k8s.KubernetesObjectApi.makeApiClient(kubeConfig),
    async freshNamespace(prefix = 'bench') {
      const name = `${prefix}-${randomBytes(4).toString('hex')}`;
      await core.createNamespace({ body: { metadata: { name } } });
      return name;
    },
  };
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1_000).toFixed(1)} s`;
}
