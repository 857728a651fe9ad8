// The poster's actions on a job that exists on chain: delist, end, extend and recover. Each one
// is signed by the wallet that must be the job's project, waits for confirmation (the client
// confirms before returning), is counted in the chain-action metric, and reports the NOS that
// moved. Used by the mirror (timeouts, dead nodes, quits) and by deletion.
import type { Keypair } from '@solana/web3.js';
import type { JobView } from '../../chain/jobs-client.ts';
import { extensionCharge, formatNos, jobCost, jobDeposit } from '../../chain/money.ts';
import type { NetworkPorts } from '../network-ports.ts';
import type { MarketLabels } from '../nosana-metrics.ts';
import type { JobReconcileContext } from './context.ts';

export type PosterAction = 'delist' | 'end' | 'extend' | 'recover';

/** The wallet may act on the job, or why it may not (it is not the job's project). */
export type PosterWallet = { wallet: Keypair } | { refused: string };

/**
 * The context's wallet, when it is the job's project: only the project may delist, end, extend
 * or recover, so a different wallet (an adopted job, a rotated Secret) is refused before paying a
 * fee for a transaction that would fail. Wallet problems (missing Secret) are thrown.
 */
export async function posterWallet(ctx: JobReconcileContext, job: JobView): Promise<PosterWallet> {
  const wallet = await ctx.wallet();
  if (wallet.publicKey.equals(job.account.project)) return { wallet };
  return {
    refused: `the wallet ${wallet.publicKey.toBase58()} is not the project of job ${job.address.toBase58()} (${job.account.project.toBase58()}), so it cannot delist, end, extend or recover it`,
  };
}

function labels(ports: NetworkPorts, job: JobView): MarketLabels {
  return { network: ports.settings.name, market: job.account.market.toBase58() };
}

async function counted<T>(ctx: JobReconcileContext, ports: NetworkPorts, action: PosterAction, send: () => Promise<T>): Promise<T> {
  try {
    const result = await send();
    ctx.deps.metrics.chainAction(ports.settings.name, action, 'ok');
    return result;
  } catch (error) {
    ctx.deps.metrics.chainAction(ports.settings.name, action, 'error');
    throw error;
  }
}

/** What the vault holds for the job: delist and recover give back all of it, end what the node did not earn. */
function deposit(job: JobView): bigint {
  return jobDeposit(job.account.price, job.account.timeout);
}

/** Takes a queued job out of the market queue; the deposit comes back. */
export async function delistJob(ctx: JobReconcileContext, ports: NetworkPorts, job: JobView, wallet: Keypair): Promise<string> {
  await counted(ctx, ports, 'delist', () => ports.jobs.delist(wallet, job.address));
  ctx.deps.metrics.nosRefunded(labels(ports, job), deposit(job));
  return `delisted job ${job.address.toBase58()}; ${formatNos(deposit(job))} NOS refunded`;
}

/** Gives back the deposit of a job its node quit (state STOPPED) and closes it. */
export async function recoverJob(ctx: JobReconcileContext, ports: NetworkPorts, job: JobView, wallet: Keypair): Promise<string> {
  await counted(ctx, ports, 'recover', () => ports.jobs.recover(wallet, job.address));
  ctx.deps.metrics.nosRefunded(labels(ports, job), deposit(job));
  return `recovered job ${job.address.toBase58()}; ${formatNos(deposit(job))} NOS refunded`;
}

/**
 * Stops a running job: the node is paid for the time it ran (at most the timeout) and the rest of
 * the deposit comes back. Returns the job as the chain left it (COMPLETED, with timeStart/timeEnd).
 */
export async function endJob(
  ctx: JobReconcileContext,
  ports: NetworkPorts,
  job: JobView,
  wallet: Keypair,
): Promise<{ ended: JobView | undefined; message: string }> {
  await counted(ctx, ports, 'end', () => ports.jobs.end(wallet, job.address));
  const ended = await ports.watcher.job(job.address, { maxAgeMs: 0 });
  if (ended === undefined) return { ended, message: `ended job ${job.address.toBase58()}` };
  const { price, timeout, timeStart, timeEnd } = ended.account;
  const paid = jobCost(price, timeEnd - timeStart, timeout);
  ctx.deps.metrics.nosRefunded(labels(ports, job), deposit(ended) - paid);
  return {
    ended,
    message: `ended job ${job.address.toBase58()}; the node was paid ${formatNos(paid)} NOS for ${timeEnd - timeStart}s, ${formatNos(deposit(ended) - paid)} NOS refunded`,
  };
}

/** Raises a job's timeout (queued or running); charged price × the added seconds. */
export async function extendJob(
  ctx: JobReconcileContext,
  ports: NetworkPorts,
  job: JobView,
  wallet: Keypair,
  timeoutSeconds: bigint,
): Promise<string> {
  const charge = extensionCharge(job.account.price, job.account.timeout, timeoutSeconds);
  await counted(ctx, ports, 'extend', () => ports.jobs.extend(wallet, job.address, timeoutSeconds));
  ctx.deps.metrics.nosSpent(labels(ports, job), charge);
  return `raised the timeout of job ${job.address.toBase58()} from ${job.account.timeout}s to ${timeoutSeconds}s; charged ${formatNos(charge)} NOS`;
}
