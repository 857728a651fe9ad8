// `nosana-operator demo`: the project's main job, end to end, on one machine with nothing to set
// up. A local Kubernetes with simulated GPU nodes, the embedded Nosana network, the operator's APIs
// installed with kubectl, the controller and the node agent running in this process; then the
// seeds' story job is applied as a NosanaJob, posted, taken by a NosanaNode, run as a GPU Pod and
// finished on chain, and every step is printed as the watches see it. Everything it started is
// stopped before it returns, whatever happened.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CoreV1Api, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { stringify } from 'yaml';
import type { TextOutput } from '../cli/io.ts';
import { formatNos } from '../chain/money.ts';
import { controlPlaneBinaries } from '../local-cluster/binaries.ts';
import { LocalCluster } from '../local-cluster/cluster.ts';
import { SimulationWatcher } from '../local-cluster/simulation.ts';
import { startLocalnet } from '../localnet/localnet.ts';
import type { Localnet } from '../localnet/localnet.ts';
import { findCondition } from '../runtime/conditions.ts';
import { applyApisArgs, installNosanaApis, kubectl } from './install-apis.ts';
import { LiveView, until } from './live-view.ts';
import { DEMO, STORY_TIMEOUT_SECONDS, demoMarket, demoNamespaces, demoNode, keypairSecret, storyJob } from './manifests.ts';
import { demoManagerSettings, demoNetworks, demoNodeAgentSettings } from './operator-settings.ts';
import { fileLogger, startController, startNodeAgent } from './operators.ts';
import type { InProcessOperator } from './operators.ts';
import { jobSettled } from './phase-lines.ts';
import { Progress } from './progress.ts';
import { DEMO_SIMULATION_RULES, STORY_IMAGE } from './simulation-rules.ts';
import { SIMULATED_NOTICE, resultSummary, whereThingsStood } from './summary.ts';
import type { OpLogs } from './summary.ts';
import { Teardown } from './teardown.ts';

export interface DemoOptions {
  /** Keep everything running after the job ended, until interrupted. */
  keep: boolean;
  /** How long the demo may take to reach the job's end. */
  timeoutMs: number;
}

export type DemoOutcome = 'succeeded' | 'failed' | 'timed-out' | 'interrupted';

// The localnet's slots are short, as in the project's tests: a post lands in a fraction of a second.
const SLOT_MS = 100;
// After the job ended, how long the node may take to count it before the summary is printed.
const NODE_COUNT_WAIT_MS = 15_000;

/** What the demo has running, once it all started. */
interface Stage {
  cluster: LocalCluster;
  kubeConfig: KubeConfig;
  kubectlPath: string;
  localnet: Localnet;
  view: LiveView;
  operators: InProcessOperator[];
}

/** Where the demo keeps its files: logs (kept when it fails) and the local network's keys (never kept). */
interface WorkDir {
  root: string;
  logs: string;
  localnet: string;
}

export async function runDemo(options: DemoOptions, out: TextOutput, interrupt: AbortSignal): Promise<DemoOutcome> {
  const progress = new Progress(out);
  const root = await mkdtemp(join(tmpdir(), 'nosana-demo-'));
  const dirs: WorkDir = { root, logs: join(root, 'logs'), localnet: join(root, 'localnet') };
  const teardown = new Teardown();
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const waiting = AbortSignal.any([interrupt, deadline]);
  const log = fileLogger(join(dirs.logs, 'demo.log'));
  let keepLogs = false;
  // Filled as things start, so that a failure midway still says where things stood.
  const stage: Partial<Stage> = {};
  let outcome: DemoOutcome;

  progress.plain(
    'nosana-operator demo: a NosanaJob posted to a Nosana market and run by a NosanaNode, end to end on this machine.\n' +
      'Kubernetes and the Nosana network are local; the GPUs and containers are simulated. Nothing touches mainnet.\n',
  );
  try {
    const started = await setUp(stage, progress, dirs, teardown, log, waiting, () => keepLogs);
    outcome = await playStory(progress, started, dirs, waiting);
    if (outcome === 'failed') keepLogs = true;
    if (options.keep) await keepRunning(progress, started, dirs, interrupt);
  } catch (error) {
    if (interrupt.aborted) {
      outcome = 'interrupted';
      progress.step('interrupted');
    } else if (deadline.aborted) {
      outcome = 'timed-out';
      keepLogs = true;
      progress.step(`timed out after ${Math.round(options.timeoutMs / 1000)} s; where things stood:\n${standing(stage)}`);
    } else {
      outcome = 'failed';
      keepLogs = true;
      progress.step(`the demo failed: ${(error as Error).message}`);
    }
  }
  progress.step('stopping the node agent, the controller, the local Nosana network and the cluster…');
  const failures = await teardown.run();
  for (const failure of failures) progress.step(`could not stop ${failure.what}: ${(failure.error as Error).message}`);
  // The keys of the local network are never left behind; the logs only when they may explain a failure.
  await rm(keepLogs ? dirs.localnet : dirs.root, { recursive: true, force: true });
  if (keepLogs) {
    progress.step(
      `logs kept: ${dirs.logs} (controller.log, node-agent.log)${stage.cluster === undefined ? '' : ` and ${stage.cluster.workDir}/logs`}`,
    );
  }
  progress.step(failures.length === 0 ? 'stopped; nothing is left running' : 'stopped, with the failures above');
  return outcome;
}

