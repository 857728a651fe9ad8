// Whether a node with no run joins its market's queue, stays in it, or leaves it (the idle rows
// of decide.ts's table). Every check that can keep the node out runs on what was read, before
// anything is spent; each one that fails is a condition of its own, so a market that needs more
// stake or an access key is reported, never a silent failure. What needs a person (the market,
// the stake, an access key) is shown before what only needs SOL or time, so that a node that will
// not get in by waiting reads as stalled. Joining is capacity-aware: the node is in the queue only
// while the cluster could schedule one more of its jobs now.
import type { MarketView } from '../../chain/jobs-client.ts';
import { formatNos } from '../../chain/money.ts';
import type { CapacityVerdict } from './capacity.ts';
import { NEXT_STEP_MS, lowBalanceNote, showIdle } from './decision.ts';
import type { NodeContext, NodeDecision, NodeProblem, NodeStall } from './decision.ts';

/** A market whose job type is this is disabled: `work` would not queue the node. */
const DISABLED_JOB_TYPE = 255;

export function decideIdle(ctx: NodeContext): NodeDecision {
  const { draft, chain, world, settings, address } = ctx;
  const { market } = chain;
  const marketName = world.node.spec.market;
  delete draft.status.queuePosition;
  const found = 'missing' in market ? undefined : market;
  const position = found === undefined ? undefined : queuePosition(found, address);

  if (ctx.draining !== undefined) {
    if (found !== undefined && position !== undefined) {
      draft.setPhase(
        'Draining',
        'Draining',
        `leaving the queue of market ${marketName} (${ctx.draining === 'paused' ? 'spec.paused' : 'being deleted'})`,
      );
      return draft.decided({ kind: 'leaveQueue', market: addressOf(found) }, { afterMs: NEXT_STEP_MS });
    }
    if (ctx.draining === 'deleting') {
      showIdle(ctx, 'out of the queue with no run: the resource can go');
      return draft.decided({ kind: 'removeFinalizer' });
    }
    showIdle(ctx, 'out of the queue');
    // Unpausing is an edit of the object, which triggers the next reconcile.
    return draft.decided({ kind: 'none' });
  }

  if ('missing' in market) return blocked(ctx, 'MarketUnavailable', `market ${marketName} cannot be served: ${market.missing}`);
  if (market.account.jobType === DISABLED_JOB_TYPE)
    return blocked(ctx, 'MarketUnavailable', `market ${marketName} is disabled (job type ${DISABLED_JOB_TYPE}): it queues no node`);
  draft.problem('MarketUnavailable', undefined);

  draft.problem('PlacementRefused', world.placementRefusal);
  if (world.placementRefusal !== undefined) {
    // A job taken now would run where, or as, the containment forbids: out of the queue first.
    if (position !== undefined) {
      draft.setPhase('Error', 'PlacementRefused', `leaving the queue of market ${marketName}: ${world.placementRefusal}`);
      return draft.decided({ kind: 'leaveQueue', market: addressOf(market) }, { afterMs: NEXT_STEP_MS });
    }
    draft.stall('PlacementRefused', world.placementRefusal);
    return draft.decided({ kind: 'none' }, { afterMs: settings.recheckMs });
  }

  if (position !== undefined) {
    // In the queue, the chain accepted the node: its stake and access key are good enough.
    draft.problem('StakeBelowMinimum', undefined);
    draft.problem('AccessKeyRequired', undefined);
    reportCapacity(ctx);
    if (!world.capacity.fits) {
      // Whatever the cause: a node in the queue is handed a job at once, and must be able to run it.
      draft.setPhase('Idle', 'NoCapacity', `leaving the queue of market ${marketName}: ${capacityNote(world.capacity)}`);
      return draft.decided({ kind: 'leaveQueue', market: addressOf(market) }, { afterMs: NEXT_STEP_MS });
    }
    draft.status.queuePosition = position;
    draft.setPhase('Queued', 'Queued', `in the queue of market ${marketName}, waiting for a job`);
    return draft.decided({ kind: 'none' }, { afterMs: settings.pollIntervalMs });
  }

  const { stake } = chain.accounts;
  const xnos = stake?.xnos ?? 0n;
  const minimum = market.account.nodeXnosMinimum;
  const stakeProblem =
    xnos < minimum
      ? `market ${marketName} asks for a stake of at least ${formatNos(minimum)} xNOS; node ${address} has ${formatNos(xnos)}: stake NOS to serve it`
      : undefined;
  // Every gated market reads 'missing' while a node's NFTs are not read (chain-reader.ts): the
  // message says so instead of claiming the node holds none.
  const accessKeyProblem =
    chain.accessKey === 'missing'
      ? `market ${marketName} admits only nodes holding an access key (an NFT of collection ${market.account.nodeAccessKey.toBase58()}); this agent does not check or present access keys yet, so node ${address} does not join it`
      : undefined;
  draft.problem('StakeBelowMinimum', stakeProblem);
  draft.problem('AccessKeyRequired', accessKeyProblem);
  reportCapacity(ctx);

  if (stakeProblem !== undefined) return blocked(ctx, 'StakeBelowMinimum', stakeProblem);
  if (accessKeyProblem !== undefined) return blocked(ctx, 'AccessKeyRequired', accessKeyProblem);
  const lowBalance = lowBalanceNote(address, chain.balances.lamports, settings.lowBalanceLamports);
  if (lowBalance !== undefined) {
    draft.setPhase('Idle', 'LowBalance', `not joining market ${marketName}: ${lowBalance}`);
    return draft.decided({ kind: 'none' }, { backoff: true });
  }
  if (!chain.accounts.nosAccount || stake === undefined) {
    showIdle(
      ctx,
      `creating the node's ${!chain.accounts.nosAccount ? 'NOS token account' : 'stake account'} before joining market ${marketName}`,
    );
    return draft.decided(
      { kind: 'ensureAccounts', nosAccount: !chain.accounts.nosAccount, stake: stake === undefined },
      { afterMs: NEXT_STEP_MS },
    );
  }
  if (!world.capacity.fits) {
    draft.setPhase('Idle', 'NoCapacity', `not joining market ${marketName}: ${capacityNote(world.capacity)}`);
    return draft.decided({ kind: 'none' }, { afterMs: settings.pollIntervalMs });
  }
  const sinceJoin = world.lastJoinAt === undefined ? Infinity : settings.now.getTime() - world.lastJoinAt.getTime();
  if (sinceJoin < settings.joinSettleMs) {
    // `work` taken twice could claim two jobs: the last one must show (queued or a run) first.
    showIdle(ctx, `joined market ${marketName}; waiting for the chain to show it`);
    return draft.decided({ kind: 'none' }, { afterMs: Math.max(NEXT_STEP_MS, settings.joinSettleMs - sinceJoin) });
  }
  showIdle(ctx, `joining the queue of market ${marketName}`);
  draft.event('Normal', 'Joined', `node ${address} sent work to market ${marketName}: it joins the queue, or takes the first job waiting`);
  // A job claimed from this join runs only as the node is now (decide-running.ts checks it).
  draft.status.joinedPlacement = world.placement;
  return draft.decided({ kind: 'joinQueue', market: addressOf(market) }, { afterMs: NEXT_STEP_MS });
}

