// The whole loop next to batch Jobs. Ours: N one-op NosanaJobs, each op a container asking for a
// GPU, posted by the controller, claimed by NosanaNodes (one per GPU of the local cluster's KWOK
// nodes, since a Nosana node runs one job at a time), run by the node agent as Pods the real
// scheduler places, finished with their results pinned, until every NosanaJob is Succeeded. Peer:
// the same Pods as N batch/v1 Jobs, until kube-controller-manager has marked every one Complete.
// The simulated container is the same on both sides (it runs RUN_FOR and exits 0) and is decided
// by the benchmark's simulation rule, never by anything the operator does.
//
// Ours runs at production defaults: the controller and the node agent as processes with their
// default intervals (--poll-interval 5s, the agent's --join-settle 90s), log level info. The nodes
// join their markets before the clock starts, as a node fleet is up before work arrives.
//
// Per side: total time and throughput; apply → done; for ours, run assigned on chain → its first
// Pod Running (the target: p99 ≤ 2 s) and the Pod's create → Running on both sides; API
// writes per job by the controllers (ours: the controller and the agent; peer: the Job controller;
// the scheduler's bindings and KWOK's Pod status are the same on both sides and not counted);
// Solana JSON-RPC requests per job (ours); CPU of the controllers, the scheduler and KWOK.
import type * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { JOB_NAMESPACE_ALLOWED, JOB_NAMESPACE_LABEL } from '../src/controllers/nosana-node/containment.ts';
import { GPU_RESOURCE } from '../src/local-cluster/gpu-nodes.ts';
import { SimulationWatcher, type SimulationRule } from '../src/local-cluster/simulation.ts';
import { waitFor } from '../src/local-cluster/wait.ts';
import { RUN_LABEL } from '../src/executor/labels.ts';
import { KubeApi } from '../src/runtime/kube-api.ts';
import type { AuditEvent } from '../test/harness/audit-log.ts';
import { controllerIdentity, startController } from '../test/harness/controller-process.ts';
import { localnetDir } from '../test/harness/localnet-faults.ts';
import { startNodeAgent } from '../test/harness/node-agent-process.ts';
import { NOSANA_API_VERSION, NosanaNamespace, WALLET_KEY, type NosanaJobSpecInput, type Stage } from '../test/harness/nosana-fixtures.ts';
import type { OperatorProcess } from '../test/harness/operator-process.ts';
import { growth, sumByLabel, sumSamples, type MetricSample } from '../test/harness/prometheus-text.ts';
import { firstConfirmedAt } from './chain-clock.ts';
import { seconds, type BenchEnvironment } from './environment.ts';
import { JobTimeline } from './job-timeline.ts';
import { batchJob, CREATE_CONCURRENCY, deleteBatchJobs, forEachLimited, jobNames, JOBS_PER_MARKET } from './objects.ts';
import { PodTimeline } from './pod-timeline.ts';
import { CONTROLLER_MANAGER_USER, JOB_CONTROLLER_USER, perJob, writesIn, type Side } from './posting.ts';
import { componentPid, cpuSecondsOf, residentBytesOf, residentOf } from './processes.ts';
import { formatMebibytes, formatMs, formatNumber, formatRatio, formatTable, ratio, summarize, type Summary } from './stats.ts';

const IMAGE = 'ubuntu:24.04';
const COMMAND = ['echo', 'ok'];
/** How long each simulated container runs (the "Pods that run 1 s"). */
const RUN_FOR = '1s';
const RULES: readonly SimulationRule[] = [
  { name: 'bench-task', match: { image: IMAGE }, then: { exitCode: 0, runFor: RUN_FOR, logs: [{ stream: 'stdout', text: 'ok' }] } },
];
const JOB_TIMEOUT_SECONDS = 600;
const OP_ID = 'main';
const DEFINITION: NonNullable<NosanaJobSpecInput['definition']> = {
  version: '0.1',
  type: 'container',
  ops: [{ id: OP_ID, type: 'container/run', args: { image: IMAGE, cmd: COMMAND, gpu: true } }],
};
/** The agent's production defaults (src/controllers/nosana-node/agent-options.ts), spelled out over the test harness's short ones. */
const AGENT_DEFAULTS = {
  pollInterval: '5s',
  joinSettle: '90s',
  extraArgs: [
    '--recheck-interval',
    '1m',
    '--start-retry',
    '15s',
    '--workers',
    '32',
    '--log-level',
    process.env['BENCH_AGENT_LOG_LEVEL'] ?? 'info',
  ],
};
const POLL_INTERVAL = '5s';
/** How often a line says how far a side is. */
const PROGRESS_EVERY_MS = 10_000;

