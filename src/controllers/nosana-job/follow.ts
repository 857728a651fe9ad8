// Following a job that exists (or existed) on chain: read (job-world.ts), decide (decide.ts), act
// (here). The acting layer is thin: it checks what only the moment of acting can tell (that the
// wallet is the job's project, that an extension fits the budget and the spend limit), writes the
// ending it is about to cause before the transaction, sends it, and reads once more so the
// status shows what the chain did. Nothing here decides a phase; what the action leads to is the
// next decision's.
import { PublicKey } from '@solana/web3.js';
import { JOB_ADDRESS_ANNOTATION } from '../../api/annotations.ts';
import type { JobView } from '../../chain/jobs-client.ts';
import { listCharge } from '../../chain/money.ts';
import type { ItemBackoff } from '../../runtime/work-queue.ts';
import { keyOf } from '../../runtime/types.ts';
import type { NetworkPorts } from '../network-ports.ts';
import { decisionSettings, recordEvents, requeueOf, sendEnding, takeDecision } from './act.ts';
import { killPoint } from '../../runtime/kill-points.ts';
import { extendJob, posterWallet } from './chain-actions.ts';
import type { JobReconcileContext, StepOutcome } from './context.ts';
import { decide } from './decide.ts';
import type { Decision, FollowOrigin, FollowWorld } from './decision.ts';
import { readJobWorld } from './job-world.ts';
import { buildLogsConfigMap } from './logs-configmap.ts';
import { mayPay } from './may-pay.ts';
import { isRefusal } from './refusal.ts';
import { resolveMarketReference } from './resolve.ts';
import type { OpOutcome } from './result.ts';
import { asSpends, extensionEntryKey, ledgerFor, readLedger, writeLedger } from './spend-ledger.ts';
import { maxCostBaseUnits } from './spec-values.ts';

// After an action, the next look comes soon: the chain changed, and the status should say how.
const AFTER_ACTION_MS = 1_000;

// A repost starts from the posting path at once.
const REPOST_MS = 500;

/** Reads and decides, and takes the decision's status and Events into the reconcile. */
async function readAndDecide(
  ctx: JobReconcileContext,
  ports: NetworkPorts,
  address: string,
  origin: FollowOrigin,
): Promise<{ world: FollowWorld; decision: Decision }> {
  const world = await readJobWorld(ctx, ports, address, origin);
  const decision = decide(ctx.status, world, decisionSettings(ctx, ports.settings.name));
  if (decision.forget) ports.watcher.forget(new PublicKey(address));
  return { world, decision };
}

/**
 * Mirrors the job at `jobAddress` into ctx.status and performs the one action the decision calls
 * for. `origin` 'posted': this resource paid for the job; 'adopted': mirrored, never acted on.
 */
export async function followJob(
  ctx: JobReconcileContext,
  backoff: ItemBackoff,
  jobAddress: PublicKey,
  origin: FollowOrigin,
): Promise<StepOutcome> {
  const ports = await ctx.ports();
  // Tracking puts the job in the watcher's batched poll, so the reconciles that follow it every
  // poll interval read its snapshot and cost no RPC of their own, and has this NosanaJob woken
  // when the chain's websocket tells of a change.
  ports.watcher.track(jobAddress, keyOf(ctx.object));
  const address = jobAddress.toBase58();
  const { world, decision } = await readAndDecide(ctx, ports, address, origin);
  const done = takeDecision(ctx, decision, backoff);
  recordEvents(ctx, decision);
  const acted = await act(ctx, ports, world, decision.action, done);
  if (acted !== 'changed-chain') return acted;
  // The action changed the chain: look once more, so the status says what it led to. What this
  // second decision asks for is left to the next reconcile (one action per reconcile), except
  // what moves no money: a repost only clears the job address (the next reconcile's posting path
  // pays, after its own checks), and the logs of a job that ended meanwhile are stored now (an
  // ended job is not looked at again).
  await ports.watcher.job(jobAddress, { maxAgeMs: 0 });
  const next = await readAndDecide(ctx, ports, address, origin);
  const after = takeDecision(ctx, next.decision, backoff);
  recordEvents(ctx, next.decision);
  const { action } = next.decision;
  if (action.kind === 'repost' || action.kind === 'storeLogs') return act(ctx, ports, next.world, action, after) as Promise<StepOutcome>;
  if (action.kind !== 'none') return { requeueAfterMs: AFTER_ACTION_MS };
  return requeueOf(ctx, next.decision, backoff);
}

