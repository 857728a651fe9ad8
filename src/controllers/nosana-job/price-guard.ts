// The budget check after a post lands. The job records the market price at the moment `list` ran,
// which may be higher than the price the cost guard checked before signing (the market authority
// can change it in between). A job that would cost more than spec.maxCost is taken back at once:
// delisted (its deposit refunded) or, if a node took it immediately, ended.
import type { PublicKey } from '@solana/web3.js';
import type { JobView } from '../../chain/jobs-client.ts';
import { formatNos, listCharge } from '../../chain/money.ts';
import type { NetworkPorts } from '../network-ports.ts';
import type { JobReconcileContext, StepOutcome } from './context.ts';
import { isoSeconds, moveTo, updateAttempt } from './job-status.ts';
import { delistJob, endJob, posterWallet } from './chain-actions.ts';
import { maxCostBaseUnits } from './spec-values.ts';

/** The attempt outcome recorded (before acting) for a job taken back for its price. */
const PRICE_ABOVE_MAX_COST = 'PriceAboveMaxCost';

function attemptOf(ctx: JobReconcileContext, job: PublicKey): { outcome?: string; endedAt?: string } | undefined {
  return ctx.status.attempts?.find((attempt) => attempt.jobAddress === job.toBase58());
}

/**
 * Checks the landed job against spec.maxCost and takes it back when it is over. The decision
 * (attempt outcome and terminal phase) is written to the status BEFORE the delist, so a crash
 * after the delist (the job account then gone) is not mistaken for someone else cancelling it.
 * Returns the job as read.
 */
export async function stopIfOverBudget(ctx: JobReconcileContext, ports: NetworkPorts, jobAddress: PublicKey): Promise<JobView | undefined> {
  const job = await ports.watcher.job(jobAddress, { maxAgeMs: 0 });
  const maxCost = maxCostBaseUnits(ctx.object.spec);
  if (job === undefined || maxCost === undefined || (job.status !== 'QUEUED' && job.status !== 'RUNNING')) return job;
  const charge = listCharge(ports.settings.name, job.account.price, job.account.timeout);
  if (charge <= maxCost && attemptOf(ctx, jobAddress)?.outcome !== PRICE_ABOVE_MAX_COST) return job;

  const why = `job ${jobAddress.toBase58()} landed at ${formatNos(job.account.price)} NOS/s, so its ${job.account.timeout}s cost up to ${formatNos(charge)} NOS, more than spec.maxCost of ${formatNos(maxCost)} NOS (the market price rose before it landed)`;
  const poster = await posterWallet(ctx, job);
  if ('refused' in poster) throw new Error(`${why}, but it cannot be taken back: ${poster.refused}`);
  concludeOverBudget(ctx, ports, jobAddress, `${why}; it was taken back at once (${job.status === 'QUEUED' ? 'delisted' : 'ended'})`);
  await ctx.writeStatus();
  const done =
    job.status === 'QUEUED' ? await delistJob(ctx, ports, job, poster.wallet) : (await endJob(ctx, ports, job, poster.wallet)).message;
  ctx.event('Warning', PRICE_ABOVE_MAX_COST, `${why}: ${done}`);
  return job;
}

function concludeOverBudget(ctx: JobReconcileContext, ports: NetworkPorts, jobAddress: PublicKey, message: string): void {
  updateAttempt(ctx, jobAddress, {
    outcome: PRICE_ABOVE_MAX_COST,
    endedAt: attemptOf(ctx, jobAddress)?.endedAt ?? isoSeconds(ctx.deps.now()),
  });
  ports.watcher.forget(jobAddress);
  moveTo(ctx, 'Stopped', PRICE_ABOVE_MAX_COST, message, 'Warning');
}

/**
 * For a job already taken back for its price (possibly by a process that crashed before saying
 * so): the terminal phase, instead of mirroring a closed account as cancelled by someone else.
 */
export async function takenBackForPrice(ctx: JobReconcileContext, jobAddress: PublicKey): Promise<StepOutcome | undefined> {
  if (attemptOf(ctx, jobAddress)?.outcome !== PRICE_ABOVE_MAX_COST) return undefined;
  const ports = await ctx.ports();
  const job = await stopIfOverBudget(ctx, ports, jobAddress);
  if (job === undefined || (job.status !== 'QUEUED' && job.status !== 'RUNNING')) {
    concludeOverBudget(
      ctx,
      ports,
      jobAddress,
      `job ${jobAddress.toBase58()} was taken back because its price made it cost more than spec.maxCost`,
    );
  }
  return {};
}
