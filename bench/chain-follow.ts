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
import type { PublicKey } from '@solana/web3.js';
import { DEFAULT_FINALIZE_AFTER_SLOTS } from '../src/localnet/chain/chain.ts';
import type { Localnet } from '../src/localnet/localnet.ts';
import { startController } from '../test/harness/controller-process.ts';
import { localnetDir } from '../test/harness/localnet-faults.ts';
import { NosanaNamespace, simpleDefinition } from '../test/harness/nosana-fixtures.ts';
import { TestNode } from '../test/harness/nosana-ledger.ts';
import { growth, sumByLabel, sumSamples, type MetricSample } from '../test/harness/prometheus-text.ts';
import { confirmedAtSlot } from './chain-clock.ts';
import { seconds, type BenchEnvironment } from './environment.ts';
import { JobTimeline } from './job-timeline.ts';
import { formatMs, formatNumber, formatRatio, formatTable, ratio, summarize, type Summary } from './stats.ts';

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

export async function runChainFollow(env: BenchEnvironment, options: ChainFollowOptions): Promise<ChainFollowResult> {
  const { localnet } = env;
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
}

async function runMode(env: BenchEnvironment, mode: Mode, jobs: number, holdMs: number): Promise<ModeResult> {
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
  return confirmedAtSlot(localnet, record.slot);
}

/** Each figure as subscription / polling, when both ran: below 1 means subscribing is faster or cheaper. */
export function chainFollowRatios(modes: readonly ModeResult[]): Record<string, number> | undefined {
  const polling = modes.find((mode) => mode.mode === 'polling');
  const subscription = modes.find((mode) => mode.mode === 'subscription');
  if (polling === undefined || subscription === undefined) return undefined;
  const figures = (mode: ModeResult): Record<string, number> => ({
    applyToQueuedP50: mode.applyToQueuedMs.p50,
    applyToQueuedP99: mode.applyToQueuedMs.p99,
    claimToRunningP50: mode.claimToRunningMs.p50,
    claimToRunningP99: mode.claimToRunningMs.p99,
    finishToSucceededP50: mode.finishToSucceededMs.p50,
    finishToSucceededP99: mode.finishToSucceededMs.p99,
    rpcRequestsPerJob: mode.rpcRequestsPerJob,
  });
  const base = figures(polling);
  return Object.fromEntries(Object.entries(figures(subscription)).map(([name, value]) => [name, ratio(value, base[name]!)]));
}

export function chainFollowReport(result: ChainFollowResult, ratio: Record<string, number> | undefined): string {
  const { settings } = result;
  const header = ['mode', 'apply→Queued p50', 'p99', 'claim→Running p50', 'p99', 'finish→Succeeded p50', 'p99', 'RPC req/job', 'wall'];
  const rows = result.modes.map((mode) => [
    mode.mode,
    formatMs(mode.applyToQueuedMs.p50),
    formatMs(mode.applyToQueuedMs.p99),
    formatMs(mode.claimToRunningMs.p50),
    formatMs(mode.claimToRunningMs.p99),
    formatMs(mode.finishToSucceededMs.p50),
    formatMs(mode.finishToSucceededMs.p99),
    formatNumber(mode.rpcRequestsPerJob),
    `${mode.wallSeconds.toFixed(0)} s`,
  ]);
  if (ratio !== undefined) {
    rows.push([
      'subscription/polling',
      formatRatio(ratio['applyToQueuedP50']!),
      formatRatio(ratio['applyToQueuedP99']!),
      formatRatio(ratio['claimToRunningP50']!),
      formatRatio(ratio['claimToRunningP99']!),
      formatRatio(ratio['finishToSucceededP50']!),
      formatRatio(ratio['finishToSucceededP99']!),
      formatRatio(ratio['rpcRequestsPerJob']!),
      '',
    ]);
  }
  const methods = [...new Set(result.modes.flatMap((mode) => Object.keys(mode.rpcRequestsPerJobByMethod)))];
  const methodRows = methods.map((method) => [
    method,
    ...result.modes.map((mode) => formatNumber(mode.rpcRequestsPerJobByMethod[method] ?? 0, 2)),
  ]);
  methodRows.push(['(websocket notifications)', ...result.modes.map((mode) => formatNumber(mode.notificationsPerJob, 2))]);
  const { localnet } = settings;
  const returned = result.modes.map(
    (mode) =>
      `  ${mode.mode}: claim→Running p50 ${formatMs(mode.claimReturnedToRunningMs.p50)} p99 ${formatMs(mode.claimReturnedToRunningMs.p99)}, ` +
      `finish→Succeeded p50 ${formatMs(mode.finishReturnedToSucceededMs.p50)} p99 ${formatMs(mode.finishReturnedToSucceededMs.p99)}`,
  );
  return [
    `chain-follow: ${settings.jobs} NosanaJobs per mode, --poll-interval ${settings.pollInterval}, claims and finishes spread over ${
      settings.spreadMs / 1_000
    } s, jobs running ${settings.holdMs / 1_000} s; localnet ${localnet.slotMs} ms slots, finalized after ${localnet.finalizeAfterSlots} slots`,
    '',
    formatTable(header, rows),
    '',
    "Landed is when the localnet confirmed the node's transaction. Counted from when work() and finish() returned",
    'in the benchmark instead (the client polls for its confirmation, up to 400 ms late):',
    ...returned,
    '',
    'RPC requests per job, by method:',
    formatTable(['method', ...result.modes.map((mode) => mode.mode)], methodRows),
  ].join('\n');
}