/** NoCapacity follows the capacity verdict: its reason is the verdict's cause, its message the verdict's reason. */
function reportCapacity(ctx: NodeContext): void {
  const { capacity } = ctx.world;
  ctx.draft.problem('NoCapacity', capacity.fits ? undefined : capacityNote(capacity), capacity.fits ? undefined : capacity.cause);
}

/**
 * What keeps the node out, by cause: GPUs busy now free up by themselves; no suitable node or
 * GPUs that cannot be counted usually take a person (a nodeSelector, a device plugin, a
 * DeviceClass), and an unknown count is not a full cluster, so it is not called one.
 */
function capacityNote(verdict: Extract<CapacityVerdict, { fits: false }>): string {
  switch (verdict.cause) {
    case 'GpusInUse':
      return `the cluster has no room for one more job of this node now: ${verdict.reason}`;
    case 'NoSuitableNode':
      return `no node of the cluster can run a job of this node: ${verdict.reason}`;
    case 'CapacityUnknown':
      return `whether the cluster has room for a job of this node cannot be judged: ${verdict.reason}`;
  }
}

/** The node's place in the market's queue (0 is next), when it is in it. */
function queuePosition(market: MarketView, address: string): number | undefined {
  const index = market.account.queue.findIndex((entry) => entry.toBase58() === address);
  return index < 0 ? undefined : index;
}

function addressOf(market: MarketView): string {
  return market.address.toBase58();
}

/**
 * The node cannot serve until someone (or the chain) changes something: the condition holds, and
 * it is the Error's reason; looked at again now and then (nothing in the cluster announces it).
 */
function blocked(ctx: NodeContext, reason: Extract<NodeStall, NodeProblem>, message: string): NodeDecision {
  ctx.draft.problem(reason, message);
  ctx.draft.stall(reason, message);
  return ctx.draft.decided({ kind: 'none' }, { afterMs: ctx.settings.recheckMs });
}
