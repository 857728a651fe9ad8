// Which NosanaJobs post to which NosanaMarkets. A job names its market either by the name of a
// NosanaMarket in its own namespace or by the market's address, and records the address it
// resolved in status.marketAddress; a market counts every job of this cluster on its address,
// whichever way the job named it. The manager uses the same relation to route watch events.
import { NOSANA_JOB_PHASES } from '../../api/crds/nosana-job.ts';
import type { NosanaJobObject, NosanaJobPhase } from '../../api/crds/nosana-job.ts';
import type { NosanaMarketObject, NosanaMarketStatus } from '../../api/crds/nosana-market.ts';
import type { ObjectCache } from '../../runtime/types.ts';
import { marketAddressOf } from '../nosana-job/resolve.ts';

/** The address a market mirrors (the resolved one, else its spec's), as base58. */
function addressOf(market: NosanaMarketObject): string | undefined {
  return marketAddressOf(market)?.toBase58();
}

export type JobCounts = NonNullable<NosanaMarketStatus['jobs']>;

function jobNamesMarket(job: NosanaJobObject, market: NosanaMarketObject, address: string | undefined): boolean {
  const byName = job.metadata?.namespace === market.metadata?.namespace && job.spec.market === market.metadata?.name;
  const byAddress = address !== undefined && (job.spec.market === address || job.status?.marketAddress === address);
  return byName || byAddress;
}

export function jobsOfMarket(market: NosanaMarketObject, jobs: ObjectCache<NosanaJobObject>): NosanaJobObject[] {
  const address = addressOf(market);
  return jobs.list().filter((job) => jobNamesMarket(job, market, address));
}

export function marketsOfJob(job: NosanaJobObject, markets: ObjectCache<NosanaMarketObject>): NosanaMarketObject[] {
  return markets.list().filter((market) => jobNamesMarket(job, market, addressOf(market)));
}

function countKey(phase: NosanaJobPhase): keyof JobCounts {
  return phase.charAt(0).toLowerCase() + phase.slice(1);
}

/** Every phase, zeros included, so the status keeps one shape; a job not yet reconciled is Pending. */
export function countByPhase(jobs: readonly NosanaJobObject[]): JobCounts {
  const counts: JobCounts = Object.fromEntries(NOSANA_JOB_PHASES.map((phase) => [countKey(phase), 0]));
  for (const job of jobs) {
    const key = countKey(job.status?.phase ?? 'Pending');
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
