// Posting throughput next to the Kubernetes controller doing the closest work, the Job controller
// of kube-controller-manager: N NosanaJobs applied at once until every one is Queued (its job
// posted and landed on chain), then N batch/v1 Jobs applied the same way until the Job
// controller has created every Job's Pod. Each side turns a declared object into the thing that
// will run, and stops where the next party takes over (a node claims a queued job; the scheduler
// binds a Pod). Both run one after the other against the same control plane, the same client,
// and the same create concurrency, with the other side's objects gone.
//
// Ours runs at production defaults (--poll-interval 5s, chain subscription on, 4 workers, log
// level info), over as many markets as keep each queue at most 250 jobs deep, one wallet each.
// Per side: total time and throughput, per-object latency from the create returning to the watch
// seeing the outcome, API writes per object (from the audit log, by the controller's user), the
// controller's resident memory and the CPU it, the API server and this process (which also
// serves the localnet) used meanwhile.
import { auditEvents, countByRequest, WRITE_VERBS, type AuditEvent } from '../test/harness/audit-log.ts';
import { startController } from '../test/harness/controller-process.ts';
import { localnetDir } from '../test/harness/localnet-faults.ts';
import { NosanaNamespace, simpleDefinition, type Stage } from '../test/harness/nosana-fixtures.ts';
import { growth, sumByLabel, sumSamples, type MetricSample } from '../test/harness/prometheus-text.ts';
import { seconds, type BenchEnvironment } from './environment.ts';
import { JobTimeline } from './job-timeline.ts';
import { batchJob, CREATE_CONCURRENCY, deleteBatchJobs, forEachLimited, jobNames, JOBS_PER_MARKET } from './objects.ts';
import { PodTimeline } from './pod-timeline.ts';
import { componentPid, cpuSecondsOf, residentBytesOf, residentOf } from './processes.ts';
import { formatMebibytes, formatMs, formatNumber, formatRatio, formatTable, ratio, summarize, type Summary } from './stats.ts';

/** The production default, as in chain-follow. */
const POLL_INTERVAL = '5s';
const JOB_TIMEOUT_SECONDS = 600;
const OP_ID = 'main';
/**
 * Writes are counted from the first create until this long after the last object got there: the
 * Job controller writes a Job's status in the same sync that created its Pod, just after it, and
 * ours writes the NosanaMarket's status after its jobs; neither side's step is over before.
 */
export const WRITE_GRACE_MS = 5_000;
/** The API server writes its audit log in batches at most 1 s apart. */
const AUDIT_FLUSH_MS = 2_500;
/** kube-controller-manager runs each controller as its own ServiceAccount (--use-service-account-credentials). */
export const JOB_CONTROLLER_USER = 'system:serviceaccount:kube-system:job-controller';
export const CONTROLLER_MANAGER_USER = 'system:kube-controller-manager';

export interface PostingOptions {
  jobs: number;
  /** Objects created at this steady rate (per second) instead of all at once. */
  ratePerSecond?: number;
}

export type Side = 'ours' | 'peer';

export interface SideResult {
  side: Side;
  /** What was created and what "done" is. */
  what: string;
  /** From the first create to the last object done. */
  totalSeconds: number;
  jobsPerSecond: number;
  /** The create returned → the watch saw the object done (ours: phase Queued; peer: its Pod). */
  applyToDoneMs: Summary;
  /**
   * Ours only: the create returned → the watch saw the signed post recorded. That is the
   * nosana.io/pending-post annotation (post.ts `record`): the earliest write that says a signed
   * post exists, made with a resourceVersion precondition just before the broadcast, which follows
   * in the same reconcile (one sendTransaction). The status (phase Posting, status.pendingPost)
   * is written only at the end of that reconcile, after the broadcast: applyToPostingMs. The
   * `Posted` condition turns True only with phase Queued (the post landed), so it would repeat
   * applyToDoneMs.
   */
  applyToPostedMs?: Summary;
  applyToPostingMs?: Summary;
  /** Writes by the controller's user(s) in the side's namespace from the first create to WRITE_GRACE_MS after the last done, per object. */
  apiWritesPerJob: number;
  apiWritesPerJobByRequest: Record<string, number>;
  /** The user names counted. */
  writers: string[];
  /** The controller's resident set before the first create and once every object was done. */
  controllerRssBytes: { before: number; after: number };
  /** CPU seconds from the first create to the last done: the controller, kube-apiserver, and this process (the localnet, the watch, the creates). */
  cpuSeconds: { controller: number; apiserver: number; benchmark: number };
  /** Ours only: Solana JSON-RPC requests per job. */
  rpcRequestsPerJob?: number;
  /** Ours only: the same, by JSON-RPC method. */
  rpcRequestsPerJobByMethod?: Record<string, number>;
  /**
   * Ours only: V8's heap in use before the first create, and once every job was Queued its heap in
   * use and reserved, and the memory outside it (Buffers, ArrayBuffers).
   */
  controllerHeapBytes?: { usedBefore: number; used: number; total: number; external: number };
}

