// The NosanaDeployment reconciler: reads (read.ts), decides (decide.ts), performs at most one
// action (act.ts), then records the decision's Events and writes the status, and the endpoints
// ConfigMap when asked for. A deleted deployment needs nothing here: the garbage collector
// deletes its replicas, whose finalizers cancel their jobs on chain.
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { NosanaDeploymentObject, NosanaDeploymentStatus } from '../../api/crds/nosana-deployment.ts';
import type { NosanaJobObject } from '../../api/crds/nosana-job.ts';
import type { NosanaMarketObject } from '../../api/crds/nosana-market.ts';
import { StaleObjectError, refOf } from '../../runtime/types.ts';
import type {
  EventRecorder,
  KubeWriter,
  ObjectCache,
  ObjectKey,
  ReconcileContext,
  ReconcileOutcome,
  Reconciler,
} from '../../runtime/types.ts';
import type { KubeReader } from '../nosana-job/context.ts';
import { performAction } from './act.ts';
import { decideDeployment } from './decide.ts';
import type { DeploymentWorld } from './decide.ts';
import type { EndpointProbe } from './endpoints.ts';
import { RESET_FAILURES_ANNOTATION } from './fail-safe.ts';
import type { Prober } from './prober.ts';
import { httpHealthChecks, probeReplicas, readBudget, replicaTerms, templateDefinition } from './read.ts';
import { highestReplicaNumber, isReplicaOf, templateRevision, viewReplica } from './replicas.ts';
import { deploymentSettings, SpecError } from './settings.ts';
import type { DeploymentSettings } from './settings.ts';
import { isControlledBy } from '../../runtime/owners.ts';

const STALE_REQUEUE_MS = 500;
/** Key of the endpoints ConfigMap's data. */
export const ENDPOINTS_KEY = 'endpoints.json';

/** The endpoints ConfigMap of a deployment (a suffix, so it never takes the name of the user's own ConfigMaps, such as its definitionFrom). */
export function endpointsConfigMapName(deployment: string): string {
  return `${deployment}-endpoints`;
}

export interface NosanaDeploymentControllerDeps {
  deployments: ObjectCache<NosanaDeploymentObject>;
  jobs: ObjectCache<NosanaJobObject>;
  markets: ObjectCache<NosanaMarketObject>;
  reader: KubeReader;
  writer: KubeWriter;
  events: EventRecorder;
  prober: Prober;
  now(): Date;
}

export class NosanaDeploymentReconciler implements Reconciler {
  readonly name = 'nosanadeployment';
  readonly #deps: NosanaDeploymentControllerDeps;

  constructor(deps: NosanaDeploymentControllerDeps) {
    this.#deps = deps;
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileOutcome | undefined> {
    const deps = this.#deps;
    const deployment = deps.deployments.get(key);
    if (deployment === undefined || deployment.metadata?.deletionTimestamp !== undefined) return undefined;
    const world = await this.#read(deployment, context.signal);
    const decision = decideDeployment(deployment.status ?? {}, world);
    try {
      await performAction(deps, deployment, decision.action);
      for (const event of decision.events) deps.events.record(deployment, event.type, event.reason, 'Reconcile', event.note);
      if (!('error' in world.settings) && world.settings.endpointsConfigMap) await this.#writeEndpoints(deployment, decision.status);
      // At the version read: the status carries the fail-safe's count and the health replacements
      // of the last hour, which a write from a lagging cache must not set back.
      await deps.writer.replaceStatus(
        refOf(deployment),
        deployment.metadata?.resourceVersion ?? '',
        decision.status,
        deployment.status ?? {},
      );
    } catch (error) {
      if (!(error instanceof StaleObjectError)) throw error;
      context.log.debug({ err: error }, 'a write lost a race with the cache; looking again');
      return { requeueAfterMs: STALE_REQUEUE_MS };
    }
    return decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: decision.requeueAfterMs };
  }

