// Memory held per cached object, next to kube-controller-manager: N NosanaJobs in mixed phases
// held by our controller, then N batch/v1 Jobs held by kube-controller-manager, each side's
// resident memory read once its objects have settled. What a cluster with many jobs costs is
// the controller's Pod limit, so the figure is the resident set (what the kernel charges), with
// V8's heap beside it for ours.
//
// Ours: a tenth of the objects (at most 1,000) are posted and Queued on chain, spread over markets
// of at most 250; the others are held Pending, refused before anything is spent: half name a
// NosanaMarket that does not exist, half a wallet Secret that does not exist. Every object is in
// the controller's cache and work queue, as a large namespace of jobs in all states would be.
// Peer: the same share of Jobs get their Pod from the Job controller; the others are suspended,
// so kube-controller-manager holds them with no Pod.
import * as k8s from '@kubernetes/client-node';
import { waitFor } from '../src/local-cluster/wait.ts';
import { startController } from '../test/harness/controller-process.ts';
import type { OperatorProcess } from '../test/harness/operator-process.ts';
import { localnetDir } from '../test/harness/localnet-faults.ts';
import { NosanaNamespace, simpleDefinition, WALLET_KEY, type Stage } from '../test/harness/nosana-fixtures.ts';
import { sumSamples } from '../test/harness/prometheus-text.ts';
import { seconds, type BenchEnvironment } from './environment.ts';
import { JobTimeline } from './job-timeline.ts';
import { batchJob, CREATE_CONCURRENCY, forEachLimited, jobNames, JOBS_PER_MARKET } from './objects.ts';
import { PodTimeline } from './pod-timeline.ts';
import { componentPid, residentBytesOf, residentOf } from './processes.ts';
import { formatMebibytes, formatNumber, formatRatio, formatTable, ratio } from './stats.ts';

/** The production default, as in the other scenarios. */
const POLL_INTERVAL = '5s';
const POSTED_SHARE = 0.1;
const MAX_POSTED = 1_000;
const JOB_TIMEOUT_SECONDS = 600;
/**
 * Once every object is where it settles, memory is sampled this long: V8 and Go both collect
 * lazily, and a reading right after the burst of creates would measure garbage not yet collected.
 */
const SETTLE_MS = 30_000;
const SAMPLE_EVERY_MS = 2_500;

export interface MemoryOptions {
  objects: number;
}

export interface MemorySide {
  side: 'ours' | 'peer';
  what: string;
  /** Resident set before the first create, and the lowest and highest reading over the settle window once every object settled. */
  rssBytes: { before: number; settledMin: number; settledMax: number };
  /** (settled lowest − before) / objects. */
  bytesPerObject: number;
  /** Ours only: V8's heap in use before the creates and at the end of the settle window. */
  heapUsedBytes?: { before: number; settled: number };
  /** From the first create until every object had settled. */
  settleSeconds: number;
}

export interface MemoryResult {
  settings: { objects: number; posted: number; markets: number; settleSeconds: number; pollInterval: string; kubernetes: string };
  ours: MemorySide;
  peer: MemorySide;
}

export async function runMemory(env: BenchEnvironment, options: MemoryOptions): Promise<MemoryResult> {
  const posted = Math.min(MAX_POSTED, Math.max(1, Math.round(options.objects * POSTED_SHARE)));
  const markets = Math.ceil(posted / JOBS_PER_MARKET);
  const ours = await runOurs(env, options.objects, posted, markets);
  const peer = await runPeer(env, options.objects, posted);
  return {
    settings: {
      objects: options.objects,
      posted,
      markets,
      settleSeconds: SETTLE_MS / 1_000,
      pollInterval: POLL_INTERVAL,
      kubernetes: env.cluster.handle.version,
    },
    ours,
    peer,
  };
}

/** How long a side may take to settle every object before the run is abandoned. */
function settleTimeoutMs(objects: number): number {
  return 180_000 + objects * 200;
}

/** Reads `read` every few seconds for SETTLE_MS; the lowest and highest reading. */
async function settledRange(read: () => Promise<number>): Promise<{ min: number; max: number }> {
  const readings: number[] = [];
  const until = Date.now() + SETTLE_MS;
  while (Date.now() < until) {
    readings.push(await read());
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS));
  }
  readings.push(await read());
  return { min: Math.min(...readings), max: Math.max(...readings) };
}