export interface PostingResult {
  settings: {
    jobs: number;
    /** Set when the objects arrived at a steady rate rather than at once. */
    ratePerSecond?: number;
    createConcurrency: number;
    markets: number;
    pollInterval: string;
    writeGraceMs: number;
    kubernetes: string;
  };
  ours: SideResult;
  peer: SideResult;
}

export async function runPosting(env: BenchEnvironment, options: PostingOptions): Promise<PostingResult> {
  const markets = Math.ceil(options.jobs / JOBS_PER_MARKET);
  const ours = await runOurs(env, options, markets);
  const peer = await runPeer(env, options);
  return {
    settings: {
      jobs: options.jobs,
      ...(options.ratePerSecond === undefined ? {} : { ratePerSecond: options.ratePerSecond }),
      createConcurrency: CREATE_CONCURRENCY,
      markets,
      pollInterval: POLL_INTERVAL,
      writeGraceMs: WRITE_GRACE_MS,
      kubernetes: env.cluster.handle.version,
    },
    ours,
    peer,
  };
}

/** How long a side may take to get every object there before the run is abandoned. */
function stepTimeoutMs(jobs: number): number {
  return 120_000 + jobs * 1_000;
}

/** Creates every object, all at once (CREATE_CONCURRENCY in flight) or the n-th at started + n / rate. */
async function createAll(
  names: readonly string[],
  options: PostingOptions,
  started: number,
  create: (name: string, index: number) => Promise<void>,
): Promise<void> {
  const rate = options.ratePerSecond;
  await forEachLimited(names, CREATE_CONCURRENCY, async (name, index) => {
    if (rate !== undefined) {
      const due = started + (index * 1_000) / rate;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    }
    await create(name, index);
  });
}