function standing(stage: Partial<Stage>): string {
  const view = stage.view;
  if (view === undefined) return '  the cluster and the operator had not started yet';
  return whereThingsStood(view.job(), view.node(), view.jobPods());
}

async function setUp(
  stage: Partial<Stage>,
  progress: Progress,
  dirs: WorkDir,
  teardown: Teardown,
  log: Logger,
  signal: AbortSignal,
  keepLogs: () => boolean,
): Promise<Stage> {
  progress.step('starting a local Kubernetes: etcd, kube-apiserver, kube-scheduler, kube-controller-manager, and KWOK for the GPU nodes…');
  const cluster = await LocalCluster.start();
  stage.cluster = cluster;
  teardown.add('the local cluster', () => cluster.stop({ keepWorkDir: keepLogs() }));
  const { handle } = cluster;
  progress.step(
    `Kubernetes ${handle.version} ready with ${handle.gpuNodes.length} simulated GPU nodes (${handle.gpuNodes.join(', ')})\n` +
      `work dir ${handle.workDir}; control-plane process ids ${cluster.pids().join(' ')}`,
  );
  signal.throwIfAborted();

  const localnet = await startLocalnet({ stateDir: dirs.localnet, chain: { slotMs: SLOT_MS } });
  stage.localnet = localnet;
  teardown.add('the local Nosana network', () => localnet.close());
  const poster = await localnet.jobsClient().getBalances(localnet.poster.publicKey);
  const { info } = localnet;
  progress.step(
    `local Nosana network ready: Solana RPC ${info.rpcUrl}, IPFS ${info.ipfsApiUrl}\n` +
      `market ${info.market}; poster wallet ${info.posterAddress} (${formatNos(poster.nos)} NOS); node key ${info.nodeAddress}\n` +
      `keys in ${dirs.localnet} (files readable by you only; never printed)`,
  );
  signal.throwIfAborted();

  const kubectlPath = (await controlPlaneBinaries()).kubectl;
  stage.kubectlPath = kubectlPath;
  await installNosanaApis(kubectlPath, handle.kubeconfigPath);
  progress.step(`kubectl ${applyApisArgs().join(' ')}: the NosanaJob, NosanaMarket and NosanaNode CRDs are Established`);

  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(handle.kubeconfigPath);
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  const create = (object: KubernetesObject): Promise<unknown> => objects.create(object);
  for (const namespace of demoNamespaces()) await create(namespace);
  await create(keypairSecret(DEMO.walletSecret, localnet.poster));
  await create(keypairSecret(DEMO.nodeKeySecret, localnet.node));
  await create(demoMarket(info.market));
  progress.step(
    `namespace ${DEMO.namespace}: Secrets ${DEMO.walletSecret} (the poster's wallet) and ${DEMO.nodeKeySecret} (the node's key), ` +
      `NosanaMarket ${DEMO.market} (the local market)\n` +
      `namespace ${DEMO.jobNamespace}: labelled for job Pods, as an administrator marks one`,
  );
  signal.throwIfAborted();

  stage.kubeConfig = kubeConfig;
  const view = new LiveView(kubeConfig, log, progress);
  await view.start();
  stage.view = view;
  teardown.add('the demo watches', () => view.stop());
  const simulation = new SimulationWatcher({
    kubeConfig,
    logsDir: handle.kwokLogsDir,
    rules: DEMO_SIMULATION_RULES,
    namespaces: [DEMO.jobNamespace],
    log,
  });
  await simulation.start();
  teardown.add('the container simulation', () => simulation.stop());
  progress.step(`simulated containers: ${STORY_IMAGE} prints a canned story and exits 0 after 2 s; any other image runs 2 s and exits 0`);

  const networks = demoNetworks(info);
  const controller = startController(handle.kubeconfigPath, dirs.logs, demoManagerSettings(networks));
  teardown.add('the controller', () => controller.stop());
  const agent = startNodeAgent(handle.kubeconfigPath, dirs.logs, demoNodeAgentSettings(networks));
  teardown.add('the node agent', () => agent.stop());
  progress.step(`the controller and the node agent run in this process; their logs: ${controller.logFile}, ${agent.logFile}`);
  stage.operators = [controller, agent];
  return { cluster, kubeConfig, kubectlPath, localnet, view, operators: stage.operators };
}

