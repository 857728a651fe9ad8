// The market account as NosanaMarket status fields: price in NOS/s (decimal, and base units as a
// string because u64 exceeds 2^53), the timeouts, the queue and who may serve it.
import type { NosanaMarketStatus } from '../../api/crds/nosana-market.ts';
import { QUEUE_TYPE } from '../../chain/accounts.ts';
import { OPEN_MARKET_ACCESS_KEY } from '../../chain/addresses.ts';
import type { MarketView } from '../../chain/jobs-client.ts';
import { formatNos } from '../../chain/money.ts';

/** The status fields read from the chain; they describe the market at `address` only. */
export const MIRRORED_FIELDS = [
  'address',
  'jobPrice',
  'jobPriceBaseUnits',
  'jobTimeout',
  'jobExpiration',
  'jobType',
  'queueType',
  'queueLength',
  'nodeAccessKey',
  'nodeXnosMinimum',
  'vault',
  'lastRefreshed',
  'slugResolvedFrom',
] as const satisfies readonly (keyof NosanaMarketStatus)[];

type QueueType = NonNullable<NosanaMarketStatus['queueType']>;

const QUEUE_TYPES: ReadonlyMap<number, QueueType> = new Map([
  [QUEUE_TYPE.job, 'Jobs'],
  [QUEUE_TYPE.node, 'Nodes'],
  [QUEUE_TYPE.empty, 'Empty'],
]);

export function mirrorMarket(view: MarketView): NosanaMarketStatus {
  const { account } = view;
  const queueType = QUEUE_TYPES.get(account.queueType);
  return {
    address: view.address.toBase58(),
    jobPrice: formatNos(account.jobPrice),
    jobPriceBaseUnits: account.jobPrice.toString(),
    jobTimeout: Number(account.jobTimeout),
    jobExpiration: Number(account.jobExpiration),
    jobType: account.jobType,
    // An unknown raw value is left out rather than guessed.
    ...(queueType === undefined ? {} : { queueType }),
    queueLength: account.queue.length,
    nodeAccessKey: account.nodeAccessKey.equals(OPEN_MARKET_ACCESS_KEY) ? 'open' : account.nodeAccessKey.toBase58(),
    nodeXnosMinimum: account.nodeXnosMinimum.toString(),
    vault: account.vault.toBase58(),
  };
}

/** The status without anything read from the chain: for when it may describe another market. */
export function withoutMirroredFields(status: NosanaMarketStatus): NosanaMarketStatus {
  const kept: NosanaMarketStatus = { ...status };
  for (const field of MIRRORED_FIELDS) delete kept[field];
  return kept;
}