async function runOurs(env: BenchEnvironment, options: PostingOptions, markets: number): Promise<SideResult> {
  const { jobs } = options;
  const { ctx, localnet, progress } = env;
  const ns = new NosanaNamespace(ctx, localnet, await ctx.freshNamespace('bench-posting'));
  progress(`[posting/ours] starting the controller (--poll-interval ${POLL_INTERVAL}, otherwise production defaults)`);
  const controller = await startController({
    name: 'controller-posting',
    kubeconfigPath: env.identity.kubeconfigPath,
    localnetDir: localnetDir(localnet),
    namespaces: [ns.name],
    pollInterval: POLL_INTERVAL,
    logLevel: 'info',
  });
  const timeline = new JobTimeline(ctx.kubeConfig, ns.name);
  try {
    await controller.waitReady();
    // a wallet of its own per market; 10 SOL covers the rent of a few hundred job accounts
    const stages: Stage[] = [];
    for (let index = 0; index < markets; index += 1) {
      stages.push(
        await ns.stage(`bench-${index}`, { settings: { timeout: BigInt(JOB_TIMEOUT_SECONDS) }, funding: { sol: 10n, nos: 10_000_000n } }),
      );
    }
    await timeline.start();
    progress(`[posting/ours] controller ready; ${markets} market(s) and wallet(s) in place; creating ${jobs} NosanaJobs`);

    const before = await controller.scrape();
    const apiserverBefore = await cpuSecondsOf(await componentPid(env.cluster, 'kube-apiserver'));
    const benchmarkBefore = process.cpuUsage();
    const started = Date.now();
    const names = jobNames(jobs);
    await createAll(names, options, started, async (name, index) => {
      const stage = stages[index % markets]!;
      await ns.createJob(name, {
        market: stage.marketName,
        timeout: JOB_TIMEOUT_SECONDS,
        walletSecretRef: stage.walletSecretRef,
        definition: simpleDefinition(OP_ID, 'echo ok'),
      });
      timeline.mark(name, 'applied');
    });
    progress(`[posting/ours] ${jobs} NosanaJobs created in ${seconds(started)}`);
    await timeline.waitAll(names, 'Queued', stepTimeoutMs(jobs));
    const done = Date.now();
    const after = await controller.scrape();
    const apiserverAfter = await cpuSecondsOf(await componentPid(env.cluster, 'kube-apiserver'));
    const benchmarkCpu = process.cpuUsage(benchmarkBefore);
    progress(`[posting/ours] all ${jobs} Queued after ${seconds(started)}; counting API writes`);

    const writes = await writesIn(ctx.handle.auditLogPath, [env.identity.username], ns.name, started, done);
    const totalSeconds = (done - started) / 1_000;
    const rpc = (samples: readonly MetricSample[]): number => sumSamples(samples, 'nosana_rpc_requests_total');
    const result: SideResult = {
      side: 'ours',
      what: 'NosanaJob → Queued',
      totalSeconds,
      jobsPerSecond: jobs / totalSeconds,
      applyToDoneMs: summarize(timeline.intervals(names, 'applied', 'Queued')),
      applyToPostedMs: summarize(timeline.intervals(names, 'applied', 'postRecorded')),
      applyToPostingMs: summarize(timeline.intervals(names, 'applied', 'Posting')),
      ...perJob(writes, jobs),
      writers: [env.identity.username],
      controllerRssBytes: { before: residentOf(before), after: residentOf(after) },
      cpuSeconds: {
        controller: sumSamples(after, 'process_cpu_seconds_total') - sumSamples(before, 'process_cpu_seconds_total'),
        apiserver: apiserverAfter - apiserverBefore,
        benchmark: (benchmarkCpu.user + benchmarkCpu.system) / 1e6,
      },
      rpcRequestsPerJob: (rpc(after) - rpc(before)) / jobs,
      rpcRequestsPerJobByMethod: Object.fromEntries(
        Object.entries(
          growth(sumByLabel(before, 'nosana_rpc_requests_total', 'method'), sumByLabel(after, 'nosana_rpc_requests_total', 'method')),
        ).map(([method, count]) => [method, count / jobs]),
      ),
      controllerHeapBytes: {
        usedBefore: sumSamples(before, 'nodejs_heap_size_used_bytes'),
        used: sumSamples(after, 'nodejs_heap_size_used_bytes'),
        total: sumSamples(after, 'nodejs_heap_size_total_bytes'),
        external: sumSamples(after, 'nodejs_external_memory_bytes'),
      },
    };

    progress(`[posting/ours] releasing the jobs (each is delisted on chain)`);
    const releasing = Date.now();
    const left = await ns.releaseJobs(60_000 + jobs * 500);
    if (left.length > 0) progress(`[posting/ours] ${left.length} jobs were still held after the deadline and lost their finalizers`);
    progress(`[posting/ours] released in ${seconds(releasing)}`);
    return result;
  } catch (error) {
    const message = (error as Error).message;
    // an error about the controller's exit carries its logs already
    const logs = message.includes(controller.stderrPath) ? '' : `\n${controller.diagnostics()}`;
    throw new Error(`[posting/ours] ${message}${logs}`, { cause: error });
  } finally {
    await timeline.stop();
    await controller.stop();
  }
}

