// The runner: walks a job's plan against the API server. The thin layer around decide-run.ts: it
// watches the job's Pods through an informer (never a poll per Pod), turns what it sees into the
// observed state of each op (observe.ts), asks the pure decision what to do, and does exactly
// that: create an op's objects (literals resolved first, builders per kind), delete a Pod it must
// stop, record an op's end in the result document with its logs and results, end the flow. All
// objects live in one namespace and are owned by the run's ConfigMap, so deleting it (at the end,
// or after a crash) takes everything of the run with it, except the shared resource caches.
import type { KubeConfig, KubernetesObject, V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ContainerRunArgs } from '../api/job-definition/index.ts';
import { SupervisedInformer } from '../runtime/informer.ts';
import { KubeApi, hasStatus } from '../runtime/kube-api.ts';
import { buildNetworkPolicy } from './build-network-policy.ts';
import { OP_CONTAINER_NAME, buildOpPod, opAliases } from './build-pod.ts';
import { buildResourceClaim } from './build-resource-claim.ts';
import { buildRunConfigMap, ownedBy } from './build-run-config-map.ts';
import { buildPullSecret, buildResourceCredentialSecret } from './build-secret.ts';
import { buildExposureRoutes, buildOpService } from './build-service.ts';
import { buildJobVolumeClaim, buildPrivateResourceClaim, buildResourceCacheClaim } from './build-volume.ts';
import { checkResolvedArgs } from './resolved-args.ts';
import { tagStreams } from './log-streams.ts';
import { resourceMounts } from './resource-mounts.ts';
import { RunnerChecks } from './runner-checks.ts';
import { defaultCheckTargetResolver } from './check-target.ts';
import type { CheckTargetResolver } from './check-target.ts';
import type { ResourceMount } from './resource-mounts.ts';
import { decideRun } from './decide-run.ts';
import type { ClusterFailureCause, FinishAction, ObservedOp, RunnerAction, StopCause, TimingBounds } from './decide-run.ts';
import {
  MAX_LOG_ENTRIES,
  abortDiagnosticsReason,
  appendLogs,
  containerStateDiagnostics,
  initialFlowState,
  opTimeoutReason,
} from './flow-state.ts';
import type { FlowState, LogEntry, OpState } from './flow-state.ts';
import { JOB_LABEL, MANAGED_BY, MANAGED_BY_LABEL, labelValue } from './labels.ts';
import type { JobContext, OpContext } from './labels.ts';
import { resolveOpArgs } from './literals.ts';
import type { GlobalLiteralValues, LiteralValues } from './literals.ts';
import { opPodName, opServiceName } from './names.ts';
import { observePod, podPhaseForVolume } from './observe.ts';
import type { RunnerMarks } from './observe.ts';
import type { Plan, PlannedOp } from './plan.ts';
import { extractResults } from './results.ts';
import type { ExecutorSettings } from './settings.ts';

// Between events the clock still moves (timeouts, bounds, the deadline): look again this often.
const TICK_MS = 1_000;
/** Real definitions fetch one to three models or datasets; each resource is a volume of its own. */
export const MAX_RESOURCES_PER_OP = 16;
/** The most shared resource caches one job may make the node keep (each is a volume outliving the job). */
export const MAX_CACHES_PER_JOB = 32;
/** A name a Pod's host entries accept (an alias that is not one is left out rather than failing the Pod). */
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface RunOptions {
  kubeConfig: KubeConfig;
  settings: ExecutorSettings;
  log: Logger;
  /** `%%global.…%%` values: the job, its poster, the node serving it. */
  globals: Omit<GlobalLiteralValues, 'variables'>;
  /** The job's deadline in ms epoch, read at every decision (an extended job's moves later). */
  deadline?: () => number | undefined;
  /** Aborting it stops the job: every op stops, its status `stopped`, and the run cleans up. */
  signal?: AbortSignal;
  /**
   * Aborting it lets go of the run without touching it: the runner stops deciding and runPlan
   * rejects with RunDetached, leaving every object of the run as it is. A node agent handing its
   * runs to the next leader (a rolling update) does this; the successor's runner, level-based,
   * picks the Pods up where they are.
   */
  detach?: AbortSignal;
  /** 'fail-op' (`run`): a cluster failure fails the op; 'quit' (the node agent): the run ends at once. */
  onClusterFailure: 'fail-op' | 'quit';
  bounds?: Partial<TimingBounds>;
  /**
   * Where the runner reaches an op's port for the health checks no probe can express; default:
   * the Pod's IP (the runner then must run where Pod IPs are routed, as a node agent in the cluster does).
   */
  checkResolver?: CheckTargetResolver;
  /** Called whenever the result document changes. */
  onProgress?: (flow: FlowState, ops: Readonly<Record<string, ObservedOp>>) => void;
}