export interface EndToEndOptions {
  jobs: number;
}

export interface EndToEndSide {
  side: Side;
  what: string;
  totalSeconds: number;
  jobsPerSecond: number;
  /** The create returned → the watch saw the job done (ours: Succeeded; peer: Complete). */
  applyToDoneMs: Summary;
  /** Ours: the transaction that assigned the run was confirmed → the watch saw the run's first Pod Running. */
  assignedToRunningMs?: Summary;
  /** The first Pod appeared → it was Running (both sides: the scheduler, and KWOK playing the kubelet). */
  podToRunningMs: Summary;
  apiWritesPerJob: number;
  apiWritesPerJobByRequest: Record<string, number>;
  writers: string[];
  rpcRequestsPerJob?: number;
  rpcRequestsPerJobByMethod?: Record<string, number>;
  /** Ours: the same, by process (the controller posts and follows; the agent claims, runs and finishes). */
  rpcRequestsPerJobByProcess?: { controller: number; agent: number };
  /** CPU seconds from the first create to the last done. */
  cpuSeconds: { controllers: number; scheduler: number; kwok: number; apiserver: number; benchmark: number };
  /** The controllers' resident set once every job was done (ours: the controller plus the agent). */
  controllersRssBytes: number;
}

export interface EndToEndResult {
  settings: {
    jobs: number;
    gpus: number;
    nosanaNodes: number;
    markets: number;
    runFor: string;
    createConcurrency: number;
    kubernetes: string;
  };
  ours: EndToEndSide;
  peer: EndToEndSide;
}

export async function runEndToEnd(env: BenchEnvironment, options: EndToEndOptions): Promise<EndToEndResult> {
  const { ctx } = env;
  const gpus = await clusterGpus(ctx.core);
  const markets = Math.ceil(options.jobs / JOBS_PER_MARKET);
  const jobNamespace = await ctx.freshNamespace('bench-e2e-pods');
  const batchNamespace = await ctx.freshNamespace('bench-e2e-batch');
  const simulation = new SimulationWatcher({
    kubeConfig: ctx.kubeConfig,
    logsDir: ctx.handle.kwokLogsDir,
    rules: RULES,
    namespaces: [jobNamespace, batchNamespace],
    log: pino({ level: 'silent' }),
  });
  await simulation.start();
  try {
    const ours = await runOurs(env, options, { gpus, markets, jobNamespace });
    const peer = await runPeer(env, options, batchNamespace);
    return {
      settings: {
        jobs: options.jobs,
        gpus,
        nosanaNodes: gpus,
        markets,
        runFor: RUN_FOR,
        createConcurrency: CREATE_CONCURRENCY,
        kubernetes: env.cluster.handle.version,
      },
      ours,
      peer,
    };
  } finally {
    await simulation.stop();
  }
}

/** The GPUs the cluster's nodes offer: one NosanaNode each, as each job asks for one. */
async function clusterGpus(core: k8s.CoreV1Api): Promise<number> {
  const nodes = await core.listNode();
  return nodes.items.reduce((sum, node) => sum + Number(node.status?.allocatable?.[GPU_RESOURCE] ?? 0), 0);
}

/** How long a side may take before the run is abandoned: generous, since this is not what is measured. */
function stepTimeoutMs(jobs: number): number {
  return 180_000 + jobs * 2_000;
}

/** Says every PROGRESS_EVERY_MS how many are done, until stopped. */
function reportProgress(progress: (line: string) => void, label: string, started: number, done: () => number, total: number): () => void {
  const timer = setInterval(() => progress(`${label} ${done()} of ${total} done after ${seconds(started)}`), PROGRESS_EVERY_MS);
  return () => clearInterval(timer);
}

async function cpuOf(env: BenchEnvironment, binaries: readonly string[]): Promise<Record<string, number>> {
  const entries = await Promise.all(
    binaries.map(async (binary) => [binary, await cpuSecondsOf(await componentPid(env.cluster, binary))] as const),
  );
  return Object.fromEntries(entries);
}

const CLUSTER_PARTS = ['kube-apiserver', 'kube-scheduler', 'kwok'] as const;

