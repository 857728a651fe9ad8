// The posting path: read what a post depends on, decide (decide-post.ts: every check that can
// refuse a post, on what was read, before anything is pinned or paid), then the create-once
// protocol. The signed post is recorded in the NosanaJob's pending-post annotation with a
// resourceVersion precondition BEFORE it is broadcast: if the informer cache was stale (the job
// already has a post in flight) the write fails and nothing is broadcast, and a crash at any
// instant leaves either no record (nothing was sent) or a record the next reconcile settles
// (settle.ts). Either way one NosanaJob never pays for two jobs.
import { PublicKey } from '@solana/web3.js';
import type { Keypair } from '@solana/web3.js';
import { JOB_ADDRESS_ANNOTATION, NOSANA_JOB_FINALIZER, PENDING_POST_ANNOTATION } from '../../api/annotations.ts';
import type { MarketAccount } from '../../chain/accounts.ts';
import type { PendingPost } from '../../chain/jobs-client.ts';
import { formatNos } from '../../chain/money.ts';
import { TransactionFailedError } from '../../chain/transaction-sender.ts';
import { cidToBytes32 } from '../../ipfs/cid.ts';
import { encodeJsonForPinning } from '../../ipfs/json.ts';
import { computeCidV0 } from '../../ipfs/unixfs.ts';
import { killPoint } from '../../runtime/kill-points.ts';
import { StaleObjectError, keyOf, keyString } from '../../runtime/types.ts';
import type { ItemBackoff } from '../../runtime/work-queue.ts';
import type { NetworkPorts } from '../network-ports.ts';
import { decisionSettings, recordEvents, takeDecision } from './act.ts';
import { attemptsToSearch, boundDefinition, findBoundJobs } from './binding.ts';
import type { BindingSubject } from './binding.ts';
import type { JobReconcileContext, StepOutcome } from './context.ts';
import { decide } from './decide.ts';
import { postingMessage, postingPollMs } from './decision.ts';
import type { JobAction, PostWorld } from './decision.ts';
import { isRefusal, refusal } from './refusal.ts';
import type { Refusal } from './refusal.ts';
import { resolveDefinition, resolveMarketReference } from './resolve.ts';
import { asSpends, ledgerFor, postEntryKey, readLedger, takeBack, writeLedger } from './spend-ledger.ts';
import type { LedgerLocation, LedgerRead } from './spend-ledger.ts';
import { WalletProblem } from './wallet.ts';

/** What the acting layer needs beyond the world: the ports, the wallet, the ledger as read. */
interface PostReads {
  world: PostWorld;
  ports?: NetworkPorts;
  wallet?: Keypair;
  subject?: BindingSubject;
  /** The market's spend ledger as read for the limit check, when a dailySpendLimit applies. */
  ledger?: { location: LedgerLocation; read: LedgerRead };
}

/** The plan a post carries out: the decision's numbers and what was read to make it. */
interface PostPlan {
  raw: unknown;
  ports: NetworkPorts;
  market: PublicKey;
  /** The market as read fresh for the decision. */
  marketAccount: MarketAccount;
  timeout: bigint;
  /** What the post takes from the wallet into the market (deposit and any network fee). */
  charge: bigint;
  wallet: Keypair;
  /** The binding attempt number of this post. */
  attempt: number;
  ledger?: { location: LedgerLocation; read: LedgerRead };
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

/**
 * Reads what a post depends on, in order. Reading stops at the first thing that cannot be read,
 * because what follows needs it; nothing read here spends money.
 */
async function readPost(ctx: JobReconcileContext): Promise<PostReads> {
  const { deps, object } = ctx;
  const definition = await resolveDefinition(object, deps.reader);
  if (isRefusal(definition)) return { world: { stage: 'post', definition } };
  const reads = (rest: Omit<PostWorld, 'stage' | 'definition'>): PostWorld => ({ stage: 'post', definition, ...rest });
  const reference = resolveMarketReference(object, deps.markets);
  if (isRefusal(reference)) return { world: reads({ market: reference }) };
  const address = reference.address.toBase58();
  let ports: NetworkPorts;
  try {
    ports = await ctx.ports();
  } catch (error) {
    // The NosanaMarket's settings (its ConfigMap or Secrets) may appear later: say so and retry.
    const why = `the network settings for market ${address} cannot be resolved: ${(error as Error).message}`;
    return { world: reads({ market: refusal('MarketNotFound', why, 'backoff') }) };
  }
  // Fresh, not the watcher's last poll: this read decides whether money is paid.
  const view = await ports.watcher.market(reference.address, { maxAgeMs: 0 });
  if (view === undefined)
    return {
      world: reads({ market: refusal('MarketNotFound', `no market account at ${address} on ${ports.settings.name}`, 'backoff') }),
      ports,
    };
  const market = { address, view, network: ports.settings.name };
  const wallet = await walletOrRefusal(ctx);
  if (isRefusal(wallet)) return { world: reads({ market, wallet }), ports };
  const subject = { wallet, namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '' };
  const known = { market, wallet: wallet.publicKey.toBase58() };
  // No attempt in status: a new object, or one restored without status or annotations. Before
  // paying, look on chain for a job this object posted before (binding.ts).
  if ((ctx.status.attempts ?? []).length === 0) {
    const [found] = await findBoundJobs(ports.jobs, definition.raw, subject, attemptsToSearch(object.spec.retries));
    if (found !== undefined) return { world: reads({ ...known, found }), ports, wallet, subject };
  }
  const balances = await ports.jobs.getBalances(wallet.publicKey);
  deps.metrics.walletBalance(ports.settings.name, wallet.publicKey.toBase58(), balances.lamports, balances.nos);
  const limited = ledgerFor(reference, object);
  if (limited === undefined) return { world: reads({ ...known, balances }), ports, wallet, subject };
  try {
    const read = await readLedger(deps.reader, limited.location);
    return {
      world: reads({ ...known, balances, daily: { limit: limited.limit, spends: asSpends(read.entries) } }),
      ports,
      wallet,
      subject,
      ledger: { location: limited.location, read },
    };
  } catch (error) {
    return { world: reads({ ...known, balances, daily: { error: (error as Error).message } }), ports, wallet, subject };
  }
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
      market: plan.market,
      ipfsJob: cidToBytes32(cid),
      timeoutSeconds: plan.timeout,
      marketAccount: plan.marketAccount,
      ...(node === undefined ? {} : { node: new PublicKey(node) }),
    });
  } catch (error) {
    // The simulation refused it: nothing was signed into a record or sent.
    if (error instanceof TransactionFailedError)
      return refusal('Pending', `the chain would refuse the post (${error.message}); nothing was sent; retrying with backoff`, 'backoff');
    throw error;
  }
}

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
  // the finalizer comes with the record: it is on before the broadcast spends anything
  await ctx.patchMetadata({
    addFinalizers: [NOSANA_JOB_FINALIZER],
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
    `posted job ${pending.jobAddress} to market ${plan.market.toBase58()} (${formatNos(plan.charge)} NOS for ${plan.timeout}s)`,
  );
  return { requeueAfterMs: postingPollMs(ctx.deps.options) };
}