export interface RunResult {
  flow: FlowState;
  /** Set when the run ended because the cluster failed it (onClusterFailure 'quit'). */
  clusterFailure?: { opId: string; cause: ClusterFailureCause; message: string };
}

/** The most of one Pod's log the runner reads (the API cuts the tail it sends at this size). */
export const MAX_LOG_BYTES_PER_POD = 32 * 1024 * 1024;

/** runPlan's rejection when options.detach was aborted: the run goes on without this runner. */
export class RunDetached extends Error {
  constructor() {
    super('the runner let go of the run; its objects are left for the next runner');
    this.name = 'RunDetached';
  }
}

/**
 * Runs the plan to its end and returns the result document; the run's objects are gone
 * afterwards, unless the runner was detached (then they are left exactly as they are).
 */
export async function runPlan(plan: Plan, options: RunOptions): Promise<RunResult> {
  const run = new PlanRun(plan, options);
  let detached = false;
  try {
    return await run.execute();
  } catch (error) {
    detached = error instanceof RunDetached;
    throw error;
  } finally {
    if (detached) await run.letGo();
    else await run.cleanUp();
  }
}

class PlanRun {
  readonly #plan: Plan;
  readonly #options: RunOptions;
  readonly #api: KubeApi;
  readonly #namespace: string;
  readonly #pods: SupervisedInformer<V1Pod>;
  readonly #marks = new Map<string, RunnerMarks>();
  readonly #flow: FlowState;
  #job: JobContext;
  #wake: () => void = () => undefined;
  readonly #checks: RunnerChecks;
  readonly #cachesUsed = new Set<string>();
  /** Each launched op's args with literals resolved: a Pod replaced for a failed check is rebuilt from them. */
  readonly #launchedArgs = new Map<string, ContainerRunArgs>();

