// Raising spec.timeout on a posted job pays price × the added seconds with `extend`. That payment
// answers to the same budget rules as the post did: spec.maxCost bounds what the job may cost in
// all, and the market's daily spend limit counts the extension, paid now. Without this check a
// job posted well within both could be stretched to any cost by editing its spec.
import type { JobView } from '../../chain/jobs-client.ts';
import { formatNos, listCharge } from '../../chain/money.ts';
import type { NetworkPorts } from '../network-ports.ts';
import type { JobReconcileContext } from './context.ts';
import { isRefusal } from './refusal.ts';
import { resolveMarketReference } from './resolve.ts';
import { asSpends, extensionEntryKey, ledgerFor, readLedger, writeLedger } from './spend-ledger.ts';
import { spendLimitRefusal } from './spend-limit.ts';
import { maxCostBaseUnits } from './spec-values.ts';

/**
 * Why raising the timeout of `job` to `wanted` seconds may not be paid for; undefined when it may,
 * in which case the extension has been counted in the market's spend ledger (before it is paid,
 * like a post: a crash after the payment must not leave it uncounted).
 */
export async function admitExtension(
  ctx: JobReconcileContext,
  ports: NetworkPorts,
  job: JobView,
  wanted: bigint,
): Promise<string | undefined> {
  const network = ports.settings.name;
  const { price, timeout, market } = job.account;
  const raising = `raising the timeout of job ${job.address.toBase58()} from ${timeout}s to ${wanted}s`;
  const total = listCharge(network, price, wanted);
  const maxCost = maxCostBaseUnits(ctx.object.spec);
  if (maxCost !== undefined && total > maxCost) {
    return `${raising} would make it cost up to ${formatNos(total)} NOS, more than spec.maxCost of ${formatNos(maxCost)} NOS; raise spec.maxCost to allow it`;
  }

  const reference = resolveMarketReference(ctx.object, ctx.deps.markets);
  const ledger = isRefusal(reference) || !reference.address.equals(market) ? undefined : ledgerFor(reference, ctx.object);
  if (ledger === undefined) return undefined;
  const { location, limit } = ledger;
  const now = ctx.deps.now();
  const charge = total - listCharge(network, price, timeout);
  try {
    const read = await readLedger(ctx.deps.reader, location);
    const refused = spendLimitRefusal(asSpends(read.entries), limit, charge, now, market.toBase58(), 'an extension');
    if (refused !== undefined) return `${raising} waits: ${refused.message}`;
    const key = extensionEntryKey(ctx.object.metadata?.namespace ?? '', ctx.object.metadata?.name ?? '', job.address.toBase58(), wanted);
    // Counted already (an earlier try that did not go through): counted once, at its first time.
    if (read.entries.some((entry) => entry.key === key)) return undefined;
    await writeLedger(ctx.deps.writer, location, read, now, { add: { key, job: job.address.toBase58(), amount: charge, at: now } });
  } catch (error) {
    return `${raising} waits: the daily spend limit cannot be checked (${(error as Error).message})`;
  }
  return undefined;
}