async function runOurs(
  env: BenchEnvironment,
  options: EndToEndOptions,
  where: { gpus: number; markets: number; jobNamespace: string },
): Promise<EndToEndSide> {
  const { jobs } = options;
  const { ctx, localnet, progress } = env;
  const ns = new NosanaNamespace(ctx, localnet, await ctx.freshNamespace('bench-e2e'));
  await new KubeApi(ctx.kubeConfig).request('PATCH', `/api/v1/namespaces/${where.jobNamespace}`, {
    contentType: 'application/merge-patch+json',
    body: { metadata: { labels: { [JOB_NAMESPACE_LABEL]: JOB_NAMESPACE_ALLOWED } } },
  });
  const agentIdentity = await controllerIdentity(ctx, ns.name, 'nosana-node-agent');
  progress(`[end-to-end/ours] starting the controller and the node agent (production defaults, log level info)`);
  const controller = await startController({
    name: 'controller-e2e',
    kubeconfigPath: env.identity.kubeconfigPath,
    localnetDir: localnetDir(localnet),
    namespaces: [ns.name],
    pollInterval: POLL_INTERVAL,
    logLevel: 'info',
  });
  let agent: OperatorProcess | undefined;
  const timeline = new JobTimeline(ctx.kubeConfig, ns.name);
  const pods = new PodTimeline(ctx.kubeConfig, where.jobNamespace, { ownerOf: (pod) => pod.metadata?.labels?.[RUN_LABEL] });
  try {
    agent = await startNodeAgent({
      name: 'node-agent-e2e',
      kubeconfigPath: agentIdentity.kubeconfigPath,
      localnetDir: localnetDir(localnet),
      namespaces: [ns.name],
      ...AGENT_DEFAULTS,
    });
    await Promise.all([controller.waitReady(), agent.waitReady()]);
    const stages: Stage[] = [];
    for (let index = 0; index < where.markets; index += 1) {
      stages.push(
        await ns.stage(`bench-${index}`, {
          settings: { timeout: BigInt(JOB_TIMEOUT_SECONDS) },
          funding: { sol: 10n, nos: 1_000_000_000n },
        }),
      );
    }
    const nodeNames = Array.from({ length: where.gpus }, (_, index) => `node-${String(index).padStart(2, '0')}`);
    for (const [index, name] of nodeNames.entries()) {
      await ns.wallet(`${name}-key`, { sol: 10n });
      await ctx.objects.create({
        apiVersion: NOSANA_API_VERSION,
        kind: 'NosanaNode',
        metadata: { name, namespace: ns.name },
        spec: {
          market: stages[index % where.markets]!.marketName,
          keySecretRef: { name: `${name}-key`, key: WALLET_KEY },
          pods: { namespace: where.jobNamespace },
        },
      } as k8s.KubernetesObject);
    }
    progress(
      `[end-to-end/ours] ${where.markets} market(s), ${nodeNames.length} NosanaNodes; waiting for every node to join its queue (a fresh agent waits out --join-settle first)`,
    );
    const joining = Date.now();
    await waitFor(
      async () => {
        const list = await ctx.objects.list<k8s.KubernetesObject & { status?: { phase?: string } }>(
          NOSANA_API_VERSION,
          'NosanaNode',
          ns.name,
        );
        const queued = list.items.filter((node) => node.status?.phase === 'Queued').length;
        return queued === nodeNames.length ? true : undefined;
      },
      { what: 'every NosanaNode to be Queued', timeoutMs: 300_000, intervalMs: 1_000 },
    );
    progress(`[end-to-end/ours] every node queued after ${seconds(joining)}; creating ${jobs} NosanaJobs`);
    await Promise.all([timeline.start(), pods.start()]);

    const scrape = async (): Promise<MetricSample[][]> => [await controller.scrape(), await agent!.scrape()];
    const before = await scrape();
    const clusterBefore = await cpuOf(env, CLUSTER_PARTS);
    const benchmarkBefore = process.cpuUsage();
    const started = Date.now();
    const names = jobNames(jobs);
    const stopProgress = reportProgress(progress, '[end-to-end/ours]', started, () => timeline.count(names, 'Succeeded'), jobs);
    try {
      await forEachLimited(names, CREATE_CONCURRENCY, async (name, index) => {
        const stage = stages[index % where.markets]!;
        await ns.createJob(name, {
          market: stage.marketName,
          timeout: JOB_TIMEOUT_SECONDS,
          walletSecretRef: stage.walletSecretRef,
          definition: DEFINITION,
        });
        timeline.mark(name, 'applied');
      });
      progress(`[end-to-end/ours] ${jobs} NosanaJobs created in ${seconds(started)}`);
      await timeline.waitAll(names, 'Succeeded', stepTimeoutMs(jobs));
    } finally {
      stopProgress();
    }
    const done = Date.now();
    const after = await scrape();
    const clusterAfter = await cpuOf(env, CLUSTER_PARTS);
    const benchmarkCpu = process.cpuUsage(benchmarkBefore);
    progress(`[end-to-end/ours] all ${jobs} Succeeded after ${seconds(started)}; counting API writes`);

    const writers = [env.identity.username, agentIdentity.username];
    const writes: AuditEvent[] = [];
    for (const namespace of [ns.name, where.jobNamespace])
      writes.push(...(await writesIn(ctx.handle.auditLogPath, writers, namespace, started, done)));
    const runs = pods.ownersAt('podRunning');
    const assignedToRunning = runs.flatMap((run) => {
      const assigned = firstConfirmedAt(localnet, run);
      const running = pods.timeOf(run, 'podRunning');
      return assigned === undefined || running === undefined ? [] : [running - assigned];
    });
    const sum = (samples: readonly MetricSample[][], name: string): number =>
      samples.reduce((total, each) => total + sumSamples(each, name), 0);
    const rpcByMethod = (samples: readonly MetricSample[][]): Record<string, number> => {
      const merged: Record<string, number> = {};
      for (const each of samples) {
        for (const [method, count] of Object.entries(sumByLabel(each, 'nosana_rpc_requests_total', 'method')))
          merged[method] = (merged[method] ?? 0) + count;
      }
      return merged;
    };
    const totalSeconds = (done - started) / 1_000;
    const result: EndToEndSide = {
      side: 'ours',
      what: 'NosanaJob → Succeeded',
      totalSeconds,
      jobsPerSecond: jobs / totalSeconds,
      applyToDoneMs: summarize(timeline.intervals(names, 'applied', 'Succeeded')),
      assignedToRunningMs: summarize(assignedToRunning),
      podToRunningMs: summarize(pods.intervals(runs, 'podSeen', 'podRunning')),
      ...perJob(writes, jobs),
      writers,
      rpcRequestsPerJob: (sum(after, 'nosana_rpc_requests_total') - sum(before, 'nosana_rpc_requests_total')) / jobs,
      rpcRequestsPerJobByProcess: {
        controller: (sumSamples(after[0]!, 'nosana_rpc_requests_total') - sumSamples(before[0]!, 'nosana_rpc_requests_total')) / jobs,
        agent: (sumSamples(after[1]!, 'nosana_rpc_requests_total') - sumSamples(before[1]!, 'nosana_rpc_requests_total')) / jobs,
      },
      rpcRequestsPerJobByMethod: Object.fromEntries(
        Object.entries(growth(rpcByMethod(before), rpcByMethod(after))).map(([method, count]) => [method, count / jobs]),
      ),
      cpuSeconds: {
        controllers: sum(after, 'process_cpu_seconds_total') - sum(before, 'process_cpu_seconds_total'),
        scheduler: clusterAfter['kube-scheduler']! - clusterBefore['kube-scheduler']!,
        kwok: clusterAfter['kwok']! - clusterBefore['kwok']!,
        apiserver: clusterAfter['kube-apiserver']! - clusterBefore['kube-apiserver']!,
        benchmark: (benchmarkCpu.user + benchmarkCpu.system) / 1e6,
      },
      controllersRssBytes: after.reduce((total, each) => total + residentOf(each), 0),
    };

    progress('[end-to-end/ours] deleting the NosanaNodes (they leave their queues) and the NosanaJobs');
    const cleaning = Date.now();
    await ctx.objects
      .list(NOSANA_API_VERSION, 'NosanaNode', ns.name)
      .then((list) => Promise.allSettled(list.items.map((node) => ctx.objects.delete(node))));
    await waitFor(async () => (await ctx.objects.list(NOSANA_API_VERSION, 'NosanaNode', ns.name)).items.length === 0, {
      what: 'the NosanaNodes to be gone',
      timeoutMs: 120_000,
      intervalMs: 500,
    }).catch((error: unknown) => progress(`[end-to-end/ours] ${(error as Error).message}`));
    const left = await ns.releaseJobs(60_000 + jobs * 200);
    if (left.length > 0)
      progress(`[end-to-end/ours] ${left.length} NosanaJobs were still held after the deadline and lost their finalizers`);
    progress(`[end-to-end/ours] cleaned up in ${seconds(cleaning)}`);
    return result;
  } catch (error) {
    const message = (error as Error).message;
    const logs = [controller, agent].flatMap((process) =>
      process === undefined || message.includes(process.stderrPath) ? [] : [process.diagnostics()],
    );
    throw new Error(`[end-to-end/ours] ${message}\n${logs.join('\n')}`, { cause: error });
  } finally {
    await pods.stop();
    await timeline.stop();
    await agent?.stop();
    await controller.stop();
    await agentIdentity.remove();
  }
}

