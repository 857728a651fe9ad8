// What deleting a NosanaJob does on chain (the finalizer's work): a queued job is delisted (its
// deposit refunded), a running one ended (its node paid for the time used, the rest refunded),
// and one whose node quit recovered; a finished or closed job needs nothing. deletionPolicy
// Orphan leaves the job alone. Only the job's project can act, so a job adopted from another
// wallet is left alone too, and says so. Done is reported only once the chain has confirmed.
import type { Keypair, PublicKey } from '@solana/web3.js';
import type { JobView } from '../../chain/jobs-client.ts';
import type { NetworkPorts } from '../network-ports.ts';
import type { JobReconcileContext } from './context.ts';
import { delistJob, endJob, posterWallet, recoverJob } from './lifecycle.ts';

export interface FinalizeOutcome {
  /** The finalizer may be removed. */
  done: boolean;
  requeueAfterMs?: number;
}

function isAdopted(ctx: JobReconcileContext, job: PublicKey): boolean {
  const adopted = ctx.object.spec.jobAddress;
  return adopted !== undefined && adopted === job.toBase58();
}

/** Leaves the job on chain, saying why (an event: the resource is about to go). */
function leaveAlone(ctx: JobReconcileContext, ports: NetworkPorts, job: PublicKey, why: string): FinalizeOutcome {
  ports.watcher.forget(job);
  ctx.event('Warning', 'LeftOnChain', `job ${job.toBase58()} was left on chain: ${why}`);
  return { done: true };
}

export async function finalizeJob(ctx: JobReconcileContext, jobAddress: PublicKey | undefined): Promise<FinalizeOutcome> {
  if (jobAddress === undefined) return { done: true };
  const ports = await ctx.ports();
  if (ctx.object.spec.deletionPolicy === 'Orphan') {
    ports.watcher.forget(jobAddress);
    ctx.event('Normal', 'Orphaned', `job ${jobAddress.toBase58()} is left on chain (deletionPolicy Orphan)`);
    return { done: true };
  }
  // Fresh, not a snapshot: acting on a job that a node took a moment ago would fail.
  const job = await ports.watcher.job(jobAddress, { maxAgeMs: 0 });
  if (job === undefined || job.status === 'COMPLETED') {
    ports.watcher.forget(jobAddress);
    return { done: true };
  }
  const poster = await posterWallet(ctx, job).catch((error: unknown) => {
    // A job this resource posted holds its wallet's money: keep trying (the Secret may come back,
    // or a person sets deletionPolicy Orphan). An adopted job was never ours to pay for.
    if (isAdopted(ctx, jobAddress)) return { refused: `there is no wallet to cancel it with (${(error as Error).message})` };
    throw error;
  });
  if ('refused' in poster) return leaveAlone(ctx, ports, jobAddress, poster.refused);
  if (job.status === 'QUEUED' && !(await inMarketQueue(ports, job))) {
    // Only a job in the queue can be delisted (a disabled market keeps deposits without queueing).
    return leaveAlone(ctx, ports, jobAddress, `it is not in the queue of market ${job.account.market.toBase58()}, so it cannot be delisted`);
  }
  const message = await cancel(ctx, ports, job, poster.wallet);
  ctx.event('Normal', 'Cancelled', message);
  // The client confirmed the transaction; reading again proves the job is no longer live.
  const after = await ports.watcher.job(jobAddress, { maxAgeMs: 0 });
  if (after !== undefined && after.status !== 'COMPLETED') return { done: false, requeueAfterMs: ctx.deps.options.pollIntervalMs };
  ports.watcher.forget(jobAddress);
  return { done: true };
}

async function inMarketQueue(ports: NetworkPorts, job: JobView): Promise<boolean> {
  const market = await ports.watcher.market(job.account.market, { maxAgeMs: 0 });
  return market?.account.queue.some((entry) => entry.equals(job.address)) ?? false;
}

async function cancel(ctx: JobReconcileContext, ports: NetworkPorts, job: JobView, wallet: Keypair): Promise<string> {
  switch (job.status) {
    case 'QUEUED': return delistJob(ctx, ports, job, wallet);
    case 'RUNNING': return (await endJob(ctx, ports, job, wallet)).message;
    case 'STOPPED': return recoverJob(ctx, ports, job, wallet);
    case 'COMPLETED': return `job ${job.address.toBase58()} had already ended`;
  }
}