async function runPeer(env: BenchEnvironment, options: PostingOptions): Promise<SideResult> {
  const { jobs } = options;
  const { ctx, progress } = env;
  const namespace = await ctx.freshNamespace('bench-batch');
  const controllerManager = await componentPid(env.cluster, 'kube-controller-manager');
  const apiserver = await componentPid(env.cluster, 'kube-apiserver');
  const pods = new PodTimeline(ctx.kubeConfig, namespace);
  try {
    await pods.start();
    progress(`[posting/peer] creating ${jobs} batch/v1 Jobs for kube-controller-manager (pid ${controllerManager})`);
    const rssBefore = await residentBytesOf(controllerManager);
    const controllerBefore = await cpuSecondsOf(controllerManager);
    const apiserverBefore = await cpuSecondsOf(apiserver);
    const benchmarkBefore = process.cpuUsage();
    const started = Date.now();
    const names = jobNames(jobs);
    await createAll(names, options, started, async (name) => {
      await ctx.objects.create(batchJob(namespace, name));
      pods.mark(name, 'applied');
    });
    progress(`[posting/peer] ${jobs} Jobs created in ${seconds(started)}`);
    await pods.waitAll(names, 'podSeen', stepTimeoutMs(jobs));
    const done = Date.now();
    const rssAfter = await residentBytesOf(controllerManager);
    const controllerAfter = await cpuSecondsOf(controllerManager);
    const apiserverAfter = await cpuSecondsOf(apiserver);
    const benchmarkCpu = process.cpuUsage(benchmarkBefore);
    progress(`[posting/peer] every Job has its Pod after ${seconds(started)}; counting API writes`);

    const writers = [JOB_CONTROLLER_USER, CONTROLLER_MANAGER_USER];
    const writes = await writesIn(ctx.handle.auditLogPath, writers, namespace, started, done);
    const totalSeconds = (done - started) / 1_000;
    const result: SideResult = {
      side: 'peer',
      what: 'Job → Pod created',
      totalSeconds,
      jobsPerSecond: jobs / totalSeconds,
      applyToDoneMs: summarize(pods.intervals(names, 'applied', 'podSeen')),
      ...perJob(writes, jobs),
      writers,
      controllerRssBytes: { before: rssBefore, after: rssAfter },
      cpuSeconds: {
        controller: controllerAfter - controllerBefore,
        apiserver: apiserverAfter - apiserverBefore,
        benchmark: (benchmarkCpu.user + benchmarkCpu.system) / 1e6,
      },
    };

    await deleteBatchJobs(ctx, namespace, (line) => progress(`[posting/peer] ${line}`));
    return result;
  } catch (error) {
    throw new Error(`[posting/peer] ${(error as Error).message}`, { cause: error });
  } finally {
    await pods.stop();
  }
}

/**
 * The writes of `users` in `namespace` from `from` to WRITE_GRACE_MS after `to` (Date.now()
 * milliseconds: the API server runs on this machine's clock). Waits out the grace and the audit
 * log's batching first.
 */
export async function writesIn(
  auditLogPath: string,
  users: readonly string[],
  namespace: string,
  from: number,
  to: number,
): Promise<AuditEvent[]> {
  const until = to + WRITE_GRACE_MS;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, until - Date.now()) + AUDIT_FLUSH_MS));
  const events: AuditEvent[] = [];
  for (const username of users) {
    const found = await auditEvents(auditLogPath, { username, since: new Date(from), namespace, verbs: WRITE_VERBS });
    events.push(...found.filter((event) => new Date(event.requestReceivedTimestamp).getTime() <= until));
  }
  return events;
}

export function perJob(writes: readonly AuditEvent[], jobs: number): Pick<SideResult, 'apiWritesPerJob' | 'apiWritesPerJobByRequest'> {
  const byRequest = Object.entries(countByRequest(writes))
    .sort(([, a], [, b]) => b - a)
    .map(([request, count]) => [request, count / jobs] as const);
  return { apiWritesPerJob: writes.length / jobs, apiWritesPerJobByRequest: Object.fromEntries(byRequest) };
}

/** Each figure as ours / peer: below 1 means ours is faster or cheaper. */
export function postingRatios(result: PostingResult): Record<string, number> {
  const figures = (side: SideResult): Record<string, number> => ({
    totalSeconds: side.totalSeconds,
    jobsPerSecond: side.jobsPerSecond,
    applyToDoneP50: side.applyToDoneMs.p50,
    applyToDoneP99: side.applyToDoneMs.p99,
    apiWritesPerJob: side.apiWritesPerJob,
    controllerRssAfter: side.controllerRssBytes.after,
    controllerCpuSeconds: side.cpuSeconds.controller,
    apiserverCpuSeconds: side.cpuSeconds.apiserver,
  });
  const peer = figures(result.peer);
  return Object.fromEntries(Object.entries(figures(result.ours)).map(([name, value]) => [name, ratio(value, peer[name]!)]));
}

