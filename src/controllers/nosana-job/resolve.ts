// Resolving what a NosanaJob refers to: its job definition (inline or from a ConfigMap key) and
// its market (a NosanaMarket of its namespace, or a bare address). Network settings decide which
// RPC tells the operator prices, balances and whether a post landed, so a job takes them only
// from a NosanaMarket of its own namespace or from the operator's configuration; a NosanaMarket
// elsewhere that lists the namespace in allowedNamespaces may lend its default wallet, never its
// settings (its author could otherwise point a victim's jobs at an RPC that lies).
import { PublicKey } from '@solana/web3.js';
import type { NosanaJobObject } from '../../api/crds/nosana-job.ts';
import type { NosanaMarketObject } from '../../api/crds/nosana-market.ts';
import { formatProblem, validateJobDefinition } from '../../api/job-definition/index.ts';
import type { JobDefinition } from '../../api/job-definition/index.ts';
import type { KubeReader } from './context.ts';
import type { ObjectCache } from '../../runtime/types.ts';
import { isRefusal, refusal } from './refusal.ts';
import type { Refusal } from './refusal.ts';

export interface ResolvedDefinition {
  /** Exactly what the user wrote: this is what gets pinned, byte for byte after serialisation. */
  raw: unknown;
  definition: JobDefinition;
}

/** ConfigMaps are read, not watched: a definition fixed there is noticed within this. */
const CONFIGMAP_RECHECK = { afterMs: 30_000 };

async function readDefinition(job: NosanaJobObject, reader: KubeReader): Promise<{ raw: unknown } | Refusal> {
  const { definition, definitionFrom } = job.spec;
  if (definitionFrom === undefined) {
    if (definition === undefined) return refusal('InvalidDefinition', 'set spec.definition or spec.definitionFrom', 'edit');
    return { raw: definition };
  }
  const namespace = job.metadata?.namespace ?? '';
  const { name, key } = definitionFrom.configMapKeyRef;
  const configMap = await reader.getConfigMap({ namespace, name });
  const where = `ConfigMap ${namespace}/${name}`;
  if (configMap === undefined) return refusal('DefinitionUnavailable', `${where} (spec.definitionFrom) does not exist`, 'backoff');
  const text = configMap.data?.[key];
  if (text === undefined) return refusal('DefinitionUnavailable', `${where} has no key "${key}" (spec.definitionFrom)`, 'backoff');
  try {
    return { raw: JSON.parse(text) as unknown };
  } catch (error) {
    return refusal('InvalidDefinition', `${where} key "${key}" is not JSON: ${(error as Error).message}`, CONFIGMAP_RECHECK);
  }
}

/** The definition, validated as strictly as a post requires; every problem is named with its path. */
export async function resolveDefinition(job: NosanaJobObject, reader: KubeReader): Promise<ResolvedDefinition | Refusal> {
  const read = await readDefinition(job, reader);
  if (isRefusal(read)) return read;
  const { raw } = read;
  const validation = validateJobDefinition(raw, { strictness: 'strict' });
  if (!validation.ok || validation.definition === undefined) {
    const problems = validation.problems.map(formatProblem);
    // An inline definition changes only with the spec (a new generation wakes the job); one read
    // from a ConfigMap can be fixed there, which wakes nothing (ConfigMaps are read, not watched).
    const retry = job.spec.definitionFrom === undefined ? 'edit' : CONFIGMAP_RECHECK;
    return refusal(
      'InvalidDefinition',
      `the job definition has ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.join('; ')}`,
      retry,
    );
  }
  return { raw, definition: validation.definition };
}

export interface MarketReference {
  address: PublicKey;
  /** The NosanaMarket that serves the job: its default wallet and its dailySpendLimit apply. */
  object?: NosanaMarketObject;
  /** The NosanaMarket whose network settings apply: always one of the job's own namespace. */
  settingsFrom?: NosanaMarketObject;
  /** NosanaMarkets mirroring a bare address that do not serve this namespace (for WalletNotAllowed). */
  refusedBy?: NosanaMarketObject;
}

function parseAddress(text: string | undefined): PublicKey | undefined {
  if (text === undefined) return undefined;
  try {
    return new PublicKey(text);
  } catch {
    return undefined;
  }
}

export function marketAddressOf(market: NosanaMarketObject): PublicKey | undefined {
  return parseAddress(market.status?.address ?? market.spec.address);
}

/** Whether a NosanaMarket's default wallet may pay for jobs of `namespace`. */
export function marketServes(market: NosanaMarketObject, namespace: string): boolean {
  return market.metadata?.namespace === namespace || (market.spec.allowedNamespaces ?? []).includes(namespace);
}

/**
 * Which market spec.market means, from the caches only (no chain read). A NosanaMarket name in the
 * job's namespace wins; otherwise a base58 address, with the NosanaMarket mirroring it in the job's
 * namespace providing settings and wallet, else one whose allowedNamespaces lists the namespace
 * lending its wallet while the operator's own settings for its default network apply.
 */
export function resolveMarketReference(job: NosanaJobObject, markets: ObjectCache<NosanaMarketObject>): MarketReference | Refusal {
  const namespace = job.metadata?.namespace ?? '';
  const named = markets.get({ namespace, name: job.spec.market });
  if (named !== undefined) {
    const address = marketAddressOf(named);
    if (address === undefined) {
      return refusal(
        'MarketNotFound',
        `NosanaMarket ${namespace}/${job.spec.market} has no market address yet (its status is not synced)`,
        'backoff',
      );
    }
    return { address, object: named, settingsFrom: named };
  }
  const address = parseAddress(job.spec.market);
  if (address === undefined) {
    return refusal(
      'MarketNotFound',
      `spec.market "${job.spec.market}" is neither a NosanaMarket in namespace ${namespace} nor a market address`,
      'backoff',
    );
  }
  const mirrors = markets
    .list()
    .filter((market) => marketAddressOf(market)?.equals(address) === true)
    .sort((a, b) => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
  const own = mirrors.find((market) => market.metadata?.namespace === namespace);
  if (own !== undefined) return { address, object: own, settingsFrom: own };
  const lender = mirrors.find((market) => marketServes(market, namespace));
  if (lender !== undefined) return { address, object: lender };
  return mirrors[0] === undefined ? { address } : { address, refusedBy: mirrors[0] };
}
