// What one NosanaDeployment reconcile reads before deciding: its replicas from the cache, the terms
// of a replica (timeout and price, from the template and its NosanaMarket), the budget ledger, and
// the replicas' endpoints, probed with the definition's HTTP health checks. Reading spends nothing.
import type { HttpHealthCheck } from '../../api/job-definition/index.ts';
import { isPlainObject, ownProperty } from '../../api/job-definition/json-values.ts';
import { readOperations } from '../../api/job-definition/op-views.ts';
import type { NosanaDeploymentObject } from '../../api/crds/nosana-deployment.ts';
import type { NosanaJobObject } from '../../api/crds/nosana-job.ts';
import type { NosanaMarketObject } from '../../api/crds/nosana-market.ts';
import { listCharge } from '../../chain/money.ts';
import type { ObjectCache } from '../../runtime/types.ts';
import type { KubeReader } from '../nosana-job/context.ts';
import { durationSeconds, maxCostBaseUnits } from '../nosana-job/spec-values.ts';
import type { LedgerEntry } from '../nosana-job/spend-ledger.ts';
import { budgetLedgerName, parseBudgetLedger } from './budget.ts';
import type { ReplicaTerms } from './decide.ts';
import type { EndpointProbe } from './endpoints.ts';
import type { Prober } from './prober.ts';
import type { ReplicaView } from './replicas.ts';
import { isControlledBy } from '../../runtime/owners.ts';

/** The NosanaMarket the template names, when it names one of the deployment's namespace. */
function templateMarket(deployment: NosanaDeploymentObject, markets: ObjectCache<NosanaMarketObject>): NosanaMarketObject | undefined {
  return markets.get({ namespace: deployment.metadata?.namespace ?? '', name: deployment.spec.template.spec.market });
}

/** A replica's timeout and price; an error naming the field that must be set when they cannot be told. */
export function replicaTerms(
  deployment: NosanaDeploymentObject,
  markets: ObjectCache<NosanaMarketObject>,
  budgeted: boolean,
): ReplicaTerms | { error: string } {
  const spec = deployment.spec.template.spec;
  const market = templateMarket(deployment, markets);
  let timeoutSeconds: bigint | undefined;
  let maxCost: bigint | undefined;
  try {
    timeoutSeconds = spec.timeout === undefined ? undefined : durationSeconds(spec.timeout, 'spec.template.spec.timeout');
    maxCost = maxCostBaseUnits(spec);
  } catch (error) {
    return { error: (error as Error).message.replace('spec.maxCost', 'spec.template.spec.maxCost') };
  }
  timeoutSeconds ??= market?.status?.jobTimeout === undefined ? undefined : BigInt(market.status.jobTimeout);
  if (timeoutSeconds === undefined) {
    return {
      error: `spec.template.spec.timeout is needed: ${market === undefined ? `market ${spec.market} is not a NosanaMarket of this namespace` : `NosanaMarket ${spec.market} has not read its market yet`}, so the replicas' timeout cannot be told`,
    };
  }
  const price = market?.status?.jobPriceBaseUnits === undefined ? undefined : BigInt(market.status.jobPriceBaseUnits);
  const reservation = maxCost ?? (price === undefined ? undefined : listCharge(market?.spec.network ?? 'mainnet', price, timeoutSeconds));
  if (budgeted && reservation === undefined) {
    return {
      error: `spec.template.spec.maxCost is needed with spec.budget: the price of market ${spec.market} is not known here (it is not a NosanaMarket of this namespace, or has not been read yet)`,
    };
  }
  return {
    timeoutSeconds,
    ...(reservation === undefined ? {} : { reservation }),
    ...(price === undefined ? {} : { pricePerSecond: price }),
  };
}