export async function runOurs(env: BenchEnvironment, objects: number, posted: number, markets: number): Promise<MemorySide> {
  const { ctx, localnet, progress } = env;
  const ns = new NosanaNamespace(ctx, localnet, await ctx.freshNamespace('bench-memory'));
  progress(`[memory/ours] starting the controller (--poll-interval ${POLL_INTERVAL}, otherwise production defaults)`);
  const controller = await startController({
    name: 'controller-memory',
    kubeconfigPath: env.identity.kubeconfigPath,
    localnetDir: localnetDir(localnet),
    namespaces: [ns.name],
    pollInterval: POLL_INTERVAL,
    logLevel: 'info',
  });
  const timeline = new JobTimeline(ctx.kubeConfig, ns.name);
  try {
    await controller.waitReady();
    const stages: Stage[] = [];
    for (let index = 0; index < markets; index += 1) {
      stages.push(
        await ns.stage(`memory-${index}`, { settings: { timeout: BigInt(JOB_TIMEOUT_SECONDS) }, funding: { sol: 10n, nos: 10_000_000n } }),
      );
    }
    await timeline.start();
    await snapshotHeap(controller, 'before the first create', progress);
    const before = await controller.scrape();
    progress(`[memory/ours] creating ${objects} NosanaJobs: ${posted} to post over ${markets} market(s), ${objects - posted} refused`);
    const started = Date.now();
    const names = jobNames(objects);
    await forEachLimited(names, CREATE_CONCURRENCY, async (name, index) => {
      const stage = stages[index % markets]!;
      const refused = index >= posted;
      await ns.createJob(name, {
        market: refused && index % 2 === 0 ? 'no-such-market' : stage.marketName,
        timeout: JOB_TIMEOUT_SECONDS,
        walletSecretRef: refused && index % 2 === 1 ? { name: 'no-such-wallet', key: WALLET_KEY } : stage.walletSecretRef,
        definition: simpleDefinition('main', 'echo ok'),
      });
    });
    progress(`[memory/ours] ${objects} NosanaJobs created in ${seconds(started)}; waiting for each to settle`);
    await timeline.waitAll(names.slice(0, posted), 'Queued', settleTimeoutMs(objects));
    await timeline.waitAll(names.slice(posted), 'Pending', settleTimeoutMs(objects));
    const settleSeconds = (Date.now() - started) / 1_000;
    progress(`[memory/ours] every object settled after ${seconds(started)}; reading memory for ${SETTLE_MS / 1_000} s`);
    const range = await settledRange(async () => residentOf(await controller.scrape()));
    const after = await controller.scrape();
    await snapshotHeap(controller, `holding ${objects} objects`, progress);
    const rssBefore = residentOf(before);
    return {
      side: 'ours',
      what: `${posted} NosanaJobs Queued, ${objects - posted} Pending`,
      rssBytes: { before: rssBefore, settledMin: range.min, settledMax: range.max },
      bytesPerObject: (range.min - rssBefore) / objects,
      heapUsedBytes: {
        before: sumSamples(before, 'nodejs_heap_size_used_bytes'),
        settled: sumSamples(after, 'nodejs_heap_size_used_bytes'),
      },
      settleSeconds,
    };
  } catch (error) {
    const message = (error as Error).message;
    const logs = message.includes(controller.stderrPath) ? '' : `\n${controller.diagnostics()}`;
    throw new Error(`[memory/ours] ${message}${logs}`, { cause: error });
  } finally {
    await timeline.stop();
    // the objects stay: the scenario's namespace goes with the control plane, and no later scenario shares it
    await controller.stop();
  }
}

/**
 * With NOSANA_HEAP_SNAPSHOT_DIR set, a heap snapshot of the controller (Chrome DevTools or any
 * .heapsnapshot reader breaks it down by retainer). Taken outside the readings: writing one
 * collects garbage and grows the process while it runs.
 */
async function snapshotHeap(controller: OperatorProcess, when: string, progress: (line: string) => void): Promise<void> {
  const path = await controller.heapSnapshot();
  if (path !== undefined) progress(`[memory/ours] heap snapshot ${when}: ${path}`);
}

