// The parts every stage's thin acting layer shares: the settings a decision is made with, taking a
// decision into the reconcile (its status, its Events, when to look again), and sending the
// transaction that ends a job (delist, end, recover) after checking what only the moment of acting
// can tell, that the wallet is the job's project, and writing the intended ending first.
import type { NetworkName } from '../../chain/addresses.ts';
import type { JobView } from '../../chain/jobs-client.ts';
import { findCondition } from '../../runtime/conditions.ts';
import { keyOf, keyString } from '../../runtime/types.ts';
import type { ItemBackoff } from '../../runtime/work-queue.ts';
import type { NetworkPorts } from '../network-ports.ts';
import { delistJob, endJob, posterWallet, recoverJob } from './chain-actions.ts';
import type { JobReconcileContext, StepOutcome } from './context.ts';
import type { ChainAction, Decision, DecisionSettings } from './decision.ts';
import { isoSeconds, updateAttempt } from './job-status.ts';
import { durationSeconds, maxCostBaseUnits } from './spec-values.ts';

/** The spec and the controller's options as a decision takes them; `network` names the chain the ports reach. */
export function decisionSettings(ctx: JobReconcileContext, network: NetworkName | undefined): DecisionSettings {
  const { spec, metadata } = ctx.object;
  const { options } = ctx.deps;
  const maxCost = maxCostBaseUnits(spec);
  return {
    now: ctx.deps.now(),
    ...(metadata?.generation === undefined ? {} : { generation: metadata.generation }),
    name: metadata?.name ?? '',
    ...(spec.timeout === undefined ? {} : { wantedTimeout: durationSeconds(spec.timeout, 'spec.timeout') }),
    ...(spec.queueTimeout === undefined
      ? {}
      : { queueTimeout: { ms: Number(durationSeconds(spec.queueTimeout, 'spec.queueTimeout')) * 1000, text: String(spec.queueTimeout) } }),
    ...(maxCost === undefined ? {} : { maxCost }),
    allowPublicCredentials: spec.allowPublicCredentials === true,
    toNode: spec.node !== undefined,
    deletionPolicy: spec.deletionPolicy === 'Orphan' ? 'Orphan' : 'Cancel',
    retries: spec.retries ?? 2,
    deadNodeGraceMs: options.deadNodeGraceMs,
    resultWaitMs: options.resultWaitMs,
    pollIntervalMs: options.pollIntervalMs,
    logTailMaxBytes: options.logTailMaxBytes,
    ...(network === undefined ? {} : { network }),
  };
}

/** Takes the decision's status into the reconcile; returns when to look again. */
export function takeDecision(ctx: JobReconcileContext, decision: Decision, backoff: ItemBackoff): StepOutcome {
  ctx.status = decision.status;
  return requeueOf(ctx, decision, backoff);
}

/** Records the decision's Events (after the action they announce, where there is one). */
export function recordEvents(ctx: JobReconcileContext, decision: Decision): void {
  for (const event of decision.events) ctx.event(event.type, event.reason, event.note);
}

export function requeueOf(ctx: JobReconcileContext, decision: Decision, backoff: ItemBackoff): StepOutcome {
  if (decision.backoff === true) return { requeueAfterMs: backoff.next(keyString(keyOf(ctx.object))) };
  return decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: decision.requeueAfterMs };
}

/**
 * Sends the transaction that ends the job, the intended ending (already in the working status)
 * written first. Returns false when the wallet is not the job's project: nothing was sent, and
 * the status and Events say why.
 */
