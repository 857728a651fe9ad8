// Raising spec.timeout on a posted job pays price × the added seconds with `extend`. That payment
// answers to the same budget rules as the post did: spec.maxCost bounds what the job may cost in
// all, and the market's daily spend limit counts the extension, paid now. Without this check a
// job posted well within both could be stretched to any cost by editing its spec.
import type { JobView } from '../../chain/jobs-client.ts';
import { formatNos } from '../../chain/money.ts';
import { keyOf, keyString } from '../../runtime/types.ts';
import type { NetworkPorts } from '../network-ports.ts';
import type { JobReconcileContext } from './context.ts';
import { attemptFor } from './job-status.ts';
import { isRefusal } from './refusal.ts';
import { resolveMarketReference } from './resolve.ts';
import { dailySpendLimit, knownSpends, limitingMarket, spendLimitRefusal } from './spend-limit.ts';
import type { SpendLedger } from './spend-limit.ts';
import { depositFor, maxCostBaseUnits } from './spec-values.ts';

/** Why raising the timeout of `job` to `wanted` seconds may not be paid for; undefined when it may. */
export async function extensionRefusal(ctx: JobReconcileContext, ports: NetworkPorts, job: JobView, wanted: bigint, ledger: SpendLedger): Promise<string | undefined> {
  const network = ports.settings.name;
  const { price, timeout, market } = job.account;
  const raising = `raising the timeout of job ${job.address.toBase58()} from ${timeout}s to ${wanted}s`;
  const total = depositFor(network, price, wanted);
  const maxCost = maxCostBaseUnits(ctx.object.spec);
  if (maxCost !== undefined && total > maxCost) {
    return `${raising} would make it cost up to ${formatNos(total)} NOS, more than spec.maxCost of ${formatNos(maxCost)} NOS; raise spec.maxCost to allow it`;
  }

  const reference = resolveMarketReference(ctx.object, ctx.deps.markets);
  const limit = isRefusal(reference) || !reference.address.equals(market) ? undefined : dailySpendLimit(limitingMarket(reference, ctx.object));
  if (limit === undefined) return undefined;
  const view = await ports.watcher.market(market);
  if (view === undefined) return `${raising} waits: the daily spend limit cannot be checked, market ${market.toBase58()} was not found`;
  const now = ctx.deps.now();
  const address = job.address.toBase58();
  // The cache counts this job at its raised spec.timeout already; count what it has paid so far
  // instead (when it was posted), and the extension as paid now.
  const postedAt = attemptFor(ctx, job.address).postedAt;
  const spends = knownSpends(ctx.deps, ledger, view, network, keyString(keyOf(ctx.object)), now).filter((spend) => spend.jobAddress !== address);
  spends.push({ jobAddress: address, at: postedAt === undefined ? now : new Date(postedAt), amount: depositFor(network, price, timeout) });
  const charge = total - depositFor(network, price, timeout);
  const refused = spendLimitRefusal(spends, limit, charge, now, market.toBase58(), 'an extension');
  return refused === undefined ? undefined : `${raising} waits: ${refused.message}`;
}
