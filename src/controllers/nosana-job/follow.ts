// Following a job that exists (or existed) on chain: read (job-world.ts), decide (decide.ts), act
// (here). The acting layer is thin: it checks what only the moment of acting can tell (that the
// wallet is the job's project, that an extension fits the budget and the spend limit), writes the
// ending it is about to cause before the transaction, sends it, and reads once more so the
// status shows what the chain did. Nothing here decides a phase; what the action leads to is the
// next decision's.
import { PublicKey } from '@solana/web3.js';
import type { JobView } from '../../chain/jobs-client.ts';
import type { NetworkPorts } from '../network-ports.ts';
import { delistJob, endJob, extendJob, posterWallet, recoverJob } from './chain-actions.ts';
import type { JobReconcileContext, StepOutcome } from './context.ts';
import { decide } from './decide.ts';
import { isoSeconds } from './job-status.ts';
import type { Decision, DecisionSettings, JobAction, JobWorld } from './decide.ts';
import { admitExtension } from './extend-guard.ts';
import { readJobWorld } from './job-world.ts';
import { buildLogsConfigMap } from './logs-configmap.ts';
import type { OpOutcome } from './result.ts';
import { durationSeconds } from './spec-values.ts';

// After an action, the next look comes soon: the chain changed, and the status should say how.
const AFTER_ACTION_MS = 1_000;

function settingsOf(ctx: JobReconcileContext, ports: NetworkPorts): DecisionSettings {
  const { spec } = ctx.object;
  const { options } = ctx.deps;
  return {
    now: ctx.deps.now(),
    ...(ctx.object.metadata?.generation === undefined ? {} : { generation: ctx.object.metadata.generation }),
    ...(spec.timeout === undefined ? {} : { wantedTimeout: durationSeconds(spec.timeout, 'spec.timeout') }),
    ...(spec.queueTimeout === undefined
      ? {}
      : { queueTimeout: { ms: Number(durationSeconds(spec.queueTimeout, 'spec.queueTimeout')) * 1000, text: String(spec.queueTimeout) } }),
    retries: spec.retries ?? 2,
    deadNodeGraceMs: options.deadNodeGraceMs,
    resultWaitMs: options.resultWaitMs,
    pollIntervalMs: options.pollIntervalMs,
    logTailMaxBytes: options.logTailMaxBytes,
    network: ports.settings.name,
  };
}

/** Reads and decides, and takes the decision's status and Events into the reconcile. */
async function readAndDecide(
  ctx: JobReconcileContext,
  ports: NetworkPorts,
  address: string,
  origin: JobWorld['origin'],
): Promise<{ world: JobWorld; decision: Decision }> {
  const world = await readJobWorld(ctx, ports, address, origin);
  const decision = decide(ctx.status, world, settingsOf(ctx, ports));
  ctx.status = decision.status;
  for (const event of decision.events) ctx.event(event.type, event.reason, event.note);
  if (decision.forget) ports.watcher.forget(new PublicKey(address));
  return { world, decision };
}

/**
 * Mirrors the job at `jobAddress` into ctx.status and performs the one action the decision calls
 * for. `origin` 'posted': this resource paid for the job; 'adopted': mirrored, never acted on.
 */
export async function followJob(ctx: JobReconcileContext, jobAddress: PublicKey, origin: JobWorld['origin']): Promise<StepOutcome> {
  const ports = await ctx.ports();
  // Tracking puts the job in the watcher's batched poll, so the reconciles that follow it every
  // poll interval read its snapshot and cost no RPC of their own.
  ports.watcher.track(jobAddress);
  const address = jobAddress.toBase58();
  const { world, decision } = await readAndDecide(ctx, ports, address, origin);
  const acted = await act(ctx, ports, world, decision);
  if (acted !== 'changed-chain') return acted;
  // The action changed the chain: look once more, so the status says what it led to. What this
  // second decision asks for is left to the next reconcile: one action per reconcile.
  await ports.watcher.job(jobAddress, { maxAgeMs: 0 });
  const next = await readAndDecide(ctx, ports, address, origin);
  // A repost moves no money (the next reconcile's posting path pays, after its own checks).
  if (next.decision.action.kind === 'repost') return { repost: true };
  // Storing the logs of a job that ended meanwhile moves no money either, and an ended job is not
  // looked at again.
  if (next.decision.action.kind === 'storeLogs') {
    await storeLogs(ctx, address, next.decision.action.ops);
    return {};
  }
  if (next.decision.action.kind !== 'none') return { requeueAfterMs: AFTER_ACTION_MS };
  return next.decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: next.decision.requeueAfterMs };
}

type ActResult = StepOutcome | 'changed-chain';

async function act(ctx: JobReconcileContext, ports: NetworkPorts, world: JobWorld, decision: Decision): Promise<ActResult> {
  const done: StepOutcome = decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: decision.requeueAfterMs };
  const { action } = decision;
  switch (action.kind) {
    case 'none':
      return done;
    case 'repost':
      return { repost: true };
    case 'storeLogs':
      await storeLogs(ctx, world.address, action.ops);
      return done;
    case 'extend':
      return (await extend(ctx, ports, requireJob(world), action.timeoutSeconds)) ? 'changed-chain' : done;
    case 'delist':
    case 'end':
    case 'recover':
      return endJobNow(ctx, ports, requireJob(world), action, done);
  }
}

function requireJob(world: JobWorld): JobView {
  if (world.job === undefined) throw new Error(`job ${world.address} was decided upon without being read`);
  return world.job;
}