  constructor(plan: Plan, options: RunOptions) {
    this.#plan = plan;
    this.#options = options;
    this.#api = new KubeApi(options.kubeConfig);
    this.#namespace = options.settings.namespace;
    this.#job = { jobId: plan.jobId, settings: options.settings };
    this.#flow = initialFlowState(plan.definition.ops, Date.now());
    const labelSelector = `${MANAGED_BY_LABEL}=${MANAGED_BY},${JOB_LABEL}=${labelValue(plan.jobId)}`;
    this.#pods = new SupervisedInformer<V1Pod>(
      options.kubeConfig,
      `/api/v1/namespaces/${encodeURIComponent(this.#namespace)}/pods`,
      options.log,
      {
        labelSelector,
      },
    );
    this.#pods.on(() => this.#wake());
    this.#checks = new RunnerChecks({
      namespace: this.#namespace,
      jobId: plan.jobId,
      resolver: options.checkResolver ?? defaultCheckTargetResolver,
      log: options.log,
      wake: () => this.#wake(),
    });
  }

  async execute(): Promise<RunResult> {
    this.#throwIfDetached();
    const owner = await this.#create(buildRunConfigMap(this.#job, { jobId: this.#plan.jobId }), true);
    this.#job = { ...this.#job, ownerReferences: ownedBy(owner as V1ConfigMap) };
    await this.#create(buildNetworkPolicy(this.#job, this.#options.settings.networkPeers) as KubernetesObject);
    if (this.#options.settings.dra !== undefined) await this.#create(buildResourceClaim(this.#job) as KubernetesObject);
    await this.#pods.start();
    this.#options.signal?.addEventListener('abort', () => this.#wake(), { once: true });
    this.#options.detach?.addEventListener('abort', () => this.#wake(), { once: true });
    this.#flow.status = 'running';
    for (;;) {
      this.#throwIfDetached();
      const now = Date.now();
      const ops = this.#observe(now);
      await this.#replaceForFailedChecks(ops, now);
      const actions = decideRun({
        plan: this.#plan,
        ops,
        now,
        ...this.#deadline(),
        jobStopped: this.#options.signal?.aborted === true,
        ...(this.#options.bounds === undefined ? {} : { bounds: this.#options.bounds }),
      });
      for (const action of actions) {
        this.#throwIfDetached();
        const ended = await this.#perform(action, ops, now);
        if (ended !== undefined) return ended;
      }
      this.#options.onProgress?.(this.#flow, ops);
      // A job volume is ready the moment its claim is created, and no informer tells of it: decide
      // again at once rather than a tick later, so the ops after it start without a pause.
      const volumeCreated = actions.some((action) => action.kind === 'launch' && this.#op(action.opId).type === 'container/create-volume');
      if (!volumeCreated) await this.#nextChange();
    }
  }

  #throwIfDetached(): void {
    if (this.#options.detach?.aborted === true) throw new RunDetached();
  }

  /** Stops watching; the run's objects stay for the runner that takes the run over. */
  async letGo(): Promise<void> {
    this.#checks.close();
    await this.#pods.stop();
  }

  /** Deleting the run's ConfigMap lets the garbage collector take what it owns; the Pods go at once. */
  async cleanUp(): Promise<void> {
    this.#checks.close();
    await this.#pods.stop();
    const ns = encodeURIComponent(this.#namespace);
    const selector = `${MANAGED_BY_LABEL}=${MANAGED_BY},${JOB_LABEL}=${labelValue(this.#plan.jobId)}`;
    await this.#api
      .request('DELETE', `/api/v1/namespaces/${ns}/pods`, { query: { labelSelector: selector, gracePeriodSeconds: 0 } })
      .catch((error: unknown) => this.#options.log.warn({ err: error }, 'deleting the run Pods failed'));
    const owner = buildRunConfigMap(this.#job, {}).metadata?.name ?? '';
    await this.#api
      .request('DELETE', `/api/v1/namespaces/${ns}/configmaps/${encodeURIComponent(owner)}`, { query: { propagationPolicy: 'Background' } })
      .catch((error: unknown) => {
        if (!hasStatus(error, 404)) this.#options.log.warn({ err: error }, 'deleting the run ConfigMap failed');
      });
  }

  #deadline(): { deadline?: number } {
    const deadline = this.#options.deadline?.();
    return deadline === undefined ? {} : { deadline };
  }

  #marksOf(opId: string): RunnerMarks {
    let marks = this.#marks.get(opId);
    if (marks === undefined) {
      marks = {};
      this.#marks.set(opId, marks);
    }
    return marks;
  }

  #podOf(op: PlannedOp): V1Pod | undefined {
    return this.#pods.get({ namespace: this.#namespace, name: opPodName(this.#plan.jobId, op.index) });
  }

  #observe(now: number): Record<string, ObservedOp> {
    const ops: Record<string, ObservedOp> = {};
    for (const op of this.#plan.ops) {
      const marks = this.#marksOf(op.id);
      if (op.type === 'container/create-volume') {
        ops[op.id] = { ...podPhaseForVolume(marks.launchedAt !== undefined, marks.launchedAt), ...carried(marks) };
        continue;
      }
      const pod = this.#podOf(op);
      const { observed, marks: next } = observePod(pod, marks, now);
      this.#marks.set(op.id, next);
      ops[op.id] = this.#checks.observe(op.id, op.index, pod, observed, now);
    }
    return ops;
  }

  async #perform(action: RunnerAction, ops: Record<string, ObservedOp>, now: number): Promise<RunResult | undefined> {
    switch (action.kind) {
      case 'start-group':
        this.#options.log.info({ group: action.group }, 'starting group');
        return undefined;
      case 'launch':
        await this.#launch(this.#op(action.opId), now);
        return undefined;
      case 'stop':
        await this.#stop(action.opId, action.cause, now);
        return undefined;
      case 'finish':
        await this.#finish(action, ops[action.opId], now);
        return undefined;
      case 'cluster-failure':
        if (this.#options.onClusterFailure === 'quit')
          return { flow: this.#flow, clusterFailure: { opId: action.opId, cause: action.cause, message: action.message } };
        await this.#stop(action.failOp.opId, action.failOp.cause, now);
        return undefined;
      case 'end-flow':
        this.#flow.status = action.status;
        this.#flow.endTime = now;
        this.#flow.secrets = {};
        this.#options.onProgress?.(this.#flow, ops);
        return { flow: this.#flow };
    }
  }

  #op(opId: string): PlannedOp {
    const op = this.#plan.ops.find((candidate) => candidate.id === opId);
    if (op === undefined) throw new Error(`the decision named op ${opId}, which the plan does not have`);
    return op;
  }

  #opContext(op: PlannedOp): OpContext {
    return { ...this.#job, opIndex: op.index, opId: op.id };
  }

  /** What `%%ops.…%%` and `%%global.…%%` resolve to now: op hosts, and the results of ended ops. */
  #literalValues(): LiteralValues {
    const ops: LiteralValues['ops'] = Object.fromEntries(
      this.#plan.ops.map((op) => {
        const state = this.#flow.opStates[op.index];
        return [
          op.id,
          { host: opServiceName(this.#plan.jobId, op.index), ...(state?.results === undefined ? {} : { results: state.results }) },
        ];
      }),
    );
    const variables = this.#plan.definition.global?.variables;
    return { ops, globals: { ...this.#options.globals, ...(variables === undefined ? {} : { variables }) } };
  }

  async #launch(op: PlannedOp, now: number): Promise<void> {
    const marks = this.#marksOf(op.id);
    if (marks.launchedAt !== undefined || marks.launchFailure !== undefined) return;
    if (op.type === 'container/create-volume') {
      await this.#create(buildJobVolumeClaim(this.#job, op.args.name));
      marks.launchedAt = now;
      return;
    }
    let resolved: ReturnType<typeof resolveOpArgs>;
    try {
      resolved = resolveOpArgs(op.args, this.#literalValues());
    } catch (error) {
      // A value no resolution can handle (nested too deep for the stack): the op fails, not the run.
      resolved = { error: `the op's literals cannot be resolved: ${(error as Error).message}` };
    }
    if ('error' in resolved) {
      marks.launchFailure = { cause: 'unresolved-literal', message: resolved.error };
      this.#wake();
      return;
    }
    const checked = checkResolvedArgs(op.id, resolved.args);
    if ('error' in checked) {
      marks.launchFailure = { cause: 'container-runtime-error', message: checked.error };
      this.#wake();
      return;
    }
    const args = checked.args;
    const tooManyChecks = this.#checks.track(op.id, args);
    if (tooManyChecks !== undefined) {
      marks.launchFailure = { cause: 'container-runtime-error', message: tooManyChecks };
      this.#wake();
      return;
    }
    this.#launchedArgs.set(op.id, args);
    // A spread can turn one log line into any number of resources, each a volume: bounded.
    const resources = (args.resources ?? []).length;
    if (resources > MAX_RESOURCES_PER_OP) {
      marks.launchFailure = {
        cause: 'resource-error',
        message: `the op asks for ${resources} resources; at most ${MAX_RESOURCES_PER_OP} are fetched for one op`,
      };
      this.#wake();
      return;
    }
    const mounts = resourceMounts(this.#plan.jobId, op.index, args);
    const cacheProblem = 'error' in mounts ? mounts.error : this.#claimCaches(mounts);
    if (cacheProblem !== undefined || 'error' in mounts) {
      marks.launchFailure = { cause: 'resource-error', message: cacheProblem ?? 'the resources cannot be mounted' };
      this.#wake();
      return;
    }
    const context = this.#opContext(op);
    try {
      await this.#createOpObjects(context, args, mounts);
    } catch (error) {
      // The API refused an object (a name, a quantity, a quota): the op fails like a runtime error.
      marks.launchFailure = { cause: 'container-runtime-error', message: (error as Error).message };
      this.#wake();
      return;
    }
    marks.launchedAt = now;
  }

  /**
   * Counts the shared caches this job makes the node keep. A cache outlives the job (that is its
   * point), so a definition naming thousands of distinct resources over many ops would leave as
   * many volumes behind: at most MAX_CACHES_PER_JOB per job.
   */
  #claimCaches(mounts: readonly ResourceMount[]): string | undefined {
    const wanted = mounts.filter((mount) => !mount.privateCopy).map((mount) => mount.claimName);
    const total = new Set([...this.#cachesUsed, ...wanted]);
    if (total.size > MAX_CACHES_PER_JOB) {
      return `the job would keep ${total.size} resource caches on the node; at most ${MAX_CACHES_PER_JOB} are kept for one job`;
    }
    for (const name of wanted) this.#cachesUsed.add(name);
    return undefined;
  }

  async #createOpObjects(context: OpContext, args: ContainerRunArgs, mounts: readonly ResourceMount[]): Promise<void> {
    const docker = args.authentication?.docker;
    if (docker !== undefined) await this.#create(buildPullSecret(context, args.image, docker));
    for (const mount of mounts) {
      for (const { resource, index } of mount.resources) {
        const secret = buildResourceCredentialSecret(context, index, resource);
        if (secret !== undefined) await this.#create(secret);
      }
      // A resource cache is shared by every job that reads it: never owned by this run.
      const first = mount.resources[0]?.index ?? 0;
      await this.#create(
        mount.privateCopy ? buildPrivateResourceClaim(context, first) : buildResourceCacheClaim(this.#job.settings, mount),
      );
    }
    const service = buildOpService(context, args);
    if (service !== undefined) await this.#create(service);
    if (service !== undefined && this.#job.settings.exposure !== undefined) {
      for (const route of buildExposureRoutes(context, args, { mode: 'public' })) await this.#create(route.route as KubernetesObject);
    }
    await this.#createPod(context, args);
  }

  async #createPod(context: OpContext, args: ContainerRunArgs): Promise<void> {
    // Every Pod of a job runs on the node of its first Pod, so they can share volumes.
    const pinToNode = this.#pods.list(this.#namespace).find((pod) => pod.spec?.nodeName !== undefined)?.spec?.nodeName;
    const hostAliases = this.#hostAliases(context.opIndex);
    const pod = buildOpPod(context, {
      args,
      definition: this.#plan.definition,
      ...(pinToNode === undefined ? {} : { pinToNode }),
      ...(hostAliases.length === 0 ? {} : { hostAliases }),
    });
    await this.#create(pod);
  }

  /**
   * On Nosana's node the ops of a job share a network where each is reached by its container name
   * (what `%%ops.<id>.host%%` gives) and by its `aliases`. Here each op is a Pod: a new Pod gets
   * those names as host entries for every other op of the job already running, at its Pod's IP.
   * (Ops start after what they depend on, so the ops a Pod talks to are running by then.)
   */
  #hostAliases(opIndex: number): { ip: string; hostnames: string[] }[] {
    const entries: { ip: string; hostnames: string[] }[] = [];
    for (const op of this.#plan.ops) {
      if (op.index === opIndex || op.type !== 'container/run') continue;
      const ip = this.#podOf(op)?.status?.podIP;
      if (ip === undefined || ip === '' || this.#marksOf(op.id).finished !== undefined) continue;
      const aliases = opAliases(this.#launchedArgs.get(op.id) ?? {})
        .map((alias) => alias.toLowerCase())
        .filter((alias) => DNS_SUBDOMAIN.test(alias));
      entries.push({ ip, hostnames: [opServiceName(this.#plan.jobId, op.index), ...aliases] });
    }
    return entries;
  }

  /**
   * A `restart_on_failure` check the kubelet cannot perform failed: the op's container is
   * restarted by replacing its Pod (a Pod's container cannot be restarted through the API). Its
   * log so far is kept; the new Pod is created once the old one is gone (same name).
   */
  async #replaceForFailedChecks(ops: Readonly<Record<string, ObservedOp>>, now: number): Promise<void> {
    for (const op of this.#plan.ops) {
      const marks = this.#marksOf(op.id);
      const observed = ops[op.id];
      if (observed === undefined || marks.stopRequested !== undefined || marks.finished !== undefined) continue;
      const replacing = marks.replacing;
      if (replacing !== undefined) {
        const args = this.#launchedArgs.get(op.id);
        if (replacing.recreated !== true && this.#podOf(op) === undefined && args !== undefined) {
          await this.#createPod(this.#opContext(op), args);
          replacing.recreated = true;
        }
        continue;
      }
      const wanted = this.#checks.restartWanted(op.id);
      const pod = this.#podOf(op);
      const uid = pod?.metadata?.uid;
      if (wanted === undefined || uid === undefined) continue;
      this.#options.log.info({ op: op.id, restarts: wanted.restarts, detail: wanted.detail }, 'restarting the op: a health check failed');
      await this.#collectLogs(op);
      this.#checks.restarted(op.id, wanted.restarts);
      marks.replacing = { uid, at: now };
      await this.#api
        .request(
          'DELETE',
          `/api/v1/namespaces/${encodeURIComponent(this.#namespace)}/pods/${encodeURIComponent(opPodName(this.#plan.jobId, op.index))}`,
        )
        .catch((error: unknown) => {
          if (!hasStatus(error, 404)) throw error;
        });
    }
  }

  async #stop(opId: string, cause: StopCause, now: number): Promise<void> {
    const marks = this.#marksOf(opId);
    marks.stopRequested ??= { cause, at: now };
    const op = this.#op(opId);
    if (op.type === 'container/create-volume') return;
    const name = encodeURIComponent(opPodName(this.#plan.jobId, op.index));
    // Logs are read before the Pod goes: a stopped op keeps what it printed.
    await this.#collectLogs(op);
    await this.#api.request('DELETE', `/api/v1/namespaces/${encodeURIComponent(this.#namespace)}/pods/${name}`).catch((error: unknown) => {
      if (!hasStatus(error, 404)) throw error;
    });
  }

  /** Per op, its log so far over all its Pods (a replaced Pod's first), capped as the result is. */
  readonly #logs = new Map<string, LogEntry[]>();
  /** The Pods whose log was read (by uid): each is read once, when it ends or is stopped or replaced. */
  readonly #logsRead = new Set<string>();

  #logsOf(opId: string): LogEntry[] {
    return this.#logs.get(opId) ?? [];
  }

  /** The op container's log, with the API's timestamps, each line tagged with its stream (log-streams.ts). */
  async #collectLogs(op: PlannedOp): Promise<void> {
    const pod = this.#podOf(op);
    const uid = pod?.metadata?.uid ?? '';
    if (pod === undefined || this.#logsRead.has(uid)) return;
    const path = `/api/v1/namespaces/${encodeURIComponent(this.#namespace)}/pods/${encodeURIComponent(pod.metadata?.name ?? '')}/log`;
    // Only what the result keeps (the newest MAX_LOG_ENTRIES lines), and never more bytes than the
    // runner is willing to hold for one Pod: a container printing without end must not exhaust the
    // agent's memory.
    const read = (stream?: 'Stdout' | 'Stderr'): Promise<string> =>
      this.#api.text(path, {
        query: {
          container: OP_CONTAINER_NAME,
          timestamps: true,
          tailLines: MAX_LOG_ENTRIES,
          limitBytes: MAX_LOG_BYTES_PER_POD,
          ...(stream === undefined ? {} : { stream }),
        },
      });
    let merged: string;
    try {
      merged = await read();
    } catch (error) {
      this.#options.log.debug({ err: error, op: op.id }, 'the op has no log to read');
      return;
    }
    const [stdout, stderr] = await Promise.all([read('Stdout').catch(() => undefined), read('Stderr').catch(() => undefined)]);
    this.#logsRead.add(uid);
    this.#logs.set(op.id, appendLogs(this.#logsOf(op.id), tagStreams(merged, stdout, stderr)));
  }

  async #finish(action: FinishAction, observed: ObservedOp | undefined, now: number): Promise<void> {
    const op = this.#op(action.opId);
    const marks = this.#marksOf(op.id);
    if (marks.finished !== undefined) return;
    if (op.type === 'container/run') await this.#collectLogs(op);
    const state = this.#flow.opStates[op.index];
    if (state === undefined) return;
    const logs = appendLogs(state.logs, [
      ...this.#logsOf(op.id),
      ...(action.nodeLog === undefined ? [] : [{ type: 'nodeerr' as const, log: action.nodeLog, timestamp: new Date(now).toISOString() }]),
    ]);
    const pod = this.#podOf(op);
    const container = pod?.status?.containerStatuses?.find((status) => status.name === OP_CONTAINER_NAME);
    const next: OpState = {
      ...state,
      providerId: pod?.metadata?.uid ?? state.providerId,
      status: action.status,
      startTime: observed?.startedAt ?? state.startTime,
      endTime: action.endedAt ?? now,
      exitCode: action.exitCode ?? null,
      logs,
      errors: action.error === undefined ? state.errors : [...state.errors, action.error],
      diagnostics: {
        ...state.diagnostics,
        reason: { ...state.diagnostics.reason, ...diagnosticsReason(action) },
        ...(container === undefined ? {} : { state: containerStateDiagnostics(container) }),
      },
    };
    if (op.type === 'container/run' && op.args !== undefined) {
      const spec = this.#plan.definition.ops[op.index];
      if (spec !== undefined && 'results' in spec && spec.results !== undefined) next.results = extractResults(spec.results, logs);
    }
    this.#flow.opStates[op.index] = next;
    marks.finished = action.status;
  }

  /** Creates an object (already there is fine: launches are idempotent); returns the stored object. */
  async #create(object: KubernetesObject, readBack = false): Promise<KubernetesObject> {
    const path = await this.#api.resourcePath({ apiVersion: object.apiVersion ?? '', kind: object.kind ?? '', namespace: this.#namespace });
    try {
      return await this.#api.request<KubernetesObject>('POST', path, { body: object });
    } catch (error) {
      if (!hasStatus(error, 409)) throw error;
      if (!readBack) return object;
      return this.#api.request<KubernetesObject>('GET', `${path}/${encodeURIComponent(object.metadata?.name ?? '')}`);
    }
  }

  #nextChange(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, TICK_MS);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** The marks the runner carries for a create-volume op (it has no Pod to observe). */
function carried(marks: RunnerMarks): Partial<ObservedOp> {
  return {
    ...(marks.stopRequested === undefined ? {} : { stopRequested: marks.stopRequested }),
    ...(marks.finished === undefined ? {} : { finished: marks.finished }),
    ...(marks.launchFailure === undefined ? {} : { phase: 'failed-to-launch' as const, launchFailure: marks.launchFailure }),
  };
}

/** The result's diagnostics flags and text for how the op ended. */
function diagnosticsReason(action: FinishAction): Partial<OpState['diagnostics']['reason']> {
  const cause = action.cause;
  if (cause?.kind === 'job-expired') return abortDiagnosticsReason('expired');
  if (cause?.kind === 'stopped') return abortDiagnosticsReason('stopped');
  if (cause?.kind === 'op-timeout') return opTimeoutReason(cause.timeoutSeconds);
  return action.reason === undefined ? {} : { reason: action.reason };
}
