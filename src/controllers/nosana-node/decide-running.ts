// What happens to a run this node holds, or held, before anything is recorded for its ending (the
// run rows of decide.ts's table): it is adopted into the status, started with the executor (also
// after a restart: the chain still shows it, the ops run again from the start), its deadline kept
// in step with the job's timeout, its result pinned once the flow ended; or it is quit when the
// node cannot do the work it would be paid for; or its Pods are stopped when the poster ended the
// job or the run was closed elsewhere. Pure: the acting layer reads and acts.
import type { JobView, RunView } from '../../chain/jobs-client.ts';
import { isoSeconds } from '../../runtime/kube-time.ts';
import {
  NEXT_STEP_MS,
  deadlineOf,
  deliveringMessage,
  endedByPoster,
  forgetRun,
  jobOf,
  nameRun,
  quittingMessage,
  showBusy,
  showIdle,
} from './decision.ts';
import type { ExecutorState, NodeContext, NodeDecision } from './decision.ts';

type BusyExecutor = Exclude<ExecutorState, { state: 'idle' }>;

export function decideRunning(ctx: NodeContext): NodeDecision {
  const { draft, chain, world } = ctx;
  const executor = world.executor;
  delete draft.status.queuePosition;
  const held = chain.run;
  if (executor.state !== 'idle' && held !== undefined && executor.runAddress !== held.address.toBase58())
    return staleExecutor(ctx, executor);
  if (held !== undefined) return decideHeld(ctx, held);
  const runAddress = executor.state === 'idle' ? draft.status.currentRun : executor.runAddress;
  const jobAddress = executor.state === 'idle' ? draft.status.currentJob : executor.jobAddress;
  if (runAddress === undefined) throw new Error('decideRunning needs a run: held, executing or named by the status');
  return decideNotHeld(ctx, runAddress, jobOf(chain, jobAddress), executor);
}

/** The executor still runs a run this node no longer holds (it holds another): stop it, then let it go. */
function staleExecutor(ctx: NodeContext, executor: BusyExecutor): NodeDecision {
  const { draft } = ctx;
  showBusy(ctx, `stopping run ${executor.runAddress}, which this node no longer holds`);
  if (executor.state === 'running') {
    if (executor.stopping !== undefined) return draft.decided({ kind: 'none' }, { afterMs: ctx.settings.pollIntervalMs });
    return draft.decided({ kind: 'stopRun', runAddress: executor.runAddress, why: 'run-lost' }, { afterMs: NEXT_STEP_MS });
  }
  forgetRun(draft, executor.runAddress);
  return draft.decided({ kind: 'releaseRun', runAddress: executor.runAddress }, { afterMs: NEXT_STEP_MS });
}

function decideHeld(ctx: NodeContext, held: RunView): NodeDecision {
  const { draft, world } = ctx;
  const runAddress = held.address.toBase58();
  const jobAddress = held.account.job.toBase58();
  const adopting = draft.status.currentRun !== runAddress;
  nameRun(draft, runAddress, jobAddress, held);
  if (adopting) {
    // Adopted before anything is signed for it: the status write that later counts its ending is
    // the one that stops naming it, so a restart can never count it twice. A run ready to start
    // is started in the same reconcile, right after that write (statusFirst: its Pods never exist
    // unnamed), a reconcile sooner; anything else (a quit) waits for the next look. With the
    // executor idle the run's own decision adds no Event or error to the draft, only its message.
    draft.event('Normal', 'Claimed', `node ${ctx.address} holds job ${jobAddress} (run ${runAddress})`);
    if (world.executor.state === 'idle') {
      const decision = decideHeldRun(ctx, held);
      if (decision.action.kind === 'startRun') return { ...decision, statusFirst: true };
    }
    showBusy(ctx, `running job ${jobAddress}`);
    return draft.decided({ kind: 'none' }, { afterMs: NEXT_STEP_MS });
  }
  return decideHeldRun(ctx, held);
}

