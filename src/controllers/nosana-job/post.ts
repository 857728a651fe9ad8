// The posting path: every check that can refuse a post runs before anything is pinned or paid,
// then the create-once protocol. The signed post is recorded in the NosanaJob's pending-post
// annotation with a resourceVersion precondition BEFORE it is broadcast: if the informer cache
// was stale (the job already has a post in flight) the write fails and nothing is broadcast, and
// a crash at any instant leaves either no record (nothing was sent) or a record the next
// reconcile resolves (pending-post.ts). Either way one NosanaJob never pays for two jobs.
import { PublicKey } from '@solana/web3.js';
import type { Keypair } from '@solana/web3.js';
import { JOB_ADDRESS_ANNOTATION, PENDING_POST_ANNOTATION } from '../../api/annotations.ts';
import type { MarketView, PendingPost } from '../../chain/jobs-client.ts';
import { formatNos, listCharge } from '../../chain/money.ts';
import { TransactionFailedError } from '../../chain/transaction-sender.ts';
import { cidToBytes32 } from '../../ipfs/cid.ts';
import { encodeJsonForPinning } from '../../ipfs/json.ts';
import { computeCidV0 } from '../../ipfs/unixfs.ts';
import { setCondition } from '../../runtime/conditions.ts';
import { killPoint } from '../../runtime/kill-points.ts';
import { StaleObjectError, keyOf, keyString } from '../../runtime/types.ts';
import type { NetworkPorts } from '../network-ports.ts';
import { attemptsToSearch, boundDefinition, findBoundJobs, nextBindingAttempt } from './binding.ts';
import type { BoundJob } from './binding.ts';
import type { JobReconcileContext, StepOutcome } from './context.ts';
import { isoSeconds, updateAttempt } from './job-status.ts';
import { findPublicCredentials, publicCredentialsMessage } from './credentials.ts';
import { assessFunds, budgetRefusal, marketRefusal } from './guards.ts';
import { applyRefusal, isRefusal, refusal } from './refusal.ts';
import type { Refusal } from './refusal.ts';
import type { ItemBackoff } from '../../runtime/work-queue.ts';
import { resolveDefinition, resolveMarketReference } from './resolve.ts';
import type { MarketReference } from './resolve.ts';
import { asSpends, ledgerFor, postEntryKey, readLedger, takeBack, writeLedger } from './spend-ledger.ts';
import type { LedgerLocation, LedgerRead } from './spend-ledger.ts';
import { spendLimitRefusal } from './spend-limit.ts';
import { jobTimeoutSeconds, maxCostBaseUnits } from './spec-values.ts';
import { WalletProblem } from './wallet.ts';

/** What outlives one reconcile: retry delays. */
export interface PostingState {
  backoff: ItemBackoff;
}

/** A job this object posted before it was recreated without its records: follow it, post nothing. */
interface FoundPost {
  found: BoundJob;
}

interface PostPlan {
  raw: unknown;
  ports: NetworkPorts;
  market: MarketReference & { view: MarketView };
  timeout: bigint;
  /** What the post takes from the wallet into the market (deposit and any network fee). */
  charge: bigint;
  wallet: Keypair;
  /** The binding attempt number of this post. */
  attempt: number;
  /** The market's spend ledger as read for the limit check, when a dailySpendLimit applies. */
  ledger?: { location: LedgerLocation; read: LedgerRead };
}

// A post lands within a few slots; look again soon rather than at the polling interval.
export function postingPollMs(ctx: JobReconcileContext): number {
  return Math.min(ctx.deps.options.pollIntervalMs, 1_000);
}

/** The Posting phase's message, the same while the post waits to land (so waiting writes nothing). */
export function postingMessage(jobAddress: string): string {
  return `job ${jobAddress} was sent to the chain and is waiting to land (recorded in annotation ${PENDING_POST_ANNOTATION})`;
}

async function walletOrRefusal(ctx: JobReconcileContext): Promise<Keypair | Refusal> {
  try {
    return await ctx.wallet();
  } catch (error) {
    if (!(error instanceof WalletProblem)) throw error;
    // Tenancy depends on another object (the market's allowedNamespaces): look again now and then.
    return refusal(error.reason, error.message, error.reason === 'WalletNotAllowed' ? 'recheck' : 'backoff');
  }
}

function recordLowBalance(ctx: JobReconcileContext, low: boolean, message: string): void {
  ctx.status.conditions = setCondition(
    ctx.status.conditions,
    {
      type: 'LowBalance',
      status: low ? 'True' : 'False',
      reason: low ? 'BalanceLow' : 'BalanceSufficient',
      message,
    },
    ctx.object.metadata?.generation,
    ctx.deps.now(),
  );
}