/** Sends the transaction that ends the attempt; the intended ending is written first. */
async function endJobNow(
  ctx: JobReconcileContext,
  ports: NetworkPorts,
  job: JobView,
  action: Extract<JobAction, { kind: 'delist' | 'end' | 'recover' }>,
  done: StepOutcome,
): Promise<ActResult> {
  const poster = await posterWallet(ctx, job);
  if ('refused' in poster) {
    refusedToAct(ctx, ports, job, action, poster.refused);
    return done;
  }
  await ctx.writeStatus();
  switch (action.kind) {
    case 'delist':
      ctx.event('Normal', 'Delisted', `no node took the job within spec.queueTimeout: ${await delistJob(ctx, ports, job, poster.wallet)}`);
      break;
    case 'end':
      ctx.event(
        'Warning',
        'NodeSilent',
        `node ${job.run?.account.node.toBase58() ?? '?'} did not finish within the job's timeout and grace period: ${(await endJob(ctx, ports, job, poster.wallet)).message}; waiting for its result`,
      );
      break;
    case 'recover':
      ctx.event('Normal', 'Recovered', `the node quit job ${job.address.toBase58()}: ${await recoverJob(ctx, ports, job, poster.wallet)}`);
      break;
  }
  return 'changed-chain';
}

/** The wallet is not the job's project: the intended ending does not happen, and the status says why. */
function refusedToAct(
  ctx: JobReconcileContext,
  ports: NetworkPorts,
  job: JobView,
  action: Extract<JobAction, { kind: 'delist' | 'end' | 'recover' }>,
  why: string,
): void {
  const address = job.address.toBase58();
  const attempts = (ctx.status.attempts ?? []).map((attempt) => {
    if (attempt.jobAddress !== address) return attempt;
    const { outcome: _intent, ...rest } = attempt;
    void _intent;
    return action.kind === 'recover' ? { ...rest, outcome: 'NodeQuit', endedAt: isoSeconds(ctx.deps.now()) } : rest;
  });
  ctx.status.attempts = attempts;
  switch (action.kind) {
    case 'delist':
      ctx.setPhase('Queued', 'Queued', `spec.queueTimeout has passed but the job cannot be delisted: ${why}`);
      ctx.event('Warning', 'Queued', `spec.queueTimeout has passed but job ${address} cannot be delisted: ${why}`);
      return;
    case 'end':
      ctx.setPhase('Running', 'Running', `the node has not finished past the job's timeout, but the job cannot be ended: ${why}`);
      ctx.event(
        'Warning',
        'Running',
        `the node of job ${address} has not finished past the job's timeout, but the job cannot be ended: ${why}`,
      );
      return;
    case 'recover':
      ports.watcher.forget(job.address);
      ctx.setPhase('Stopped', 'NodeQuit', `the node quit job ${address}; ${why}`);
      ctx.event('Warning', 'NodeQuit', `the node quit job ${address}; ${why}`);
  }
}

/**
 * Pays for a raised spec.timeout, within spec.maxCost and the market's daily spend limit. A
 * refused or failed extension is reported and looked at again at the next poll; it does not stop
 * the mirroring. `extend` takes the new total, so one repeated on a stale read fails rather than
 * charging twice. Returns whether the chain changed.
 */
async function extend(ctx: JobReconcileContext, ports: NetworkPorts, job: JobView, wanted: bigint): Promise<boolean> {
  // The wallet first: an extension that cannot be sent must not be counted as spent.
  const poster = await posterWallet(ctx, job).catch((error: unknown) => ({ refused: (error as Error).message }));
  if ('refused' in poster) {
    ctx.event(
      'Warning',
      'ExtendFailed',
      `raising the timeout of job ${job.address.toBase58()} to ${wanted}s is not possible: ${poster.refused}`,
    );
    return false;
  }
  const refused = await admitExtension(ctx, ports, job, wanted);
  if (refused !== undefined) {
    ctx.event('Warning', 'ExtendRefused', refused);
    return false;
  }
  try {
    ctx.event('Normal', 'TimeoutExtended', await extendJob(ctx, ports, job, poster.wallet, wanted));
    return true;
  } catch (error) {
    ctx.event(
      'Warning',
      'ExtendFailed',
      `raising the timeout of job ${job.address.toBase58()} to ${wanted}s failed: ${(error as Error).message}`,
    );
    return false;
  }
}

/**
 * Writes the logs ConfigMap. When that fails (a quota, missing RBAC) the result already decided
 * is written to the status before the error is passed on for a retry: the job account, and with
 * it the result CID, may be cleaned by anyone a day after the job ended.
 */
async function storeLogs(ctx: JobReconcileContext, address: string, ops: readonly OpOutcome[]): Promise<void> {
  const configMap = buildLogsConfigMap(ctx.object, ops, ctx.deps.options.logsConfigMapMaxBytes);
  const name = configMap.metadata?.name ?? '';
  // A ConfigMap of that name that this NosanaJob does not own is someone else's: never overwrite it.
  const existing = await ctx.deps.reader.getConfigMap({ namespace: ctx.object.metadata?.namespace ?? '', name });
  if (existing !== undefined && !(existing.metadata?.ownerReferences ?? []).some((owner) => owner.uid === ctx.object.metadata?.uid)) {
    ctx.event(
      'Warning',
      'LogsConfigMapTaken',
      `ConfigMap ${name} exists and is not owned by this NosanaJob; the logs of job ${address} stay in status.ops (tails) and on IPFS`,
    );
    delete ctx.status.logsConfigMap;
    return;
  }
  try {
    await ctx.deps.writer.applyObject(configMap);
  } catch (error) {
    const message = `job ${address} ended and its result is stored, but its logs ConfigMap ${name} could not be written: ${(error as Error).message}; retrying`;
    ctx.setPhase('Running', 'Running', message);
    ctx.event('Warning', 'LogsNotStored', message);
    await ctx.writeStatus();
    throw error;
  }
  ctx.status.logsConfigMap = name;
}