async function runPeer(env: BenchEnvironment, options: EndToEndOptions, namespace: string): Promise<EndToEndSide> {
  const { jobs } = options;
  const { ctx, progress } = env;
  const controllerManager = await componentPid(env.cluster, 'kube-controller-manager');
  const pods = new PodTimeline(ctx.kubeConfig, namespace, { followJobs: true });
  try {
    await pods.start();
    progress(`[end-to-end/peer] creating ${jobs} batch/v1 Jobs of the same Pod for kube-controller-manager (pid ${controllerManager})`);
    const controllerBefore = await cpuSecondsOf(controllerManager);
    const clusterBefore = await cpuOf(env, CLUSTER_PARTS);
    const benchmarkBefore = process.cpuUsage();
    const started = Date.now();
    const names = jobNames(jobs);
    const stopProgress = reportProgress(progress, '[end-to-end/peer]', started, () => pods.count(names, 'complete'), jobs);
    try {
      await forEachLimited(names, CREATE_CONCURRENCY, async (name) => {
        await ctx.objects.create(batchJob(namespace, name, { image: IMAGE, command: COMMAND, gpus: 1, backoffLimit: 0 }));
        pods.mark(name, 'applied');
      });
      progress(`[end-to-end/peer] ${jobs} Jobs created in ${seconds(started)}`);
      await pods.waitAll(names, 'complete', stepTimeoutMs(jobs));
    } finally {
      stopProgress();
    }
    const done = Date.now();
    const controllerAfter = await cpuSecondsOf(controllerManager);
    const rss = await residentBytesOf(controllerManager);
    const clusterAfter = await cpuOf(env, CLUSTER_PARTS);
    const benchmarkCpu = process.cpuUsage(benchmarkBefore);
    progress(`[end-to-end/peer] every Job Complete after ${seconds(started)}; counting API writes`);

    const writers = [JOB_CONTROLLER_USER, CONTROLLER_MANAGER_USER];
    const writes = await writesIn(ctx.handle.auditLogPath, writers, namespace, started, done);
    const totalSeconds = (done - started) / 1_000;
    const result: EndToEndSide = {
      side: 'peer',
      what: 'Job → Complete',
      totalSeconds,
      jobsPerSecond: jobs / totalSeconds,
      applyToDoneMs: summarize(pods.intervals(names, 'applied', 'complete')),
      podToRunningMs: summarize(pods.intervals(names, 'podSeen', 'podRunning')),
      ...perJob(writes, jobs),
      writers,
      cpuSeconds: {
        controllers: controllerAfter - controllerBefore,
        scheduler: clusterAfter['kube-scheduler']! - clusterBefore['kube-scheduler']!,
        kwok: clusterAfter['kwok']! - clusterBefore['kwok']!,
        apiserver: clusterAfter['kube-apiserver']! - clusterBefore['kube-apiserver']!,
        benchmark: (benchmarkCpu.user + benchmarkCpu.system) / 1e6,
      },
      controllersRssBytes: rss,
    };

    await deleteBatchJobs(ctx, namespace, (line) => progress(`[end-to-end/peer] ${line}`));
    return result;
  } catch (error) {
    throw new Error(`[end-to-end/peer] ${(error as Error).message}`, { cause: error });
  } finally {
    await pods.stop();
  }
}

