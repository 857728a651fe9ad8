// Whether a node with no run joins its market's queue, stays in it, or leaves it (the idle rows
// of decide.ts's table). Every check that can keep the node out runs on what was read, before
// anything is spent; each one that fails is a condition of its own, so a market that needs more
// stake or an access key is reported, never a silent failure. Joining is capacity-aware: the node
// is in the queue only while the cluster could schedule one more of its jobs now.
import type { MarketView } from '../../chain/jobs-client.ts';
import { NEXT_STEP_MS } from './decision.ts';
import type { NodeContext, NodeDecision } from './decision.ts';
import { showIdle } from './decision.ts';

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

  if (position !== undefined) {
    // In the queue, the chain accepted the node: its stake and access key are good enough.
    draft.problem('StakeBelowMinimum', undefined);
    draft.problem('AccessKeyRequired', undefined);
    reportCapacity(ctx);
    if (!world.capacity.fits) {
      showIdle(ctx, `leaving the queue of market ${marketName}: the cluster has no room for a job now (see NoCapacity)`);
      return draft.decided({ kind: 'leaveQueue', market: addressOf(market) }, { afterMs: NEXT_STEP_MS });
    }
    draft.status.queuePosition = position;
    draft.setPhase('Queued', 'Queued', `in the queue of market ${marketName}, waiting for a job`);
    return draft.decided({ kind: 'none' }, { afterMs: settings.pollIntervalMs });
  }

  const { stake } = chain.accounts;
  const xnos = stake?.xnos ?? 0n;
  const minimum = market.account.nodeXnosMinimum;
  draft.problem(
    'StakeBelowMinimum',
    xnos < minimum
      ? `market ${marketName} asks for a stake of at least ${minimum} xNOS; node ${address} has ${xnos}: stake NOS to serve it`
      : undefined,
  );
  draft.problem(
    'AccessKeyRequired',
    chain.accessKey === 'missing'
      ? `market ${marketName} admits only nodes holding an access key of collection ${market.account.nodeAccessKey.toBase58()}; node ${address} holds none`
      : undefined,
  );
  reportCapacity(ctx);

  if (chain.balances.lamports < settings.lowBalanceLamports) {
    showIdle(ctx, `waiting for SOL before joining market ${marketName} (see the LowBalance condition)`);
    return draft.decided({ kind: 'none' }, { backoff: true });
  }
  if (xnos < minimum)
    return blocked(ctx, undefined, `node ${address} has too little stake for market ${marketName} (see StakeBelowMinimum)`);
  if (chain.accessKey === 'missing')
    return blocked(ctx, undefined, `node ${address} holds no access key for market ${marketName} (see AccessKeyRequired)`);
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
    showIdle(ctx, `waiting for room in the cluster before joining market ${marketName} (see NoCapacity)`);
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
  return draft.decided({ kind: 'joinQueue', market: addressOf(market) }, { afterMs: NEXT_STEP_MS });
}

/** NoCapacity follows the capacity verdict; its reason is the verdict's cause. */
function reportCapacity(ctx: NodeContext): void {
  const { capacity } = ctx.world;
  if (capacity.fits) ctx.draft.problem('NoCapacity', undefined);
  else ctx.draft.problem('NoCapacity', `the cluster cannot run one more job of this node now: ${capacity.reason}`, capacity.cause);
}

/** The node's place in the market's queue (0 is next), when it is in it. */
function queuePosition(market: MarketView, address: string): number | undefined {
  const index = market.account.queue.findIndex((entry) => entry.toBase58() === address);
  return index < 0 ? undefined : index;
}

function addressOf(market: MarketView): string {
  return market.address.toBase58();
}

/** The node cannot serve until someone (or the chain) changes something: Error, looked at again now and then. */
function blocked(ctx: NodeContext, problem: 'MarketUnavailable' | undefined, message: string): NodeDecision {
  if (problem !== undefined) ctx.draft.problem(problem, message);
  ctx.draft.setPhase('Error', 'NodeError', message);
  return ctx.draft.decided({ kind: 'none' }, { afterMs: ctx.settings.recheckMs });
}
