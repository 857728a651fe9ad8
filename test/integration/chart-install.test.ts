// The chart installed and used as a cluster would run it: `helm install` on a cluster of its own,
// the chart's Pods run as host processes with their rendered arguments and their ServiceAccounts'
// tokens (test/harness/chart-pods.ts; KWOK runs no containers), both loops driven through them
// (a NosanaJob posted by the controller and run by a NosanaNode of the node agent), then a
// `helm upgrade` that rolls both Deployments while one job runs and another waits in the queue.
// Last, the API server's audit log of everything the two ServiceAccounts did here is held
// against the chart's RBAC: every call was granted, and every grant was used or says why not.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { PublicKey } from '@solana/web3.js';
import pino from 'pino';
import { controlPlaneBinaries, REPO_ROOT, type ControlPlaneBinaries } from '../../src/local-cluster/binaries.ts';
import { LocalCluster } from '../../src/local-cluster/cluster.ts';
import { SimulationWatcher, type SimulationRule } from '../../src/local-cluster/simulation.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';
import { serializeWallet } from '../../src/chain/wallet.ts';
import { JOB_LABEL, labelValue } from '../../src/executor/labels.ts';
import { auditEvents, type AuditEvent } from '../harness/audit-log.ts';
import { ChartPods } from '../harness/chart-pods.ts';
import { definitionFixture } from '../harness/nosana-fixtures.ts';
import { jobAccountsOf } from '../harness/nosana-ledger.ts';
import { useLocalnet } from '../localnet/support.ts';
import { grantsOf, isGranted, renderedObjects, unusedGrants } from '../harness/chart-rbac.ts';

const run = promisify(execFile);
const CHART = join(REPO_ROOT, 'charts', 'nosana-operator');
const RELEASE = 'nosana';
const RELEASE_NAMESPACE = 'nosana-system';
const TEAM = 'team';
/** A namespace the administrator did not open to the controller (controller.secretNamespaces). */
const OTHER_TEAM = 'other-team';
const NODES = 'gpu-nodes';
const JOBS = 'jobs';
const CONTROLLER_SA = `system:serviceaccount:${RELEASE_NAMESPACE}:nosana-nosana-operator`;
const AGENT_SA = `system:serviceaccount:${RELEASE_NAMESPACE}:nosana-nosana-operator-node`;
const STORY_IMAGE = 'docker.io/jeisses/tinyllama:v4';
const LONG_IMAGE = 'long-running';
/** Long enough for a rolling update of both Deployments to happen while it runs. */
const LONG_RUN = '25s';

const JOB_RULES: SimulationRule[] = [
  {
    name: 'story',
    match: { image: STORY_IMAGE },
    then: { exitCode: 0, runFor: '2s', logs: [{ stream: 'stdout', text: 'Tony the tiny hawk flew.' }] },
  },
  {
    name: 'long',
    match: { image: LONG_IMAGE },
    then: { exitCode: 0, runFor: LONG_RUN, logs: [{ stream: 'stdout', text: 'still here after the upgrade' }] },
  },
];

interface NosanaObject {
  metadata?: { name?: string; namespace?: string; uid?: string };
  status?: { phase?: string; jobAddress?: string; ops?: { exitCode?: number; logTail?: string }[]; jobsCompleted?: number };
}