/** The budget ledger's entries; an error (never an empty ledger) when it cannot be read. */
export async function readBudget(reader: KubeReader, deployment: NosanaDeploymentObject): Promise<LedgerEntry[] | { error: string }> {
  try {
    const name = budgetLedgerName(deployment.metadata?.name ?? '');
    const configMap = await reader.getConfigMap({ namespace: deployment.metadata?.namespace ?? '', name });
    // One the deployment does not control is someone else's: it is neither trusted nor overwritten.
    if (configMap !== undefined && !isControlledBy(configMap, deployment.metadata?.uid))
      return { error: `ConfigMap ${name} is not this deployment's ledger (rename or delete it)` };
    return parseBudgetLedger(configMap).entries;
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** The definition of the template: inline, or from the ConfigMap it names (undefined when unreadable). */
export async function templateDefinition(reader: KubeReader, deployment: NosanaDeploymentObject): Promise<unknown> {
  const spec = deployment.spec.template.spec;
  if (spec.definition !== undefined) return spec.definition;
  const ref = spec.definitionFrom?.configMapKeyRef;
  if (ref === undefined) return undefined;
  try {
    const text = (await reader.getConfigMap({ namespace: deployment.metadata?.namespace ?? '', name: ref.name }))?.data?.[ref.key];
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

function isHttpCheck(check: unknown): check is HttpHealthCheck {
  return (
    isPlainObject(check) &&
    ownProperty(check, 'type') === 'http' &&
    typeof ownProperty(check, 'path') === 'string' &&
    typeof ownProperty(check, 'method') === 'string' &&
    typeof ownProperty(check, 'expected_status') === 'number'
  );
}

/** The HTTP health checks of each exposed port, by `<op id>/<port>`. */
export function httpHealthChecks(definition: unknown): Map<string, HttpHealthCheck[]> {
  const checks = new Map<string, HttpHealthCheck[]>();
  for (const op of readOperations(definition)) {
    const expose = ownProperty(op.args, 'expose');
    for (const entry of Array.isArray(expose) ? expose : [expose]) {
      const port = ownProperty(entry, 'port');
      const declared = ownProperty(entry, 'health_checks');
      if (typeof port !== 'number' || !Array.isArray(declared)) continue;
      const http = declared.filter(isHttpCheck);
      if (http.length > 0) checks.set(`${op.id ?? `ops[${op.index}]`}/${port}`, http);
    }
  }
  return checks;
}

/** The most HTTP checks probed per exposed port, and endpoints per reconcile (the status's bound). */
export const MAX_CHECKS_PER_PORT = 4;
export const MAX_PROBED_ENDPOINTS = 256;
/** Probes in flight at once: a tenant's slow endpoints hold a few sockets, not the process. */
const PROBE_CONCURRENCY = 32;

/**
 * Probes the endpoints with health checks of every running replica: at most MAX_CHECKS_PER_PORT
 * checks of each, MAX_PROBED_ENDPOINTS endpoints, PROBE_CONCURRENCY at a time. A definition is
 * a tenant's, and this runs in the process that posts every team's jobs.
 */
export async function probeReplicas(
  prober: Prober,
  replicas: readonly ReplicaView[],
  checks: ReadonlyMap<string, HttpHealthCheck[]>,
  signal: AbortSignal,
): Promise<EndpointProbe[]> {
  const endpoints = replicas
    .filter((replica) => replica.running)
    .flatMap((replica) =>
      replica.serviceUrls.flatMap((service) => {
        const declared = checks.get(`${service.op}/${service.port}`);
        return declared === undefined ? [] : [{ replica, service, declared: declared.slice(0, MAX_CHECKS_PER_PORT) }];
      }),
    )
    .slice(0, MAX_PROBED_ENDPOINTS);
  const probeOne = async ({ replica, service, declared }: (typeof endpoints)[number]): Promise<EndpointProbe> => {
    const outcomes = await Promise.all(declared.map((check) => prober.probe(service.url, check, signal)));
    const failed = outcomes.find((outcome) => !outcome.ok);
    return {
      replica: replica.name,
      op: service.op,
      port: service.port,
      url: service.url,
      ok: failed === undefined,
      detail: (failed ?? outcomes[0]!).detail,
    };
  };
  const results: EndpointProbe[] = new Array<EndpointProbe>(endpoints.length);
  let nextIndex = 0;
  const worker = async (): Promise<void> => {
    while (nextIndex < endpoints.length) {
      const index = nextIndex++;
      results[index] = await probeOne(endpoints[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PROBE_CONCURRENCY, endpoints.length) }, worker));
  return results;
}

export type { NosanaJobObject };