export function postingReport(result: PostingResult, ratios: Record<string, number>): string {
  const { settings, ours, peer } = result;
  const sides = [ours, peer];
  const header = ['side', 'total', 'jobs/s', 'apply→done p50', 'p99', 'apply→Posted p50', 'p99', 'API writes/job', 'RSS after', 'CPU s'];
  const rows = sides.map((side) => [
    `${side.side} (${side.what})`,
    `${side.totalSeconds.toFixed(1)} s`,
    formatNumber(side.jobsPerSecond),
    formatMs(side.applyToDoneMs.p50),
    formatMs(side.applyToDoneMs.p99),
    formatMs(side.applyToPostedMs?.p50 ?? NaN),
    formatMs(side.applyToPostedMs?.p99 ?? NaN),
    formatNumber(side.apiWritesPerJob, 2),
    formatMebibytes(side.controllerRssBytes.after),
    formatNumber(side.cpuSeconds.controller),
  ]);
  rows.push([
    'ours/peer',
    formatRatio(ratios['totalSeconds']!),
    formatRatio(ratios['jobsPerSecond']!),
    formatRatio(ratios['applyToDoneP50']!),
    formatRatio(ratios['applyToDoneP99']!),
    '',
    '',
    formatRatio(ratios['apiWritesPerJob']!),
    formatRatio(ratios['controllerRssAfter']!),
    formatRatio(ratios['controllerCpuSeconds']!),
  ]);
  const requests = [...new Set(sides.flatMap((side) => Object.keys(side.apiWritesPerJobByRequest)))];
  const requestRows = requests.map((request) => [
    request,
    ...sides.map((side) => formatNumber(side.apiWritesPerJobByRequest[request] ?? 0, 2)),
  ]);
  const cpuRows = (['controller', 'apiserver', 'benchmark'] as const).map((who) => [
    { controller: 'the controller', apiserver: 'kube-apiserver', benchmark: 'this process (localnet, watch, creates)' }[who],
    ...sides.map((side) => formatNumber(side.cpuSeconds[who])),
  ]);
  const arrival =
    settings.ratePerSecond === undefined
      ? `created ${settings.createConcurrency} at a time`
      : `arriving at ${settings.ratePerSecond} per second for ${formatNumber(settings.jobs / settings.ratePerSecond)} s`;
  return [
    `posting: ${settings.jobs} objects per side, ${arrival}; ours over ${settings.markets} market(s), ` +
      `--poll-interval ${settings.pollInterval} and production defaults; peer: kube-controller-manager ${settings.kubernetes}`,
    '',
    formatTable(header, rows),
    '',
    'apply→Posted: the signed post recorded (the nosana.io/pending-post annotation, written just before the broadcast);',
    `apply→Posting, the status written after the broadcast: p50 ${formatMs(ours.applyToPostingMs?.p50 ?? NaN)} p99 ${formatMs(ours.applyToPostingMs?.p99 ?? NaN)}.`,
    `Controller RSS before the creates: ours ${formatMebibytes(ours.controllerRssBytes.before)}, peer ${formatMebibytes(peer.controllerRssBytes.before)}; ` +
      `ours' V8 heap in use ${formatMebibytes(ours.controllerHeapBytes?.usedBefore ?? NaN)} before, ` +
      `after ${formatMebibytes(ours.controllerHeapBytes?.used ?? NaN)} in use of ${formatMebibytes(ours.controllerHeapBytes?.total ?? NaN)}, ` +
      `${formatMebibytes(ours.controllerHeapBytes?.external ?? NaN)} outside it.`,
    `Ours made ${formatNumber(ours.rpcRequestsPerJob ?? NaN)} Solana JSON-RPC requests per job: ` +
      Object.entries(ours.rpcRequestsPerJobByMethod ?? {})
        .sort(([, a], [, b]) => b - a)
        .map(([method, count]) => `${method} ${formatNumber(count, 2)}`)
        .join(', ') +
      '.',
    '',
    `API writes per object, by request (the first create to ${settings.writeGraceMs / 1_000} s after the last done):`,
    formatTable(['request', ...sides.map((side) => side.side)], requestRows),
    '',
    'CPU seconds from the first create to the last done:',
    formatTable(['process', ...sides.map((side) => side.side)], cpuRows),
  ].join('\n');
}