async function runPeer(env: BenchEnvironment, objects: number, withPods: number): Promise<MemorySide> {
  const { ctx, progress } = env;
  const namespace = await ctx.freshNamespace('bench-memory-batch');
  const controllerManager = await componentPid(env.cluster, 'kube-controller-manager');
  const pods = new PodTimeline(ctx.kubeConfig, namespace);
  const batch = ctx.kubeConfig.makeApiClient(k8s.BatchV1Api);
  try {
    await pods.start();
    const rssBefore = await residentBytesOf(controllerManager);
    progress(`[memory/peer] creating ${objects} batch/v1 Jobs, ${objects - withPods} of them suspended`);
    const started = Date.now();
    const names = jobNames(objects);
    await forEachLimited(names, CREATE_CONCURRENCY, async (name, index) => {
      await ctx.objects.create(batchJob(namespace, name, { suspend: index >= withPods }));
    });
    progress(`[memory/peer] ${objects} Jobs created in ${seconds(started)}; waiting for each to settle`);
    await pods.waitAll(names.slice(0, withPods), 'podSeen', settleTimeoutMs(objects));
    // a suspended Job has settled once the Job controller has written its Suspended condition
    await waitFor(
      async () => {
        const list = await batch.listNamespacedJob({ namespace });
        const suspended = list.items.filter((job) => job.status?.conditions?.some((c) => c.type === 'Suspended' && c.status === 'True'));
        return suspended.length >= objects - withPods;
      },
      { what: 'every suspended Job to show its Suspended condition', timeoutMs: settleTimeoutMs(objects), intervalMs: 2_000 },
    );
    const settleSeconds = (Date.now() - started) / 1_000;
    progress(`[memory/peer] every Job settled after ${seconds(started)}; reading memory for ${SETTLE_MS / 1_000} s`);
    const range = await settledRange(() => residentBytesOf(controllerManager));
    return {
      side: 'peer',
      what: `${withPods} Jobs with their Pod, ${objects - withPods} suspended`,
      rssBytes: { before: rssBefore, settledMin: range.min, settledMax: range.max },
      bytesPerObject: (range.min - rssBefore) / objects,
      settleSeconds,
    };
  } catch (error) {
    throw new Error(`[memory/peer] ${(error as Error).message}`, { cause: error });
  } finally {
    await pods.stop();
    await batch.deleteCollectionNamespacedJob({ namespace, propagationPolicy: 'Background' }).catch(() => undefined);
  }
}

/** Ours / peer: below 1 means ours holds less. */
export function memoryRatios(result: MemoryResult): { rssSettled: number; bytesPerObject: number } {
  return {
    rssSettled: ratio(result.ours.rssBytes.settledMin, result.peer.rssBytes.settledMin),
    bytesPerObject: ratio(result.ours.bytesPerObject, result.peer.bytesPerObject),
  };
}

export function memoryReport(result: MemoryResult, ratios: ReturnType<typeof memoryRatios>): string {
  const { settings, ours, peer } = result;
  const kib = (bytes: number): string => `${formatNumber(bytes / 1_024)} KiB`;
  const rows = [ours, peer].map((side) => [
    `${side.side} (${side.what})`,
    formatMebibytes(side.rssBytes.before),
    `${formatMebibytes(side.rssBytes.settledMin)}–${formatMebibytes(side.rssBytes.settledMax)}`,
    kib(side.bytesPerObject),
    `${formatNumber(side.settleSeconds)} s`,
  ]);
  rows.push(['ours/peer', '', formatRatio(ratios.rssSettled), formatRatio(ratios.bytesPerObject), '']);
  const heap = ours.heapUsedBytes;
  return [
    `memory: ${settings.objects} objects per side, read for ${settings.settleSeconds} s once settled; ours over ${settings.markets} market(s), ` +
      `--poll-interval ${settings.pollInterval} and production defaults; peer: kube-controller-manager ${settings.kubernetes}`,
    '',
    formatTable(['side', 'RSS before', 'RSS settled (low–high)', 'per object', 'settled after'], rows),
    '',
    `Ours' V8 heap in use: ${formatMebibytes(heap?.before ?? NaN)} before, ${formatMebibytes(heap?.settled ?? NaN)} settled ` +
      `(${kib(((heap?.settled ?? NaN) - (heap?.before ?? NaN)) / settings.objects)} per object).`,
    "The peer's figure is kube-controller-manager's whole process: every controller in it, and its caches of all the cluster's objects.",
  ].join('\n');
}
