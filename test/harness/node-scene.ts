// What an end-to-end test file of the node agent shares, on top of the NosanaJob scene (localnet,
// controller process, namespaces): a job namespace an administrator marked for jobs, the rule
// table that decides what each simulated container there does, a ServiceAccount identity of the
// agent's own (so the audit log tells its requests from the controller's), and the agent running
// as a child process serving the scene's first namespace. Files share one agent between tests;
// crash tests start and kill their own.
import { after, before } from 'node:test';
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import pino from 'pino';
import type { NosanaNodeObject } from '../../src/api/crds/nosana-node.ts';
import { JOB_NAMESPACE_ALLOWED, JOB_NAMESPACE_LABEL } from '../../src/controllers/nosana-node/containment.ts';
import { SimulationWatcher } from '../../src/local-cluster/simulation.ts';
import type { SimulationRule } from '../../src/local-cluster/simulation.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';
import { KubeApi } from '../../src/runtime/kube-api.ts';
import { controllerIdentity, type ControllerIdentity } from './controller-process.ts';
import { kubectl } from './kubectl.ts';
import { localnetDir } from './localnet-faults.ts';
import { startNodeAgent, type NodeAgentProcessOptions } from './node-agent-process.ts';
import { NOSANA_API_VERSION, WALLET_KEY } from './nosana-fixtures.ts';
import { useNosanaScene, type NosanaScene, type SceneOptions } from './nosana-scene.ts';
import type { OperatorProcess } from './operator-process.ts';

export interface NodeSceneOptions extends SceneOptions {
  rules: readonly SimulationRule[];
  /** Start one agent in the file's `before` (default); crash tests start their own. */
  startAgent?: boolean;
  agent?: Partial<NodeAgentProcessOptions>;
}

export class NodeScene {
  readonly jobs: NosanaScene;
  /** Where job Pods run: labelled for jobs by the test, as an administrator would. */
  readonly jobNamespace: string;
  readonly agentIdentity: ControllerIdentity;
  readonly #agents = new Set<OperatorProcess>();
  #agent: OperatorProcess | undefined;
  readonly #defaults: Partial<NodeAgentProcessOptions>;

  constructor(jobs: NosanaScene, jobNamespace: string, agentIdentity: ControllerIdentity, defaults: Partial<NodeAgentProcessOptions>) {
    this.jobs = jobs;
    this.jobNamespace = jobNamespace;
    this.agentIdentity = agentIdentity;
    this.#defaults = defaults;
  }