/** Runs every check that can refuse the post, reading nothing that costs money. */
async function planPost(ctx: JobReconcileContext): Promise<PostPlan | FoundPost | Refusal> {
  const { deps, object } = ctx;
  const resolved = await resolveDefinition(object, deps.reader);
  if (isRefusal(resolved)) return resolved;
  const credentials = findPublicCredentials(resolved.definition);
  if (credentials.length > 0 && !object.spec.allowPublicCredentials)
    return refusal('PublicCredentials', publicCredentialsMessage(credentials), 'edit');

  const reference = resolveMarketReference(object, deps.markets);
  if (isRefusal(reference)) return reference;
  const address = reference.address.toBase58();
  let ports: NetworkPorts;
  try {
    ports = await ctx.ports();
  } catch (error) {
    // The NosanaMarket's settings (its ConfigMap or Secrets) may appear later: say so and retry.
    return refusal(
      'MarketNotFound',
      `the network settings for market ${address} cannot be resolved: ${(error as Error).message}`,
      'backoff',
    );
  }
  // Fresh, not the watcher's last poll: this read decides whether money is paid.
  const view = await ports.watcher.market(reference.address, { maxAgeMs: 0 });
  if (view === undefined) return refusal('MarketNotFound', `no market account at ${address} on ${ports.settings.name}`, 'backoff');
  const unsafe = marketRefusal(view.account, address, object.spec.node !== undefined);
  if (unsafe !== undefined) return unsafe;

  const timeout = jobTimeoutSeconds(object.spec, view.account);
  const charge = listCharge(ports.settings.name, view.account.jobPrice, timeout);
  const overBudget = budgetRefusal(charge, maxCostBaseUnits(object.spec), view.account.jobPrice, timeout);
  if (overBudget !== undefined) return overBudget;

  const wallet = await walletOrRefusal(ctx);
  if (isRefusal(wallet)) return wallet;
  const subject = { wallet, namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '' };
  // No attempt in status: a new object, or one restored without status or annotations. Before
  // paying, look on chain for a job this object posted before (binding.ts).
  if ((ctx.status.attempts ?? []).length === 0) {
    const [found] = await findBoundJobs(ports.jobs, resolved.raw, subject, attemptsToSearch(object.spec.retries));
    if (found !== undefined) return { found };
  }
  const balances = await ports.jobs.getBalances(wallet.publicKey);
  deps.metrics.walletBalance(ports.settings.name, wallet.publicKey.toBase58(), balances.lamports, balances.nos);
  const funds = assessFunds(balances, charge, wallet.publicKey.toBase58());
  recordLowBalance(ctx, funds.low, funds.message);
  if (funds.refusal !== undefined) return funds.refusal;

  const attempt = nextBindingAttempt(ctx.status.attempts);
  const plan: PostPlan = {
    raw: boundDefinition(resolved.raw, subject, attempt),
    ports,
    market: { ...reference, view },
    timeout,
    charge,
    wallet,
    attempt,
  };
  const ledger = ledgerFor(reference, object);
  if (ledger === undefined) return plan;
  const { location, limit } = ledger;
  let read: LedgerRead;
  try {
    read = await readLedger(deps.reader, location);
  } catch (error) {
    return refusal(
      'SpendLimitReached',
      `the dailySpendLimit of market ${address} cannot be checked: ${(error as Error).message}`,
      'backoff',
    );
  }
  const overLimit = spendLimitRefusal(asSpends(read.entries), limit, charge, deps.now(), address);
  return overLimit ?? { ...plan, ledger: { location, read } };
}

/** The CID is computed here first and recorded, so the pin can be checked and repeated safely. */
async function pinDefinition(ctx: JobReconcileContext, plan: PostPlan): Promise<string> {
  const cid = await computeCidV0(encodeJsonForPinning(plan.raw));
  ctx.status.ipfsJob = cid;
  const pinned = await plan.ports.pinning.pinJson(plan.raw, {
    name: `${ctx.object.metadata?.namespace}/${ctx.object.metadata?.name}`,
    signal: ctx.signal,
  });
  if (pinned !== cid) throw new Error(`the pinning service stored the definition as ${pinned}, not as ${cid} computed locally`);
  killPoint('post:after-pin');
  return cid;
}

async function prepare(ctx: JobReconcileContext, plan: PostPlan, cid: string): Promise<PendingPost | Refusal> {
  const node = ctx.object.spec.node;
  try {
    return await plan.ports.jobs.preparePost({
      wallet: plan.wallet,
      market: plan.market.address,
      ipfsJob: cidToBytes32(cid),
      timeoutSeconds: plan.timeout,
      ...(node === undefined ? {} : { node: new PublicKey(node) }),
    });
  } catch (error) {
    // The simulation refused it: nothing was signed into a record or sent.
    if (error instanceof TransactionFailedError)
      return refusal('Pending', `the chain would refuse the post (${error.message}); nothing was sent; retrying with backoff`, 'backoff');
    throw error;
  }
}