export async function sendEnding(
  ctx: JobReconcileContext,
  ports: NetworkPorts,
  job: JobView,
  action: ChainAction,
  /** Runs once the wallet may send it, just before the intent is written. */
  beforeSend?: () => void,
): Promise<boolean> {
  const poster = await posterWallet(ctx, job);
  if ('refused' in poster) {
    refusedToEnd(ctx, ports, job, action, poster.refused);
    return false;
  }
  beforeSend?.();
  await ctx.writeStatus();
  const address = job.address.toBase58();
  const done = async (): Promise<string> => {
    switch (action.kind) {
      case 'delist':
        return delistJob(ctx, ports, job, poster.wallet);
      case 'end':
        return (await endJob(ctx, ports, job, poster.wallet)).message;
      case 'recover':
        return recoverJob(ctx, ports, job, poster.wallet);
    }
  };
  switch (action.ending) {
    case 'QueueTimeout':
      ctx.event('Normal', 'Delisted', `no node took the job within spec.queueTimeout: ${await done()}`);
      break;
    case 'NodeSilent':
      ctx.event(
        'Warning',
        'NodeSilent',
        `node ${job.run?.account.node.toBase58() ?? '?'} did not finish within the job's timeout and grace period: ${await done()}; waiting for its result`,
      );
      break;
    case 'NodeQuit':
      ctx.event('Normal', 'Recovered', `the node quit job ${address}: ${await done()}`);
      break;
    case 'PriceAboveMaxCost':
      ctx.event('Warning', 'PriceAboveMaxCost', `${readyMessage(ctx)}: ${await done()}`);
      break;
    case 'Cancelled':
      ctx.event('Normal', 'Cancelled', await done());
      break;
  }
  return true;
}

function readyMessage(ctx: JobReconcileContext): string {
  return findCondition(ctx.status.conditions, 'Ready')?.message ?? '';
}

/** The wallet is not the job's project: the intended ending does not happen, and the status says why. */
function refusedToEnd(ctx: JobReconcileContext, ports: NetworkPorts, job: JobView, action: ChainAction, why: string): void {
  const address = job.address.toBase58();
  if (action.ending === 'PriceAboveMaxCost') {
    // Nothing is written: the landed job stays recorded as in flight until it can be taken back.
    throw new Error(`${readyMessage(ctx)}, but it cannot be taken back: ${why}`);
  }
  // The ending was only intended: the attempt is as it was before the decision (an earlier ending
  // it recorded included), except that a node that quit did end it, unrecovered.
  const before = ctx.object.status?.attempts?.find((attempt) => attempt.jobAddress === address);
  const attempts = ctx.status.attempts ?? [];
  ctx.status = {
    ...ctx.status,
    attempts:
      before === undefined
        ? attempts.filter((attempt) => attempt.jobAddress !== address)
        : attempts.map((attempt) => (attempt.jobAddress === address ? before : attempt)),
  };
  if (action.ending === 'NodeQuit') updateAttempt(ctx, job.address, { outcome: 'NodeQuit', endedAt: isoSeconds(ctx.deps.now()) });
  switch (action.ending) {
    case 'QueueTimeout':
      ctx.setPhase('Queued', 'Queued', `spec.queueTimeout has passed but the job cannot be delisted: ${why}`);
      ctx.event('Warning', 'Queued', `spec.queueTimeout has passed but job ${address} cannot be delisted: ${why}`);
      return;
    case 'NodeSilent':
      ctx.setPhase('Running', 'Running', `the node has not finished past the job's timeout, but the job cannot be ended: ${why}`);
      ctx.event(
        'Warning',
        'Running',
        `the node of job ${address} has not finished past the job's timeout, but the job cannot be ended: ${why}`,
      );
      return;
    case 'NodeQuit':
      ports.watcher.forget(job.address);
      ctx.setPhase('Stopped', 'NodeQuit', `the node quit job ${address}; ${why}`);
      ctx.event('Warning', 'NodeQuit', `the node quit job ${address}; ${why}`);
      return;
    case 'Cancelled':
      // This resource paid for the job, and only its project can cancel it: letting the finalizer
      // go would leave a paid job running. Wait for the wallet to be right again, or for a person
      // to set deletionPolicy Orphan.
      ctx.event(
        'Warning',
        'CancelBlocked',
        `job ${address} cannot be cancelled: ${why}; set spec.deletionPolicy to Orphan to leave it on chain`,
      );
  }
}