  get agent(): OperatorProcess {
    if (this.#agent === undefined) throw new Error('no node agent was started in this scene');
    return this.#agent;
  }

  /** Starts a node agent serving the scene's first namespace (not ready yet). */
  async startAgent(overrides: Partial<NodeAgentProcessOptions> = {}): Promise<OperatorProcess> {
    const agent = await startNodeAgent({
      kubeconfigPath: this.agentIdentity.kubeconfigPath,
      localnetDir: localnetDir(this.jobs.localnet),
      namespaces: [this.jobs.ns.name],
      ...this.#defaults,
      ...overrides,
    });
    this.#agents.add(agent);
    this.#agent = agent;
    return agent;
  }

  /** A NosanaNode of the first namespace running its jobs in the job namespace. */
  async createNode(name: string, spec: Record<string, unknown> & { market: string; keySecret: string }): Promise<void> {
    const { keySecret, ...rest } = spec;
    await this.jobs.ctx.objects.create({
      apiVersion: NOSANA_API_VERSION,
      kind: 'NosanaNode',
      metadata: { name, namespace: this.jobs.ns.name },
      spec: { keySecretRef: { name: keySecret, key: WALLET_KEY }, pods: { namespace: this.jobNamespace }, ...rest },
    } as KubernetesObject);
  }

  async node(name: string): Promise<NosanaNodeObject | undefined> {
    try {
      return (await this.jobs.ctx.objects.read({
        apiVersion: NOSANA_API_VERSION,
        kind: 'NosanaNode',
        metadata: { name, namespace: this.jobs.ns.name },
      })) as NosanaNodeObject;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
  }

  /** Waits until the NosanaNode satisfies `accept`; on timeout the message says where it stood. */
  async waitForNode(
    name: string,
    what: string,
    accept: (node: NosanaNodeObject) => boolean,
    timeoutMs = 60_000,
  ): Promise<NosanaNodeObject> {
    return waitFor(
      async () => {
        const node = await this.node(name);
        if (node !== undefined && accept(node)) return node;
        throw new Error(describeNode(node));
      },
      { what: `NosanaNode ${this.jobs.ns.name}/${name} ${what}`, timeoutMs, intervalMs: 250 },
    );
  }

  async waitForNodePhase(name: string, phase: string, reason?: string, timeoutMs = 60_000): Promise<NosanaNodeObject> {
    return this.waitForNode(
      name,
      `to be ${phase}${reason === undefined ? '' : `/${reason}`}`,
      (node) => node.status?.phase === phase && (reason === undefined || readyReason(node) === reason),
      timeoutMs,
    );
  }

  /** Job Pods in the job namespace that are not being deleted. */
  async jobPods(): Promise<V1Pod[]> {
    const pods = await this.jobs.ctx.core.listNamespacedPod({ namespace: this.jobNamespace });
    return pods.items.filter((pod) => pod.metadata?.deletionTimestamp === undefined);
  }

  async stopAgents(): Promise<void> {
    await Promise.all([...this.#agents].map((agent) => agent.stop()));
    this.#agents.clear();
  }

  hasRunningAgent(): boolean {
    return [...this.#agents].some((agent) => agent.running);
  }
}

export function readyReason(node: NosanaNodeObject | undefined): string | undefined {
  return node?.status?.conditions?.find((condition) => condition.type === 'Ready')?.reason;
}

export function describeNode(node: NosanaNodeObject | undefined): string {
  if (node === undefined) return 'the NosanaNode does not exist';
  const ready = node.status?.conditions?.find((condition) => condition.type === 'Ready');
  return `phase ${node.status?.phase ?? '-'} ${ready?.reason ?? ''}: ${ready?.message ?? ''}; lastError ${node.status?.lastError ?? '-'}`;
}

/** Registers the file's hooks (inside its describe); the getter works inside tests. */
export function useNodeScene(options: NodeSceneOptions): () => NodeScene {
  let scene: NodeScene | undefined;
  let watcher: SimulationWatcher | undefined;
  // Registered before the job scene's hooks, so it runs first: NosanaNodes drain and go while the
  // agent and the localnet still run; then the agents stop.
  after(async () => {
    if (scene === undefined) return;
    if (scene.hasRunningAgent())
      await kubectl(scene.jobs.ctx, ['delete', 'nosananodes', '--all', '-n', scene.jobs.ns.name, '--timeout=60s']);
    await scene.stopAgents();
    await watcher?.stop();
    await scene.agentIdentity.remove();
  });
  const jobs = useNosanaScene(options);
  before(async () => {
    const { ctx, ns } = jobs();
    const jobNamespace = await ctx.freshNamespace(`${options.prefix ?? 'nn'}-jobs`);
    await new KubeApi(ctx.kubeConfig).request('PATCH', `/api/v1/namespaces/${jobNamespace}`, {
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { [JOB_NAMESPACE_LABEL]: JOB_NAMESPACE_ALLOWED } } },
    });
    watcher = new SimulationWatcher({
      kubeConfig: ctx.kubeConfig,
      logsDir: ctx.handle.kwokLogsDir,
      rules: options.rules,
      namespaces: [jobNamespace],
      log: pino({ level: 'silent' }),
    });
    await watcher.start();
    const identity = await controllerIdentity(ctx, ns.name, 'nosana-node-agent');
    scene = new NodeScene(jobs(), jobNamespace, identity, options.agent ?? {});
    if (options.startAgent ?? true) await (await scene.startAgent()).waitReady();
  });
  return () => {
    if (scene === undefined) throw new Error('the node scene is not set up yet (use it inside a test)');
    return scene;
  };
}