/** A held run the status names (or names with this decision's write): start, follow, pin or quit it. */
function decideHeldRun(ctx: NodeContext, held: RunView): NodeDecision {
  const { draft, chain, world, settings } = ctx;
  const runAddress = held.address.toBase58();
  const jobAddress = held.account.job.toBase58();
  const executor = world.executor;
  const job = jobOf(chain, jobAddress);
  if (job === undefined) {
    showBusy(ctx, `running job ${jobAddress}; its job account could not be read`);
    return draft.decided({ kind: 'none' }, { backoff: true });
  }
  const deadlineMs = deadlineOf(held, job);
  const pastDeadline = settings.now.getTime() >= deadlineMs;
  const quit = (reason: string): NodeDecision => {
    showBusy(ctx, quittingMessage(jobAddress, reason));
    return draft.decided({ kind: 'prepare', ending: 'quit', jobAddress, runAddress, reason, failures: 0 }, { afterMs: NEXT_STEP_MS });
  };
  const start = (): NodeDecision => {
    // Runs only where and as the node joined, and only where the containment still allows.
    if (world.placementRefusal !== undefined) return quit(`the agent's containment refuses where it would run: ${world.placementRefusal}`);
    const joined = draft.status.joinedPlacement;
    if (joined !== undefined && joined !== world.placement)
      return quit(
        "the NosanaNode's placement (job namespace, GPUs, limits, exposure) changed after it joined the queue; a claimed job runs only as the node joined",
      );
    // The message it keeps while it runs: starting is no status write of its own.
    showBusy(ctx, `running job ${jobAddress} until ${iso(deadlineMs)}`);
    return draft.decided({ kind: 'startRun', jobAddress, runAddress, deadlineMs }, { afterMs: NEXT_STEP_MS });
  };
  switch (executor.state) {
    case 'idle':
      return pastDeadline ? quit(`it expired at ${iso(deadlineMs)} before it started; nothing was run`) : start();
    case 'start-failed': {
      draft.error(`the definition of job ${jobAddress} could not be fetched: ${executor.error}`);
      if (pastDeadline) return quit(`its definition could not be fetched before its deadline (${executor.error}); nothing was run`);
      const dueMs = executor.atMs + settings.startRetryMs;
      if (settings.now.getTime() < dueMs) {
        showBusy(ctx, `job ${jobAddress}: its definition could not be fetched (${executor.error}); trying again at ${iso(dueMs)}`);
        return draft.decided({ kind: 'none' }, { afterMs: Math.max(NEXT_STEP_MS, dueMs - settings.now.getTime()) });
      }
      draft.event(
        'Warning',
        'DefinitionUnavailable',
        `the definition of job ${jobAddress} could not be fetched (${executor.error}); trying again`,
      );
      return start();
    }
    case 'too-large':
      return quit(`its plan needs ${executor.gpusNeeded} GPUs at once and the cluster offers this node ${executor.gpusAvailable}`);
    case 'cluster-failure':
      draft.error(`the cluster failed job ${jobAddress} (${executor.cause}, op ${executor.opId}): ${executor.message}`);
      return quit(`the cluster failed it, not the job (${executor.cause}, op ${executor.opId}): ${executor.message}`);
    case 'running':
      if (executor.deadlineMs !== deadlineMs) {
        showBusy(ctx, `running job ${jobAddress} until ${iso(deadlineMs)}`);
        return draft.decided({ kind: 'moveDeadline', runAddress, deadlineMs }, { afterMs: NEXT_STEP_MS });
      }
      showBusy(ctx, `running job ${jobAddress} until ${iso(deadlineMs)}`);
      return draft.decided({ kind: 'none' }, { afterMs: settings.pollIntervalMs });
    case 'ended':
      showBusy(ctx, deliveringMessage(jobAddress, executor.flow.status));
      return draft.decided({ kind: 'pinResult', jobAddress, runAddress, flow: executor.flow }, { afterMs: NEXT_STEP_MS });
  }
}

/**
 * The run is not held on chain (a finalized read agrees): the poster ended the job (`end` closes
 * the run; the node may still deliver its result with `complete`), or the run was closed some
 * other way and nothing can be sent for it.
 */
function decideNotHeld(ctx: NodeContext, runAddress: string, job: JobView | undefined, executor: ExecutorState): NodeDecision {
  const { draft, settings } = ctx;
  const jobAddress = job?.address.toBase58() ?? draft.status.currentJob ?? (executor.state === 'idle' ? '?' : executor.jobAddress);
  const byPoster = endedByPoster(job);
  const why = byPoster ? `its poster ended job ${jobAddress}` : `run ${runAddress} of job ${jobAddress} was closed elsewhere`;
  if (executor.state === 'running') {
    showBusy(ctx, `${why}; stopping its Pods`);
    if (executor.stopping !== undefined) return draft.decided({ kind: 'none' }, { afterMs: settings.pollIntervalMs });
    const reason = byPoster ? 'JobEnded' : 'RunLost';
    draft.event(byPoster ? 'Normal' : 'Warning', reason, `${why}; its Pods are stopped`);
    return draft.decided({ kind: 'stopRun', runAddress, why: byPoster ? 'job-ended' : 'run-lost' }, { afterMs: NEXT_STEP_MS });
  }
  if (executor.state === 'ended' && byPoster) {
    showBusy(ctx, `${why}; pinning its result for complete`);
    return draft.decided({ kind: 'pinResult', jobAddress, runAddress, flow: executor.flow }, { afterMs: NEXT_STEP_MS });
  }
  // Nothing ran that could be delivered: the run is over for this node, unpaid by it.
  forgetRun(draft, runAddress);
  showIdle(ctx, `${why}; nothing is left to deliver`);
  draft.event(byPoster ? 'Normal' : 'Warning', byPoster ? 'JobEnded' : 'RunLost', `${why}; no result is delivered for it`);
  return draft.decided({ kind: 'releaseRun', runAddress }, { afterMs: NEXT_STEP_MS });
}

function iso(ms: number): string {
  return isoSeconds(new Date(ms));
}