  async #read(deployment: NosanaDeploymentObject, signal: AbortSignal): Promise<DeploymentWorld> {
    const deps = this.#deps;
    const now = deps.now();
    const namespace = deployment.metadata?.namespace ?? '';
    let settings: DeploymentSettings | { error: string };
    try {
      settings = deploymentSettings(deployment.spec);
    } catch (error) {
      if (!(error instanceof SpecError)) throw error;
      settings = { error: error.message };
    }
    const jobs = deps.jobs.list(namespace);
    const replicas = jobs.filter((job) => isReplicaOf(job, deployment)).map(viewReplica);
    const highestTakenNumber = highestReplicaNumber(jobs, deployment.metadata?.name ?? '');
    const budgeted = deployment.spec.budget !== undefined;
    let probes: EndpointProbe[] = [];
    const exposing = replicas.filter((replica) => replica.running && replica.serviceUrls.length > 0);
    if (!('error' in settings) && exposing.length > 0) {
      const checks = httpHealthChecks(await templateDefinition(deps.reader, deployment));
      if (checks.size > 0) probes = await probeReplicas(deps.prober, exposing, checks, signal);
    }
    const resetToken = deployment.metadata?.annotations?.[RESET_FAILURES_ANNOTATION];
    return {
      now,
      name: deployment.metadata?.name ?? '',
      ...(deployment.metadata?.generation === undefined ? {} : { generation: deployment.metadata.generation }),
      settings,
      revision: templateRevision(deployment.spec.template),
      replicas,
      probes,
      terms: replicaTerms(deployment, deps.markets, budgeted),
      ...(budgeted ? { budget: await readBudget(deps.reader, deployment) } : {}),
      ...(resetToken === undefined ? {} : { resetToken }),
      ...(highestTakenNumber === undefined ? {} : { highestTakenNumber }),
      ...(deployment.metadata?.creationTimestamp === undefined ? {} : { createdAt: new Date(deployment.metadata.creationTimestamp) }),
    };
  }

  /** The ready replicas' URLs in the deployment's endpoints ConfigMap, when they changed. */
  async #writeEndpoints(deployment: NosanaDeploymentObject, status: NosanaDeploymentStatus): Promise<void> {
    const ready = (list: NosanaDeploymentStatus['endpoints']) =>
      JSON.stringify((list ?? []).filter((endpoint) => endpoint.ready).map(({ replica, op, port, url }) => ({ replica, op, port, url })));
    const wanted = ready(status.endpoints);
    const previous = deployment.status;
    if (previous?.observedGeneration === deployment.metadata?.generation && ready(previous?.endpoints) === wanted && previous !== undefined)
      return;
    const namespace = deployment.metadata?.namespace ?? '';
    const name = endpointsConfigMapName(deployment.metadata?.name ?? '');
    // A ConfigMap of that name the deployment does not control is someone's own: writing it would
    // also make it the deployment's, and deleting the deployment would delete it.
    const existing = await this.#deps.reader.getConfigMap({ namespace, name });
    if (existing !== undefined && !isControlledBy(existing, deployment.metadata?.uid)) {
      this.#deps.events.record(
        deployment,
        'Warning',
        'EndpointsConfigMapTaken',
        'Reconcile',
        `ConfigMap ${name} exists and is not this deployment's: the endpoints are not written to it (rename or delete it, or set spec.endpointsConfigMap to false)`,
      );
      return;
    }
    const configMap: V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        namespace,
        name,
        labels: { 'nosana.io/deployment': deployment.metadata?.name ?? '', 'app.kubernetes.io/managed-by': 'nosana-operator' },
        ownerReferences: [
          {
            apiVersion: deployment.apiVersion ?? 'nosana.io/v1alpha1',
            kind: 'NosanaDeployment',
            name: deployment.metadata?.name ?? '',
            uid: deployment.metadata?.uid ?? '',
            controller: true,
          },
        ],
      },
      data: { [ENDPOINTS_KEY]: wanted },
    };
    await this.#deps.writer.applyObject(configMap);
  }
}