describe('the chart installed: both loops as its ServiceAccounts, a rolling upgrade mid-run, its RBAC held against the audit log', () => {
  let cluster: LocalCluster;
  let bin: ControlPlaneBinaries;
  let kubeConfig: k8s.KubeConfig;
  let objects: k8s.KubernetesObjectApi;
  let workDir: string;
  let pods: ChartPods | undefined;
  const simulations: SimulationWatcher[] = [];
  const localnet = useLocalnet({ chain: { slotMs: 100 } });
  const env = () => ({ ...process.env, KUBECONFIG: cluster.handle.kubeconfigPath });
  const helm = (...args: string[]) => run(bin.helm, args, { env: env() });
  const kubectl = (...args: string[]) => run(bin.kubectl, args, { env: env() });
  const started = new Date();

  before(async () => {
    bin = await controlPlaneBinaries();
    cluster = await LocalCluster.start();
    workDir = await mkdtemp(join(tmpdir(), 'nosana-chart-install-'));
    kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromFile(cluster.handle.kubeconfigPath);
    objects = k8s.KubernetesObjectApi.makeApiClient(kubeConfig);
    const log = pino({ level: 'silent' });
    // The chart's Pods are long-running services; the jobs' Pods do what JOB_RULES says.
    simulations.push(
      new SimulationWatcher({
        kubeConfig,
        logsDir: cluster.handle.kwokLogsDir,
        rules: [{ name: 'operator', match: {}, then: {} }],
        namespaces: [RELEASE_NAMESPACE],
        log,
      }),
      new SimulationWatcher({ kubeConfig, logsDir: cluster.handle.kwokLogsDir, rules: JOB_RULES, namespaces: [JOBS], log }),
    );
    for (const simulation of simulations) await simulation.start();
    pods = new ChartPods(kubeConfig, RELEASE_NAMESPACE, `app.kubernetes.io/instance=${RELEASE}`);
    pods.start();
  });
  after(async () => {
    await pods?.stop();
    for (const simulation of simulations) await simulation.stop();
    await cluster?.stop();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  /** The values an administrator would set for this cluster: the localnet's endpoints, short intervals. */
  async function valuesFile(workers: number): Promise<string> {
    const { info } = localnet();
    const network = {
      network: 'localnet',
      rpcUrls: { localnet: info.rpcUrl },
      ipfsGateways: [info.gatewayUrl],
      pinning: { provider: 'pinata', url: info.ipfsApiUrl, jwtSecretRef: { name: 'pinning', key: 'jwt' } },
      leaderElection: { enabled: true, leaseDuration: '6s', renewDeadline: '4s', retryPeriod: '500ms' },
      workers,
    };
    const values = {
      // The controller watches every namespace but reads Secrets only where they were opened to it.
      controller: { ...network, pollInterval: '500ms', secretNamespaces: [TEAM] },
      nodeAgent: {
        ...network,
        enabled: true,
        nodeNamespaces: [NODES],
        jobNamespaces: [JOBS],
        createJobNamespaces: true,
        pollInterval: '500ms',
        recheckInterval: '2s',
        joinSettle: '3s',
        startRetry: '1s',
      },
    };
    const file = join(workDir, `values-${workers}.json`);
    await writeFile(file, JSON.stringify(values));
    return file;
  }

  const read = async (kind: string, namespace: string, name: string): Promise<NosanaObject | undefined> =>
    (await objects.read({ apiVersion: 'nosana.io/v1alpha1', kind, metadata: { name, namespace } }).catch(() => undefined)) as
      NosanaObject | undefined;

  async function waitForJobPhase(name: string, phase: string, timeoutMs = 120_000): Promise<NosanaObject> {
    return waitFor(
      async () => {
        const job = await read('NosanaJob', TEAM, name);
        if (job?.status?.phase === phase) return job;
        throw new Error(`NosanaJob ${name} is ${job?.status?.phase ?? 'absent'}`);
      },
      { what: `NosanaJob ${name} to be ${phase}`, timeoutMs, intervalMs: 250 },
    );
  }

  async function applyJob(name: string, image: string, namespace = TEAM): Promise<void> {
    const definition = await definitionFixture('story.json');
    const ops = (definition as { ops: { args: Record<string, unknown> }[] }).ops.map((op) => ({ ...op, args: { ...op.args, image } }));
    await objects.create({
      apiVersion: 'nosana.io/v1alpha1',
      kind: 'NosanaJob',
      metadata: { name, namespace },
      spec: {
        market: 'local',
        timeout: 600,
        maxCost: '1',
        walletSecretRef: { name: 'wallet', key: 'keypair' },
        definition: { ...definition, ops },
      },
    } as k8s.KubernetesObject);
  }

  function forbiddenLogLines(): string[] {
    return (pods?.all() ?? []).flatMap((entry) =>
      entry.process
        .logs()
        .map((line) => JSON.stringify(line))
        .filter((line) => /forbidden/i.test(line))
        .map((line) => `${entry.pod}: ${line}`),
    );
  }

  test('helm install: the controller posts a NosanaJob and the node agent runs it, each as its own ServiceAccount', async () => {
    const { info } = localnet();
    await kubectl('create', 'namespace', RELEASE_NAMESPACE);
    await kubectl('create', 'secret', 'generic', 'pinning', '-n', RELEASE_NAMESPACE, '--from-literal=jwt=localnet-token');
    await kubectl('create', 'namespace', NODES);
    await kubectl('create', 'namespace', TEAM);
    await helm('install', RELEASE, CHART, '--namespace', RELEASE_NAMESPACE, '--values', await valuesFile(2), '--wait', '--timeout', '2m');

    const net = localnet();
    const keypairSecret = (namespace: string, name: string, keypair: typeof net.poster) =>
      objects.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace },
        stringData: { keypair: serializeWallet(keypair) },
      } as k8s.KubernetesObject);
    const market = (namespace: string) =>
      objects.create({
        apiVersion: 'nosana.io/v1alpha1',
        kind: 'NosanaMarket',
        metadata: { name: 'local', namespace },
        // A spend limit, as the README recommends: its ledger is part of what the controller does.
        spec: { address: info.market, network: 'localnet', ...(namespace === TEAM ? { dailySpendLimit: '100' } : {}) },
      } as k8s.KubernetesObject);
    await keypairSecret(TEAM, 'wallet', net.poster);
    await market(TEAM);
    await keypairSecret(NODES, 'node-key', net.node);
    await market(NODES);
    await objects.create({
      apiVersion: 'nosana.io/v1alpha1',
      kind: 'NosanaNode',
      metadata: { name: 'gpu', namespace: NODES },
      spec: { market: 'local', keySecretRef: { name: 'node-key', key: 'keypair' }, pods: { namespace: JOBS } },
    } as k8s.KubernetesObject);

    await waitFor(async () => (await read('NosanaNode', NODES, 'gpu'))?.status?.phase === 'Queued', {
      what: 'the NosanaNode to join the queue',
      timeoutMs: 90_000,
      intervalMs: 250,
    });
    await applyJob('first', STORY_IMAGE);
    const done = await waitForJobPhase('first', 'Succeeded');
    assert.equal(done.status?.ops?.[0]?.exitCode, 0);
    assert.match(done.status?.ops?.[0]?.logTail ?? '', /Tony the tiny hawk flew\./, "the job's logs came back through the result");

    assert.deepEqual(
      [...new Set(pods?.live().map((entry) => entry.component))].sort(),
      ['controller', 'node-agent'],
      'both loops ran as host processes of the chart Pods',
    );
    assert.deepEqual(forbiddenLogLines(), [], 'no request of either process was refused');
    assert.deepEqual(pods?.failures().map(String), []);
  });

  test('helm upgrade while one job runs and another is queued: both finish, each posted once, the running Pod kept', async () => {
    const net = localnet();
    await applyJob('long', LONG_IMAGE);
    await waitForJobPhase('long', 'Running');
    const runningPod = await waitFor(
      async () => {
        const list = await kubeConfig.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: JOBS });
        const pod = list.items.find(
          (candidate) => candidate.status?.phase === 'Running' && candidate.spec?.containers[0]?.image === LONG_IMAGE,
        );
        if (pod !== undefined) return pod;
        throw new Error('the long job has no running Pod yet');
      },
      { what: "the long job's Pod to run", timeoutMs: 60_000, intervalMs: 200 },
    );
    await applyJob('waiting', STORY_IMAGE);
    await waitForJobPhase('waiting', 'Queued');
    const before = new Set(pods?.live().map((entry) => entry.pod));

    // New values roll both Deployments: new Pods start, then the old ones get SIGTERM.
    await helm('upgrade', RELEASE, CHART, '--namespace', RELEASE_NAMESPACE, '--values', await valuesFile(3), '--wait', '--timeout', '2m');
    await waitFor(
      async () => {
        const live = pods?.live() ?? [];
        return live.length === 2 && live.every((entry) => !before.has(entry.pod));
      },
      { what: 'the old operator Pods to be replaced by new ones', timeoutMs: 90_000, intervalMs: 250 },
    );
    const long = await waitForJobPhase('long', 'Succeeded', 120_000);
    const waiting = await waitForJobPhase('waiting', 'Succeeded', 120_000);
    // The old agent was gone before the long job's run ended on chain: the new one finished it.
    const oldAgents = (pods?.all() ?? []).filter((entry) => entry.component === 'node-agent' && before.has(entry.pod));
    assert.equal(oldAgents.length, 1);
    const oldAgentExitedAt = oldAgents[0]?.exitedAt ?? Infinity;
    const chainJob = await net.jobsClient().getJob(new PublicKey(long.status?.jobAddress ?? ''));
    assert.ok(chainJob !== undefined);
    assert.ok(
      Number(chainJob.account.timeEnd) * 1000 + 1000 > oldAgentExitedAt,
      `the run ended (${chainJob.account.timeEnd} s) after the old agent exited (${oldAgentExitedAt} ms): it was handed over mid-run`,
    );
    assert.match(long.status?.ops?.[0]?.logTail ?? '', /still here after the upgrade/);
    assert.equal(waiting.status?.ops?.[0]?.exitCode, 0);

    // One on-chain job per NosanaJob, whatever the restarts: three NosanaJobs, three jobs.
    const posted = await jobAccountsOf(net, net.poster.publicKey, new PublicKey(net.info.market));
    const addresses = await Promise.all(
      ['first', 'long', 'waiting'].map(async (name) => (await read('NosanaJob', TEAM, name))?.status?.jobAddress),
    );
    assert.deepEqual(posted.map((entry) => entry.address).sort(), [...addresses].sort(), 'each NosanaJob was posted exactly once');

    // The long job's Pod was created once and taken over by the new agent, never recreated.
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // the audit log is written in batches of a second
    const podCreates = await auditEvents(cluster.handle.auditLogPath, {
      username: AGENT_SA,
      namespace: JOBS,
      verbs: new Set(['create']),
      since: started,
    });
    const longJob = long.status?.jobAddress ?? '';
    const longPodCreates = podCreates.filter(
      (event) =>
        event.objectRef?.resource === 'pods' &&
        event.objectRef.subresource === undefined &&
        event.objectRef.name === runningPod.metadata?.name,
    );
    assert.equal(
      longPodCreates.filter((event) => event.responseStatus?.code === 201).length,
      1,
      `the Pod of job ${longJob} was created once`,
    );
    assert.equal(runningPod.metadata?.labels?.[JOB_LABEL], labelValue(longJob), 'the Pod followed is the long job’s');
    // The poster sees the end first; the NosanaNode counts the job once its ending settles.
    // Generous: the ending settles at finality, which a loaded 2-core machine can take a minute to reach.
    await waitFor(async () => (await read('NosanaNode', NODES, 'gpu'))?.status?.jobsCompleted === 3, {
      what: 'the NosanaNode to count the three jobs',
      timeoutMs: 150_000,
      intervalMs: 250,
    });
    assert.deepEqual(forbiddenLogLines(), [], 'no request was refused across the upgrade');
    assert.deepEqual(pods?.failures().map(String), []);
  });

  test("a NosanaDeployment as the controller's ServiceAccount: its replica posted and run by the agent, scaled to zero and cancelled", async () => {
    const net = localnet();
    const definition = await definitionFixture('story.json');
    const ops = (definition as { ops: { args: Record<string, unknown> }[] }).ops.map((op) => ({
      ...op,
      args: { ...op.args, image: LONG_IMAGE },
    }));
    const before = (await jobAccountsOf(net, net.poster.publicKey)).length;
    await objects.create({
      apiVersion: 'nosana.io/v1alpha1',
      kind: 'NosanaDeployment',
      metadata: { name: 'service', namespace: TEAM },
      spec: {
        replicas: 1,
        budget: '50',
        template: {
          spec: { market: 'local', timeout: 3600, walletSecretRef: { name: 'wallet', key: 'keypair' }, definition: { ...definition, ops } },
        },
      },
    } as k8s.KubernetesObject);
    const readDeployment = async () =>
      (await objects.read({
        apiVersion: 'nosana.io/v1alpha1',
        kind: 'NosanaDeployment',
        metadata: { name: 'service', namespace: TEAM },
      })) as k8s.KubernetesObject & {
        status?: { readyReplicas?: number; replicas?: number; phase?: string };
      };
    await waitFor(
      async () =>
        (await readDeployment()).status?.readyReplicas === 1
          ? true
          : Promise.reject(new Error(JSON.stringify((await readDeployment()).status))),
      {
        what: 'the replica to run on the agent',
        timeoutMs: 120_000,
        intervalMs: 250,
      },
    );
    assert.equal((await jobAccountsOf(net, net.poster.publicKey)).length, before + 1, 'one replica, one job');
    await objects.patch(
      {
        apiVersion: 'nosana.io/v1alpha1',
        kind: 'NosanaDeployment',
        metadata: { name: 'service', namespace: TEAM },
        spec: { replicas: 0 },
      } as k8s.KubernetesObject,
      undefined,
      undefined,
      undefined,
      undefined,
      k8s.PatchStrategy.MergePatch,
    );
    await waitFor(
      async () =>
        (await readDeployment()).status?.phase === 'Stopped'
          ? true
          : Promise.reject(new Error(JSON.stringify((await readDeployment()).status))),
      {
        what: 'the deployment to stop its replica',
        timeoutMs: 90_000,
        intervalMs: 250,
      },
    );
    assert.deepEqual(forbiddenLogLines(), [], 'no request of the deployment controller was refused');
  });

  test('a namespace not opened to the controller: its NosanaJob is refused, saying the Secret read was refused, and nothing is posted', async () => {
    const net = localnet();
    await kubectl('create', 'namespace', OTHER_TEAM);
    await objects.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'wallet', namespace: OTHER_TEAM },
      stringData: { keypair: serializeWallet(net.poster) },
    } as k8s.KubernetesObject);
    await objects.create({
      apiVersion: 'nosana.io/v1alpha1',
      kind: 'NosanaMarket',
      metadata: { name: 'local', namespace: OTHER_TEAM },
      spec: { address: net.info.market, network: 'localnet' },
    } as k8s.KubernetesObject);
    const before = await jobAccountsOf(net, net.poster.publicKey);
    await applyJob('sneaky', STORY_IMAGE, OTHER_TEAM);
    const refused = await waitFor(
      async () => {
        const job = (await read('NosanaJob', OTHER_TEAM, 'sneaky')) as NosanaObject & {
          status?: { conditions?: { type: string; reason?: string; message?: string }[] };
        };
        const ready = job?.status?.conditions?.find((condition) => condition.type === 'Ready');
        if (ready?.reason === 'WalletUnavailable') return ready;
        throw new Error(`its status is ${JSON.stringify(job?.status)}`);
      },
      { what: 'the job to be refused', timeoutMs: 60_000, intervalMs: 250 },
    );
    assert.match(refused.message ?? '', new RegExp(`may not read Secret ${OTHER_TEAM}/wallet`));
    assert.equal((await jobAccountsOf(net, net.poster.publicKey)).length, before.length, 'nothing was posted');
    await objects.delete({ apiVersion: 'nosana.io/v1alpha1', kind: 'NosanaJob', metadata: { name: 'sneaky', namespace: OTHER_TEAM } });
  });

  test("the chart's RBAC against the audit log: every call granted, every grant used or justified next to it", async () => {
    const manifest = (await helm('get', 'manifest', RELEASE, '--namespace', RELEASE_NAMESPACE)).stdout;
    const rendered = renderedObjects(manifest);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const problems: Record<string, { refused: string[]; unused: string[]; staleJustifications: string[] }> = {};
    for (const username of [CONTROLLER_SA, AGENT_SA]) {
      const serviceAccount = username.split(':').at(-1) ?? '';
      const grants = grantsOf(rendered, RELEASE_NAMESPACE, serviceAccount);
      assert.ok(grants.length > 0, `the chart grants ${serviceAccount} something`);
      const events = (await auditEvents(cluster.handle.auditLogPath, { username, since: started })).filter(
        (event): event is AuditEvent & { objectRef: NonNullable<AuditEvent['objectRef']> } => event.objectRef?.resource !== undefined,
      );
      assert.ok(events.length > 50, `${serviceAccount} made the calls of a whole lifecycle (${events.length})`);
      const refused = events.filter((event) => event.responseStatus?.code === 403 || !isGranted(grants, event));
      problems[serviceAccount] = {
        refused: [...new Set(refused.map((event) => `${event.verb} ${callOf(event)}`))],
        ...unusedGrants(grants, events),
      };
    }
    // refused: calls the RBAC does not grant; unused: grants no call used whose rule does not say
    // why ("# Unaudited (verbs): why" above it); staleJustifications: such notes naming a verb used.
    // The one refusal wanted: the Secret of the namespace nobody opened to the controller (above).
    const clean = { refused: [], unused: [], staleJustifications: [] };
    assert.deepEqual(problems, {
      'nosana-nosana-operator': { ...clean, refused: [`get /secrets in ${OTHER_TEAM}`] },
      'nosana-nosana-operator-node': clean,
    });
  });
});

function callOf(event: AuditEvent): string {
  const ref = event.objectRef;
  const resource = ref?.subresource === undefined ? ref?.resource : `${ref.resource}/${ref.subresource}`;
  return `${ref?.apiGroup ?? ''}/${resource ?? ''} in ${ref?.namespace ?? '(cluster)'}`;
}
