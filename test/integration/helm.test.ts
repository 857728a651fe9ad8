// `helm install` of the chart on its own cluster (Helm owns the cluster-scoped objects it
// installs, so it gets a cluster nobody else applied them to).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments, parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { controlPlaneBinaries, REPO_ROOT, type ControlPlaneBinaries } from '../../src/local-cluster/binaries.ts';
import { LocalCluster } from '../../src/local-cluster/cluster.ts';
import { SimulationWatcher } from '../../src/local-cluster/simulation.ts';
import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { ControllerProcess } from '../harness/controller-process.ts';
import { localnetDir } from '../harness/localnet-faults.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';
import { useLocalnet } from '../localnet/support.ts';

const run = promisify(execFile);
const CHART = join(REPO_ROOT, 'charts', 'nosana-operator');
const RELEASE_NAMESPACE = 'nosana-system';

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}

interface DeploymentManifest extends Manifest {
  spec: { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}

interface PodSpec {
  serviceAccountName: string;
  terminationGracePeriodSeconds: number;
  securityContext: Record<string, unknown>;
  containers: {
    args: string[];
    env?: { name: string; valueFrom?: unknown }[];
    livenessProbe: { httpGet: { path: string; port: string } };
    readinessProbe: { httpGet: { path: string; port: string } };
    ports: { name: string; containerPort: number }[];
    securityContext: Record<string, unknown>;
  }[];
}

function manifests(yaml: string): Manifest[] {
  return parseAllDocuments(yaml)
    .map((document) => document.toJS() as Manifest | null)
    .filter((manifest) => manifest !== null);
}

function find(all: Manifest[], kind: string, name?: string): Manifest | undefined {
  return all.find((manifest) => manifest.kind === kind && (name === undefined || manifest.metadata.name === name));
}

describe('Helm chart', () => {
  let cluster: LocalCluster;
  let bin: ControlPlaneBinaries;
  const env = () => ({ ...process.env, KUBECONFIG: cluster.handle.kubeconfigPath });
  const helm = (...args: string[]) => run(bin.helm, args, { env: env() });
  const kubectl = (...args: string[]) => run(bin.kubectl, args, { env: env() });

  let simulation: SimulationWatcher | undefined;

  before(async () => {
    bin = await controlPlaneBinaries();
    cluster = await LocalCluster.start({ count: 1 });
    // The chart's controller Pod is simulated as a service that runs until stopped, Ready at once
    // (a real controller process is checked separately, below).
    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromFile(cluster.handle.kubeconfigPath);
    simulation = new SimulationWatcher({
      kubeConfig,
      logsDir: cluster.handle.kwokLogsDir,
      rules: [{ name: 'controller', match: {}, then: {} }],
      log: pino({ level: 'silent' }),
    });
    await simulation.start();
  });
  after(async () => {
    await simulation?.stop();
    await cluster?.stop();
  });

  test('lints clean', async () => {
    const { stdout } = await helm('lint', '--strict', CHART);
    assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  test('refuses values its schema does not know, and settings that cannot work', async () => {
    await assert.rejects(
      helm('template', 'x', CHART, '--set', 'admissionPolicy.enabld=true'),
      /additional properties 'enabld' not allowed|enabld/,
    );
    await assert.rejects(helm('template', 'x', CHART, '--set', 'controller.workerz=2'), /workerz/);
    await assert.rejects(helm('template', 'x', CHART, '--set', 'controller.pinning.provider=ipfs'), /pinning\/provider/);
    await assert.rejects(helm('template', 'x', CHART, '--set', 'controller.leaderElection.leaseDuration=15'), /leaseDuration/);
    await assert.rejects(helm('template', 'x', CHART, '--set', 'controller.rpcUrls.testnet=https://rpc.example'), /testnet/);
    await assert.rejects(
      helm('template', 'x', CHART, '--set', 'controller.replicas=2', '--set', 'controller.leaderElection.enabled=false'),
      /replicas above 1 needs controller\.leaderElection\.enabled/,
    );
    await helm('template', 'x', CHART, '--set', 'controller.replicas=2');
  });

  test('renders the controller: Deployment with flags from values, probes and a locked-down container, ServiceAccount, RBAC, metrics Service', async () => {
    const { stdout } = await helm(
      'template',
      'nosana',
      CHART,
      '--namespace',
      RELEASE_NAMESPACE,
      '--set',
      'controller.rpcUrls.mainnet=https://rpc.example/?key=a',
      '--set',
      'controller.namespaces={team-a,team-b}',
      '--set',
      'controller.pinning.jwtSecretRef.name=pinata',
      '--set',
      'controller.serviceDomains.localnet=nodes.lab.example',
    );
    const all = manifests(stdout);
    const deployment = find(all, 'Deployment', 'nosana-nosana-operator') as DeploymentManifest | undefined;
    assert.ok(deployment !== undefined, 'the controller Deployment is rendered');
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    assert.ok(container !== undefined);
    assert.equal(container.args[0], 'controller');
    for (const flag of [
      '--namespaces=team-a,team-b',
      '--leader-elect=true',
      `--leader-election-namespace=${RELEASE_NAMESPACE}`,
      '--leader-election-id=nosana-nosana-operator',
      '--rpc-url=mainnet=https://rpc.example/?key=a',
      '--service-domain=localnet=nodes.lab.example',
      '--metrics-bind-address=:8080',
      '--health-probe-bind-address=:8081',
    ])
      assert.ok(container.args.includes(flag), `args carry ${flag}: ${container.args.join(' ')}`);
    assert.deepEqual(
      container.env?.map((variable) => variable.name),
      ['PINATA_JWT'],
    );
    assert.deepEqual(
      [container.livenessProbe.httpGet, container.readinessProbe.httpGet],
      [
        { path: '/healthz', port: 'health' },
        { path: '/readyz', port: 'health' },
      ],
    );
    assert.deepEqual(container.ports, [
      { name: 'metrics', containerPort: 8080 },
      { name: 'health', containerPort: 8081 },
    ]);
    assert.deepEqual(container.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    assert.equal(pod.securityContext['runAsNonRoot'], true);
    assert.ok(pod.terminationGracePeriodSeconds > 30, "the pod outlives the controller's 30 s drain");
    assert.equal(pod.serviceAccountName, 'nosana-nosana-operator');
    assert.ok(find(all, 'ServiceAccount', 'nosana-nosana-operator'));
    assert.ok(find(all, 'ClusterRole', 'nosana-nosana-operator'));
    assert.ok(find(all, 'ClusterRoleBinding', 'nosana-nosana-operator'));
    assert.equal(find(all, 'Role', 'nosana-nosana-operator-leader-election')?.metadata.namespace, RELEASE_NAMESPACE);
    const service = find(all, 'Service', 'nosana-nosana-operator-metrics') as
      { spec: { selector: Record<string, string>; ports: { targetPort: string }[] } } | undefined;
    assert.deepEqual(
      service?.spec.ports.map((port) => port.targetPort),
      ['metrics'],
    );
    const podLabels = deployment.spec.template.metadata.labels;
    for (const [label, value] of Object.entries(service?.spec.selector ?? {}))
      assert.equal(podLabels[label], value, `the Service selects the pods by ${label}`);

    const apiOnly = manifests(
      (await helm('template', 'nosana', CHART, '--namespace', RELEASE_NAMESPACE, '--set', 'controller.enabled=false')).stdout,
    );
    assert.deepEqual(apiOnly.map((manifest) => manifest.kind).sort(), ['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
  });

  test('installs the CRDs and the admission policy, which then enforce, and uninstalling keeps the CRDs', async () => {
    await helm('install', 'nosana', CHART, '--namespace', 'nosana-system', '--create-namespace', '--wait', '--timeout', '2m');
    for (const crd of ['nosanajobs', 'nosanamarkets', 'nosananodes']) {
      const { stdout } = await kubectl(
        'get',
        'crd',
        `${crd}.nosana.io`,
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Established")].status}',
      );
      assert.equal(stdout, 'True');
    }
    const bad = JSON.stringify({
      apiVersion: 'nosana.io/v1alpha1',
      kind: 'NosanaJob',
      metadata: { name: 'bad', namespace: 'default' },
      spec: {
        market: 'm',
        definition: { version: '0.1', type: 'container', ops: [{ id: 'a', type: 'container/run', args: { image: 'x', cmd: 1 } }] },
      },
    });
    const badFile = join(cluster.workDir, 'bad-job.json');
    await writeFile(badFile, bad);
    await waitFor(
      async () => {
        const outcome = await kubectl('create', '--dry-run=server', '-f', badFile).then(
          () => 'accepted',
          (err: Error) => err.message,
        );
        return (
          outcome.includes("ValidatingAdmissionPolicy 'nosanajob-definition.nosana.io'") &&
          outcome.includes('spec.definition.ops[0].args.cmd')
        );
      },
      { what: 'the policy installed by the chart to reject a bad job', timeoutMs: 30_000, intervalMs: 250 },
    );

    await helm('uninstall', 'nosana', '--namespace', 'nosana-system', '--wait');
    const { stdout } = await kubectl('get', 'crd', 'nosanajobs.nosana.io', '-o', 'name');
    assert.equal(stdout.trim(), 'customresourcedefinition.apiextensions.k8s.io/nosanajobs.nosana.io');
    await assert.rejects(kubectl('get', 'validatingadmissionpolicy', 'nosanajob-definition.nosana.io'), /NotFound/);
  });

  const localnet = useLocalnet({ chain: { slotMs: 100 } });

  test('the installed RBAC lets the controller do its work as its ServiceAccount, and nothing more', async () => {
    await helm('install', 'nosana', CHART, '--namespace', RELEASE_NAMESPACE, '--create-namespace', '--wait', '--timeout', '2m');
    const serviceAccount = `system:serviceaccount:${RELEASE_NAMESPACE}:nosana-nosana-operator`;
    const canI = async (...args: string[]): Promise<boolean> => {
      const answer = await kubectl('auth', 'can-i', `--as=${serviceAccount}`, ...args).then(
        ({ stdout }) => stdout,
        (error: { stdout?: string }) => error.stdout ?? '',
      );
      return answer.trim() === 'yes';
    };
    const allowed = [
      ['watch', 'nosanajobs.nosana.io', '-A'],
      ['patch', 'nosanajobs.nosana.io', '-n', 'team'],
      ['patch', 'nosanajobs.nosana.io', '--subresource=status', '-n', 'team'],
      ['update', 'nosanajobs.nosana.io', '--subresource=finalizers', '-n', 'team'],
      ['list', 'nosanamarkets.nosana.io', '-A'],
      ['patch', 'nosanamarkets.nosana.io', '--subresource=status', '-n', 'team'],
      ['get', 'secrets', '-n', 'team'],
      ['get', 'configmaps', '-n', 'team'],
      ['create', 'configmaps', '-n', 'team'],
      ['patch', 'configmaps', '-n', 'team'],
      ['update', 'configmaps', '-n', 'team'],
      ['create', 'events.events.k8s.io', '-n', 'team'],
      ['patch', 'events.events.k8s.io', '-n', 'team'],
      ['update', 'leases.coordination.k8s.io', '-n', RELEASE_NAMESPACE],
    ];
    const denied = [
      ['list', 'secrets', '-A'],
      ['watch', 'secrets', '-n', 'team'],
      ['delete', 'nosanajobs.nosana.io', '-n', 'team'],
      ['create', 'nosanajobs.nosana.io', '-n', 'team'],
      ['patch', 'nosanamarkets.nosana.io', '-n', 'team'],
      ['delete', 'configmaps', '-n', 'team'],
      ['create', 'pods', '-n', 'team'],
      ['update', 'leases.coordination.k8s.io', '-n', 'team'],
      ['create', 'clusterroles'],
    ];
    for (const args of allowed) assert.equal(await canI(...args), true, `the ServiceAccount may ${args.join(' ')}`);
    for (const args of denied) assert.equal(await canI(...args), false, `the ServiceAccount may not ${args.join(' ')}`);

    // The controller itself, as that ServiceAccount (impersonated through the admin's kubeconfig),
    // mirrors a market and posts a job: every request it makes passes the chart's RBAC.
    const net = localnet();
    const kubeconfig = parseYaml(await readFile(cluster.handle.kubeconfigPath, 'utf8')) as { users: { user: Record<string, unknown> }[] };
    for (const entry of kubeconfig.users) entry.user['as'] = serviceAccount;
    const kubeconfigPath = join(cluster.workDir, 'controller-as-service-account.kubeconfig');
    await writeFile(kubeconfigPath, stringifyYaml(kubeconfig), { mode: 0o600 });
    await kubectl('create', 'namespace', 'team');
    await kubectl('create', 'secret', 'generic', 'poster', '-n', 'team', `--from-file=keypair=${net.info.posterWallet}`);
    const controller = await ControllerProcess.start({
      kubeconfigPath,
      localnetDir: localnetDir(net),
      logLevel: 'info',
      leaderElection: { namespace: RELEASE_NAMESPACE, id: 'nosana-nosana-operator' },
    });
    try {
      await controller.waitReady();
      const objects = [
        {
          apiVersion: 'nosana.io/v1alpha1',
          kind: 'NosanaMarket',
          metadata: { name: 'gpus', namespace: 'team' },
          spec: { address: net.market.toBase58(), network: 'localnet' },
        },
        {
          apiVersion: 'nosana.io/v1alpha1',
          kind: 'NosanaJob',
          metadata: { name: 'hello', namespace: 'team' },
          spec: {
            market: 'gpus',
            timeout: 60,
            walletSecretRef: { name: 'poster' },
            definition: {
              version: '0.1',
              type: 'container',
              ops: [{ id: 'main', type: 'container/run', args: { image: 'ubuntu', cmd: 'echo hello' } }],
            },
          },
        },
      ];
      const file = join(cluster.workDir, 'rbac-objects.json');
      await writeFile(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
      await kubectl('apply', '-f', file);
      const field = async (resource: string, path: string) =>
        (await kubectl('get', resource, '-n', 'team', '-o', `jsonpath=${path}`)).stdout;
      await waitFor(async () => (await field('nosanajob/hello', '{.status.phase}')) === 'Queued', {
        what: 'the job to be posted (Queued)',
        timeoutMs: 60_000,
        intervalMs: 250,
      });
      await waitFor(async () => (await field('nosanamarket/gpus', '{.status.jobs.queued}')) === '1', {
        what: 'the market to count the queued job',
        timeoutMs: 60_000,
        intervalMs: 250,
      });
      assert.equal(await field('nosanamarket/gpus', '{.status.conditions[?(@.type=="Ready")].reason}'), 'Synced');
      const events = (await kubectl('get', 'events.events.k8s.io', '-n', 'team', '-o', 'jsonpath={.items[*].reportingController}')).stdout;
      assert.match(events, /nosana\.io\/operator/, 'the controller recorded Events');
      assert.equal(
        (await kubectl('get', 'lease', 'nosana-nosana-operator', '-n', RELEASE_NAMESPACE, '-o', 'jsonpath={.spec.holderIdentity}'))
          .stdout !== '',
        true,
        'it holds the Lease',
      );
      const forbidden = controller.logs().filter((line) => JSON.stringify(line).includes('forbidden'));
      assert.deepEqual(forbidden, [], 'no request was refused');
      await kubectl('delete', 'nosanajob', 'hello', '-n', 'team', '--wait=true', '--timeout=60s');
    } finally {
      await controller.stop();
    }
    await helm('uninstall', 'nosana', '--namespace', RELEASE_NAMESPACE, '--wait');
  });
});
