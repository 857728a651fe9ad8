// What this cluster's NosanaJobs paid into a market, for its NosanaMarket's dailySpendLimit. Kept
// in a ConfigMap the operator owns, in the namespace of the NosanaMarket whose limit applies, one
// per market address: it outlives the NosanaJobs (deleted, renamed, restored without status), the
// operator's memory (restarts, a new leader) and any later edit of a job's spec. An entry is
// written before the money moves (a post's deposit before its record, an extension before the
// `extend`), with the ConfigMap's resourceVersion as a precondition, so two posts checked at once
// by two workers or two replicas cannot both slip under a limit only one of them fits. Adopting a
// job writes nothing. A post known never to have landed takes its entry back.
//
// Entries are keyed by what paid: `<namespace>/<name>/<uid>#<attempt>@<job>` for a post and
// `…@extend:<seconds>` for an extension.
import { createHash } from 'node:crypto';
import type { V1ConfigMap, V1ObjectMeta } from '@kubernetes/client-node';
import type { PublicKey } from '@solana/web3.js';
import { z } from 'zod';
import type { NosanaMarketObject } from '../../api/crds/nosana-market.ts';
import type { KubeWriter } from '../../runtime/types.ts';
import type { KubeReader } from './context.ts';
import type { NosanaJobObject } from '../../api/crds/nosana-job.ts';
import type { MarketReference } from './resolve.ts';
import { nosAmount } from './spec-values.ts';

export const SPEND_LEDGER_DATA_KEY = 'spends.json';
/** The dailySpendLimit is a rolling day. */
export const SPEND_WINDOW_MS = 24 * 60 * 60_000;
/** Label on every ledger ConfigMap, with the market address as its value. */
export const SPEND_LEDGER_LABEL = 'nosana.io/spend-ledger';

const entrySchema = z.object({
  key: z.string().max(512),
  job: z.string().max(64),
  amount: z.string().regex(/^[0-9]{1,30}$/),
  at: z.iso.datetime(),
});
const entriesSchema = z.array(entrySchema);

export interface LedgerEntry {
  key: string;
  job: string;
  amount: bigint;
  at: Date;
}

/** Where a market's ledger lives: the limiting NosanaMarket's namespace, a name derived from it and the market address. */
export interface LedgerLocation {
  namespace: string;
  market: PublicKey;
  /** The NosanaMarket whose limit it counts: two of them on one address keep two ledgers. */
  marketName: string;
}

/** The ledger of the NosanaMarket whose dailySpendLimit applies, for the market at `address`. */
function ledgerLocation(limitedBy: NosanaMarketObject, address: PublicKey): LedgerLocation {
  return { namespace: limitedBy.metadata?.namespace ?? '', market: address, marketName: limitedBy.metadata?.name ?? '' };
}

/** One payment as the limit check counts it. */
export interface Spend {
  jobAddress?: string;
  at: Date;
  amount: bigint;
}

/**
 * The NosanaMarket whose dailySpendLimit governs a job's payments: its own namespace's market, or
 * a lending market only while that market's wallet is the one paying. Another namespace's market
 * has no say over a job that pays with its own wallet (it could otherwise block it with a tiny limit).
 */
export function limitingMarket(
  reference: Pick<MarketReference, 'object' | 'settingsFrom'>,
  job: NosanaJobObject,
): NosanaMarketObject | undefined {
  if (reference.settingsFrom !== undefined) return reference.settingsFrom;
  return job.spec.walletSecretRef === undefined ? reference.object : undefined;
}

/** The NosanaMarket's dailySpendLimit in base units; undefined when it sets none. */
export function dailySpendLimit(market: NosanaMarketObject | undefined): bigint | undefined {
  const text = market?.spec.dailySpendLimit;
  if (text === undefined) return undefined;
  return nosAmount(text, `NosanaMarket ${market?.metadata?.namespace}/${market?.metadata?.name} spec.dailySpendLimit`);
}

/** The limit that governs what `job` pays into the market of `reference`, and its ledger; undefined when none applies. */
export function ledgerFor(
  reference: Pick<MarketReference, 'address' | 'object' | 'settingsFrom'>,
  job: NosanaJobObject,
): { location: LedgerLocation; limit: bigint } | undefined {
  const limitedBy = limitingMarket(reference, job);
  const limit = dailySpendLimit(limitedBy);
  if (limit === undefined || limitedBy === undefined) return undefined;
  return { location: ledgerLocation(limitedBy, reference.address), limit };
}

export interface LedgerRead {
  entries: LedgerEntry[];
  /** undefined: the ConfigMap does not exist yet. */
  resourceVersion?: string;
}

/** ConfigMap names are lower-case DNS names; a base58 address is not. */
export function ledgerName(location: Pick<LedgerLocation, 'market' | 'marketName'>): string {
  return `nosana-spend-${createHash('sha256').update(`${location.market.toBase58()}/${location.marketName}`).digest('hex').slice(0, 20)}`;
}