/** Waits for `promise`, unless an operator part stops first (that is a failure). */
function watched<T>(stage: Stage, promise: Promise<T>): Promise<T> {
  return Promise.race([promise, ...stage.operators.map((operator) => operator.ended())]);
}

async function playStory(progress: Progress, stage: Stage, dirs: WorkDir, signal: AbortSignal): Promise<DemoOutcome> {
  const { view } = stage;
  const market = await watched(
    stage,
    until(view.markets, (candidate) => findCondition(candidate.status?.conditions, 'Ready')?.status === 'True', signal),
  );
  const status = market.status ?? {};
  progress.step(
    `NosanaMarket ${DEMO.namespace}/${DEMO.market}: Ready — price ${status.jobPrice ?? '?'} NOS/s, default timeout ${status.jobTimeout ?? '?'} s, queue ${status.queueType ?? '?'}`,
  );

  const manifest = join(dirs.root, 'story.yaml');
  await writeFile(manifest, stringify(storyJob()));
  progress.step(`kubectl apply -f ${manifest}: the seeds' story job (${STORY_IMAGE} on 1 GPU, timeout ${STORY_TIMEOUT_SECONDS} s)`);
  await kubectl(stage.kubectlPath, stage.cluster.handle.kubeconfigPath, ['apply', '-f', manifest]);

  await watched(
    stage,
    until(view.jobs, (job) => job.status?.phase === 'Queued' || jobSettled(job), signal),
  );
  if (view.job()?.status?.phase === 'Queued') {
    await KubernetesObjectApi.makeApiClient(stage.kubeConfig).create(demoNode() as KubernetesObject);
    progress.step(
      `NosanaNode ${DEMO.namespace}/${DEMO.node} created: with the key in Secret ${DEMO.nodeKeySecret} it joins market ${DEMO.market}, ` +
        `takes the job waiting there and runs it in ${DEMO.jobNamespace}`,
    );
  }
  const ended = await watched(stage, until(view.jobs, jobSettled, signal));

  // The node counts the job once its ending settled; the summary shows what its status says it earned.
  const node =
    ended.status?.phase === 'Succeeded'
      ? await until(
          view.nodes,
          (candidate) => (candidate.status?.jobsCompleted ?? 0) > 0,
          AbortSignal.any([signal, AbortSignal.timeout(NODE_COUNT_WAIT_MS)]),
        ).catch(() => view.node())
      : view.node();
  const logsConfigMap = ended.status?.logsConfigMap;
  progress.plain('');
  progress.plain(
    resultSummary({
      job: ended,
      timeoutSeconds: STORY_TIMEOUT_SECONDS,
      logs: logsConfigMap === undefined ? [] : await opLogs(stage.kubeConfig, logsConfigMap),
      ...(logsConfigMap === undefined ? {} : { logsSource: `${DEMO.namespace}/${logsConfigMap}` }),
      ...(node?.status?.earnings === undefined ? {} : { nodeEarnings: { name: DEMO.node, nos: node.status.earnings } }),
    }),
  );
  progress.plain(SIMULATED_NOTICE);
  return ended.status?.phase === 'Succeeded' ? 'succeeded' : 'failed';
}

/** The full logs of each op, from the job's logs ConfigMap (one key per op, `<op id>.log`). */
async function opLogs(kubeConfig: KubeConfig, name: string): Promise<OpLogs[]> {
  try {
    const configMap = await kubeConfig.makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: DEMO.namespace, name });
    return Object.entries(configMap.data ?? {}).map(([key, text]) => ({ op: key.replace(/\.log$/, ''), text }));
  } catch {
    // The status's log tails stand in for it.
    return [];
  }
}

async function keepRunning(progress: Progress, stage: Stage, dirs: WorkDir, interrupt: AbortSignal): Promise<void> {
  const { handle } = stage.cluster;
  progress.plain(`Everything keeps running (--keep). In another shell:
  export KUBECONFIG=${handle.kubeconfigPath}
  export PATH=${dirname(stage.kubectlPath)}:$PATH    # the cluster's own kubectl
  kubectl get nosana -n ${DEMO.namespace}
  kubectl get nnode -n ${DEMO.namespace} -o wide
  kubectl get nj -n ${DEMO.namespace} ${DEMO.job} -o yaml
  curl ${stage.localnet.info.gatewayUrl}${stage.view.job()?.status?.ipfsResult ?? '<result CID>'}   # the result document
  kubectl delete nj -n ${DEMO.namespace} ${DEMO.job} && kubectl apply -f ${join(dirs.root, 'story.yaml')}   # run it again
Logs: ${dirs.logs}. Press Ctrl-C to stop everything.
`);
  if (interrupt.aborted) return;
  await new Promise<void>((resolve) => interrupt.addEventListener('abort', () => resolve(), { once: true }));
}