/** Each figure as ours / peer: below 1 means ours is faster or cheaper. */
export function endToEndRatios(result: EndToEndResult): Record<string, number> {
  const figures = (side: EndToEndSide): Record<string, number> => ({
    totalSeconds: side.totalSeconds,
    jobsPerSecond: side.jobsPerSecond,
    applyToDoneP50: side.applyToDoneMs.p50,
    applyToDoneP99: side.applyToDoneMs.p99,
    podToRunningP99: side.podToRunningMs.p99,
    apiWritesPerJob: side.apiWritesPerJob,
    controllersCpuSeconds: side.cpuSeconds.controllers,
    controllersRss: side.controllersRssBytes,
  });
  const peer = figures(result.peer);
  return Object.fromEntries(Object.entries(figures(result.ours)).map(([name, value]) => [name, ratio(value, peer[name]!)]));
}

export function endToEndReport(result: EndToEndResult, ratios: Record<string, number>): string {
  const { settings, ours, peer } = result;
  const sides = [ours, peer];
  const header = ['side', 'total', 'jobs/s', 'apply→done p50', 'p99', 'Pod→Running p99', 'API writes/job', 'controllers CPU s', 'RSS'];
  const rows = sides.map((side) => [
    `${side.side} (${side.what})`,
    `${side.totalSeconds.toFixed(1)} s`,
    formatNumber(side.jobsPerSecond, 2),
    formatMs(side.applyToDoneMs.p50),
    formatMs(side.applyToDoneMs.p99),
    formatMs(side.podToRunningMs.p99),
    formatNumber(side.apiWritesPerJob, 2),
    formatNumber(side.cpuSeconds.controllers),
    formatMebibytes(side.controllersRssBytes),
  ]);
  rows.push([
    'ours/peer',
    formatRatio(ratios['totalSeconds']!),
    formatRatio(ratios['jobsPerSecond']!),
    formatRatio(ratios['applyToDoneP50']!),
    formatRatio(ratios['applyToDoneP99']!),
    formatRatio(ratios['podToRunningP99']!),
    formatRatio(ratios['apiWritesPerJob']!),
    formatRatio(ratios['controllersCpuSeconds']!),
    formatRatio(ratios['controllersRss']!),
  ]);
  const requests = [...new Set(sides.flatMap((side) => Object.keys(side.apiWritesPerJobByRequest)))];
  const requestRows = requests.map((request) => [
    request,
    ...sides.map((side) => formatNumber(side.apiWritesPerJobByRequest[request] ?? 0, 2)),
  ]);
  const cpuRows = (['controllers', 'scheduler', 'kwok', 'apiserver', 'benchmark'] as const).map((who) => [
    {
      controllers: 'the controllers (ours: controller + node agent)',
      scheduler: 'kube-scheduler',
      kwok: 'KWOK (the simulated kubelets)',
      apiserver: 'kube-apiserver',
      benchmark: 'this process (localnet, watches, creates)',
    }[who],
    ...sides.map((side) => formatNumber(side.cpuSeconds[who])),
  ]);
  const assigned = ours.assignedToRunningMs;
  return [
    `end-to-end: ${settings.jobs} one-op jobs per side on ${settings.gpus} GPUs (${settings.nosanaNodes} NosanaNodes over ${settings.markets} market(s)), ` +
      `each Pod asking for 1 GPU and running ${settings.runFor}, created ${settings.createConcurrency} at a time; peer: kube-controller-manager ${settings.kubernetes}`,
    '',
    formatTable(header, rows),
    '',
    `Ours, run assigned on chain → its first Pod Running: p50 ${formatMs(assigned?.p50 ?? NaN)}, p99 ${formatMs(assigned?.p99 ?? NaN)} ` +
      `(${assigned?.n ?? 0} runs; target p99 ≤ 2 s). Pod seen → Running p50: ours ${formatMs(ours.podToRunningMs.p50)}, peer ${formatMs(peer.podToRunningMs.p50)}.`,
    `Ours made ${formatNumber(ours.rpcRequestsPerJob ?? NaN)} Solana JSON-RPC requests per job ` +
      `(the controller ${formatNumber(ours.rpcRequestsPerJobByProcess?.controller ?? NaN)}, the agent ${formatNumber(ours.rpcRequestsPerJobByProcess?.agent ?? NaN)}): ` +
      Object.entries(ours.rpcRequestsPerJobByMethod ?? {})
        .sort(([, a], [, b]) => b - a)
        .map(([method, count]) => `${method} ${formatNumber(count, 2)}`)
        .join(', ') +
      '.',
    '',
    "API writes per job, by request (the controllers' users; the first create to a few seconds after the last done):",
    formatTable(['request', ...sides.map((side) => side.side)], requestRows),
    '',
    'CPU seconds from the first create to the last done:',
    formatTable(['process', ...sides.map((side) => side.side)], cpuRows),
  ].join('\n');
}