/** Records the post in the pending-post annotation; a stale resourceVersion throws StaleObjectError and nothing is sent. */
/**
 * Counts the post in the market's spend ledger before it is recorded and sent. The write is
 * conditional on the ledger as checked: a post counted meanwhile by another worker or replica
 * makes it stale, and the next reconcile checks the limit again.
 */
async function countSpend(ctx: JobReconcileContext, plan: PostPlan, pending: PendingPost): Promise<void> {
  if (plan.ledger === undefined) return;
  const now = ctx.deps.now();
  const { namespace = '', name = '', uid = '' } = ctx.object.metadata ?? {};
  const key = postEntryKey(namespace, name, uid, plan.attempt, pending.jobAddress);
  await writeLedger(ctx.deps.writer, plan.ledger.location, plan.ledger.read, now, {
    add: { key, job: pending.jobAddress, amount: plan.charge, at: now },
  });
}

/**
 * A post whose record was refused (the object changed since it was read) is never sent: its
 * entry leaves the ledger again, or anyone could fill a limit by editing their NosanaJob while it
 * posts. Best effort: an entry left behind over-counts, on the side of the limit.
 */
async function uncountSpend(ctx: JobReconcileContext, plan: PostPlan, pending: PendingPost): Promise<void> {
  if (plan.ledger === undefined) return;
  try {
    await takeBack(ctx.deps.reader, ctx.deps.writer, plan.ledger.location, pending.jobAddress, ctx.deps.now());
  } catch (error) {
    ctx.log.warn({ err: error }, 'the spend of a post that was never sent stays counted in the spend ledger');
  }
}

async function record(ctx: JobReconcileContext, pending: PendingPost): Promise<void> {
  await ctx.patchMetadata({
    annotations: { [PENDING_POST_ANNOTATION]: JSON.stringify(pending) },
  });
  ctx.status.pendingPost = pending;
  killPoint('post:after-record');
}

async function broadcast(ctx: JobReconcileContext, plan: PostPlan, pending: PendingPost): Promise<StepOutcome> {
  try {
    await plan.ports.jobs.broadcast(pending);
  } catch (error) {
    // Recorded, so nothing is lost: resolving the pending post sends the same bytes again.
    ctx.log.warn({ err: error, jobAddress: pending.jobAddress }, 'broadcasting the post failed; it is re-sent while it resolves');
  }
  killPoint('post:after-broadcast');
  ctx.setPhase('Posting', 'Posting', postingMessage(pending.jobAddress));
  ctx.event(
    'Normal',
    'Posting',
    `posted job ${pending.jobAddress} to market ${plan.market.address.toBase58()} (${formatNos(plan.charge)} NOS for ${plan.timeout}s)`,
  );
  return { requeueAfterMs: postingPollMs(ctx) };
}

/** Records the job found on chain as this object's, exactly as a landed post is recorded. */
async function followFound(ctx: JobReconcileContext, { attempt, job }: BoundJob): Promise<StepOutcome> {
  const address = job.address.toBase58();
  await ctx.patchMetadata({ annotations: { [JOB_ADDRESS_ANNOTATION]: address } });
  ctx.status.jobAddress = address;
  updateAttempt(ctx, job.address, { postedAt: isoSeconds(ctx.deps.now()), binding: attempt });
  ctx.event(
    'Warning',
    'PostFound',
    `job ${address}, posted by this NosanaJob (attempt ${attempt + 1}) before it was recreated without its records, was found on chain and is followed; nothing was posted again`,
  );
  return { requeueAfterMs: postingPollMs(ctx) };
}

/** One reconcile of a NosanaJob that has no post in flight and no job: check, pin, post once. */
export async function postJob(ctx: JobReconcileContext, state: PostingState): Promise<StepOutcome> {
  const jobKey = keyString(keyOf(ctx.object));
  const plan = await planPost(ctx);
  if (isRefusal(plan)) return applyRefusal(ctx, plan, state.backoff, jobKey);
  if ('found' in plan) return followFound(ctx, plan.found);
  ctx.status.marketAddress = plan.market.address.toBase58();
  ctx.status.priceBaseUnits = plan.market.view.account.jobPrice.toString();
  ctx.status.price = formatNos(plan.market.view.account.jobPrice);
  const cid = await pinDefinition(ctx, plan);
  const pending = await prepare(ctx, plan, cid);
  if (isRefusal(pending)) return applyRefusal(ctx, pending, state.backoff, jobKey);
  await countSpend(ctx, plan, pending);
  try {
    await record(ctx, pending);
  } catch (error) {
    // A stale object refused the record: nothing was written, and nothing will be sent.
    if (error instanceof StaleObjectError) await uncountSpend(ctx, plan, pending);
    throw error;
  }
  state.backoff.reset(jobKey);
  return broadcast(ctx, plan, pending);
}