/**
 * One entry per prepared post: the uid tells a re-created object (a new run) from the one it
 * replaces, and the job address tells two posts prepared for one attempt apart (one of them,
 * refused its record, is taken back without touching the other).
 */
export function postEntryKey(namespace: string, name: string, uid: string, attempt: number, job: string): string {
  return `${namespace}/${name}/${uid}#${attempt}@${job}`;
}

export function extensionEntryKey(namespace: string, name: string, job: string, timeoutSeconds: bigint): string {
  return `${namespace}/${name}@${job}@extend:${timeoutSeconds}`;
}

/** The entries as the limit check counts them. */
export function asSpends(entries: readonly LedgerEntry[]): Spend[] {
  return entries.map((entry) => ({ jobAddress: entry.job, at: entry.at, amount: entry.amount }));
}

/**
 * The entries of a ledger ConfigMap. A ledger that cannot be read is an error, not an empty
 * ledger: reading it as empty would let every post through.
 */
export function parseLedger(configMap: V1ConfigMap | undefined): LedgerRead {
  if (configMap === undefined) return { entries: [] };
  const where = `ConfigMap ${configMap.metadata?.namespace}/${configMap.metadata?.name} key ${SPEND_LEDGER_DATA_KEY}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(configMap.data?.[SPEND_LEDGER_DATA_KEY] ?? '[]');
  } catch {
    throw new Error(`the spend ledger ${where} is not JSON; fix or delete it (deleting it forgets the last 24 h of spending)`);
  }
  const checked = entriesSchema.safeParse(parsed);
  if (!checked.success)
    throw new Error(`the spend ledger ${where} is malformed (${checked.error.issues[0]?.message ?? 'invalid'}); fix or delete it`);
  return {
    entries: checked.data.map((entry) => ({ key: entry.key, job: entry.job, amount: BigInt(entry.amount), at: new Date(entry.at) })),
    ...(configMap.metadata?.resourceVersion === undefined ? {} : { resourceVersion: configMap.metadata.resourceVersion }),
  };
}

/** The ledger with `entry` added (replacing one of the same key) and entries older than the window dropped. */
export function withEntry(entries: readonly LedgerEntry[], entry: LedgerEntry | undefined, now: Date, removeKey?: string): LedgerEntry[] {
  const since = now.getTime() - SPEND_WINDOW_MS;
  const kept = entries.filter((existing) => existing.at.getTime() > since && existing.key !== entry?.key && existing.key !== removeKey);
  return entry === undefined ? kept : [...kept, entry];
}

/** A ledger ConfigMap holding `entries`; with `resourceVersion`, a write conditional on it. */
export function ledgerConfigMap(
  metadata: Pick<V1ObjectMeta, 'namespace' | 'name' | 'labels' | 'ownerReferences'>,
  entries: readonly LedgerEntry[],
  resourceVersion: string | undefined,
): V1ConfigMap {
  const data = JSON.stringify(
    entries.map((entry) => ({ key: entry.key, job: entry.job, amount: entry.amount.toString(), at: entry.at.toISOString() })),
  );
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      ...metadata,
      labels: { ...metadata.labels, 'app.kubernetes.io/managed-by': 'nosana-operator' },
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
    },
    data: { [SPEND_LEDGER_DATA_KEY]: data },
  };
}

function ledgerObject(location: LedgerLocation, entries: readonly LedgerEntry[], resourceVersion: string | undefined): V1ConfigMap {
  const metadata = {
    namespace: location.namespace,
    name: ledgerName(location),
    labels: { [SPEND_LEDGER_LABEL]: location.market.toBase58() },
  };
  return ledgerConfigMap(metadata, entries, resourceVersion);
}

export async function readLedger(reader: KubeReader, location: LedgerLocation): Promise<LedgerRead> {
  return parseLedger(await reader.getConfigMap({ namespace: location.namespace, name: ledgerName(location) }));
}

/**
 * Writes the ledger as read plus `entry` (or minus `removeKey`). The write is conditional on the
 * version read: anyone who wrote since makes it throw StaleObjectError, and the caller decides
 * again from a fresh read.
 */
export async function writeLedger(
  writer: KubeWriter,
  location: LedgerLocation,
  read: LedgerRead,
  now: Date,
  change: { add?: LedgerEntry; removeKey?: string },
): Promise<void> {
  const entries = withEntry(read.entries, change.add, now, change.removeKey);
  await writer.writeObject(ledgerObject(location, entries, read.resourceVersion));
}

/** Takes the entries of a post that paid nothing (never sent, never landed) out of the ledger. */
export async function takeBack(reader: KubeReader, writer: KubeWriter, location: LedgerLocation, job: string, now: Date): Promise<void> {
  const read = await readLedger(reader, location);
  const entry = read.entries.find((candidate) => candidate.job === job);
  if (entry !== undefined) await writeLedger(writer, location, read, now, { removeKey: entry.key });
}