/** Records the job found on chain as this object's, exactly as a landed post is recorded. */
async function recordFound(ctx: JobReconcileContext, address: string): Promise<void> {
  // a job this object paid for: a deletion must find it to cancel it
  await ctx.patchMetadata({ addFinalizers: [NOSANA_JOB_FINALIZER], annotations: { [JOB_ADDRESS_ANNOTATION]: address } });
}

/** Pins, prepares, counts, records and broadcasts one post. */
async function post(
  ctx: JobReconcileContext,
  reads: PostReads & { backoff: ItemBackoff },
  action: Extract<JobAction, { kind: 'post' }>,
): Promise<StepOutcome> {
  const { ports, wallet, subject, world } = reads;
  if (
    ports === undefined ||
    wallet === undefined ||
    subject === undefined ||
    isRefusal(world.definition) ||
    world.market === undefined ||
    isRefusal(world.market)
  )
    throw new Error('a post was decided without what it needs being read');
  const plan: PostPlan = {
    raw: boundDefinition(world.definition.raw, subject, action.attempt),
    ports,
    market: new PublicKey(world.market.address),
    marketAccount: world.market.view.account,
    timeout: action.timeout,
    charge: action.charge,
    wallet,
    attempt: action.attempt,
    ...(reads.ledger === undefined ? {} : { ledger: reads.ledger }),
  };
  const cid = await pinDefinition(ctx, plan);
  const pending = await prepare(ctx, plan, cid);
  if (isRefusal(pending)) {
    ctx.setPhase('Pending', pending.reason, pending.message);
    ctx.event('Warning', pending.reason, pending.message);
    return { requeueAfterMs: reads.backoff.next(keyString(keyOf(ctx.object))) };
  }
  await countSpend(ctx, plan, pending);
  try {
    await record(ctx, pending);
  } catch (error) {
    // A stale object refused the record, or the object is gone (deleted before it held the
    // finalizer): nothing was written, and nothing will be sent.
    if (error instanceof StaleObjectError) await uncountSpend(ctx, plan, pending);
    throw error;
  }
  reads.backoff.reset(keyString(keyOf(ctx.object)));
  return broadcast(ctx, plan, pending);
}

/** One reconcile of a NosanaJob that has no post in flight and no job: read, decide, post once. */
export async function postJob(ctx: JobReconcileContext, backoff: ItemBackoff): Promise<StepOutcome> {
  const reads = await readPost(ctx);
  const decision = decide(ctx.status, reads.world, decisionSettings(ctx, reads.ports?.settings.name));
  const next = takeDecision(ctx, decision, backoff);
  switch (decision.action.kind) {
    case 'recordFound':
      await recordFound(ctx, decision.action.found.job.address.toBase58());
      // Announced once recorded: a write that lost a race is decided again.
      recordEvents(ctx, decision);
      return next;
    case 'post':
      return post(ctx, { ...reads, backoff }, decision.action);
    default:
      recordEvents(ctx, decision);
      return next;
  }
}