type ActResult = StepOutcome | 'changed-chain';

async function act(
  ctx: JobReconcileContext,
  ports: NetworkPorts,
  world: FollowWorld,
  action: Decision['action'],
  done: StepOutcome,
): Promise<ActResult> {
  switch (action.kind) {
    case 'repost':
      // The attempt is over and retries remain: without the job-address annotation the next
      // reconcile takes the posting path and posts a fresh job.
      await ctx.patchMetadata({ annotations: { [JOB_ADDRESS_ANNOTATION]: null } });
      return { requeueAfterMs: REPOST_MS };
    case 'storeLogs':
      await storeLogs(ctx, world.address, action.ops);
      return done;
    case 'extend':
      return (await extend(ctx, ports, requireJob(world), action.timeoutSeconds)) ? 'changed-chain' : done;
    case 'delist':
    case 'end':
    case 'recover':
      return (await sendEnding(ctx, ports, requireJob(world), action)) ? 'changed-chain' : done;
    default:
      return done;
  }
}

function requireJob(world: FollowWorld): JobView {
  if (world.job === undefined) throw new Error(`job ${world.address} was decided upon without being read`);
  return world.job;
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
  // counted, not yet paid: a restart pays it once (the entry is keyed by the new timeout)
  killPoint('extend:after-ledger');
  try {
    const message = await extendJob(ctx, ports, job, poster.wallet, wanted);
    // paid and confirmed, the status not written: a restart reads the raised timeout and pays nothing
    killPoint('extend:after-send');
    ctx.event('Normal', 'TimeoutExtended', message);
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

/**
 * Why raising the timeout of `job` to `wanted` seconds may not be paid for (may-pay.ts); undefined
 * when it may, in which case the extension has been counted in the market's spend ledger before
 * it is paid, like a post: a crash after the payment must not leave it uncounted.
 */
async function admitExtension(ctx: JobReconcileContext, ports: NetworkPorts, job: JobView, wanted: bigint): Promise<string | undefined> {
  const network = ports.settings.name;
  const { price, timeout, market } = job.account;
  const address = job.address.toBase58();
  const total = listCharge(network, price, wanted);
  const charge = total - listCharge(network, price, timeout);
  const maxCost = maxCostBaseUnits(ctx.object.spec);
  const payment = {
    kind: 'extend',
    job: address,
    fromSeconds: timeout,
    toSeconds: wanted,
    total,
    charge,
    ...(maxCost === undefined ? {} : { maxCost }),
  } as const;
  // The limit that applies is the one of the market the job is in, as its NosanaMarket says.
  const reference = resolveMarketReference(ctx.object, ctx.deps.markets);
  const ledger = isRefusal(reference) || !reference.address.equals(market) ? undefined : ledgerFor(reference, ctx.object);
  if (ledger === undefined) return mayPay(payment, ctx.deps.now()).refusal?.message;
  const now = ctx.deps.now();
  try {
    const read = await readLedger(ctx.deps.reader, ledger.location);
    const answer = mayPay({ ...payment, daily: { limit: ledger.limit, spends: asSpends(read.entries), market: market.toBase58() } }, now);
    if (answer.refusal !== undefined) return answer.refusal.message;
    const key = extensionEntryKey(ctx.object.metadata?.namespace ?? '', ctx.object.metadata?.name ?? '', address, wanted);
    // Counted already (an earlier try that did not go through): counted once, at its first time.
    if (read.entries.some((entry) => entry.key === key)) return undefined;
    await writeLedger(ctx.deps.writer, ledger.location, read, now, { add: { key, job: address, amount: charge, at: now } });
  } catch (error) {
    return `raising the timeout of job ${address} from ${timeout}s to ${wanted}s waits: the daily spend limit cannot be checked (${(error as Error).message})`;
  }
  return undefined;
}
