// `helm install` of the chart on its own cluster (Helm owns the cluster-scoped objects it
// installs, so it gets a cluster nobody else applied them to): what it renders, what its schema
// refuses, and what its RBAC allows as checked with `kubectl auth can-i`. The operator running
// under that RBAC, through an upgrade, is chart-install.test.ts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseNodeArgs } from '../../src/cli/node.ts';
import { controlPlaneBinaries, REPO_ROOT, type ControlPlaneBinaries } from '../../src/local-cluster/binaries.ts';
import { LocalCluster } from '../../src/local-cluster/cluster.ts';
import { SimulationWatcher } from '../../src/local-cluster/simulation.ts';
import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { waitFor } from '../../src/local-cluster/wait.ts';

const run = promisify(execFile);
const CHART = join(REPO_ROOT, 'charts', 'nosana-operator');
const RELEASE_NAMESPACE = 'nosana-system';

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

interface RoleManifest extends Manifest {
  rules: PolicyRule[];
}

interface BindingManifest extends Manifest {
  roleRef: { kind: string; name: string };
  subjects: { kind: string; name: string; namespace: string }[];
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

const NODE_AGENT_NAME = 'nosana-nosana-operator-node';
const NODE_NAMESPACES = ['gpu-nodes'];
const JOB_NAMESPACES = ['jobs-a', 'jobs-b'];
/** The node agent with its NosanaNodes in one namespace and jobs in two others. */
const NODE_AGENT_VALUES = [
  '--set',
  'nodeAgent.enabled=true',
  '--set',
  `nodeAgent.nodeNamespaces={${NODE_NAMESPACES.join(',')}}`,
  '--set',
  `nodeAgent.jobNamespaces={${JOB_NAMESPACES.join(',')}}`,
];

function isNodeAgents(manifest: Manifest): boolean {
  return manifest.metadata.labels?.['app.kubernetes.io/component'] === 'node-agent';
}

/** Every optional object on: two replicas of each workload, the node agent, monitoring, network policy, dashboard. */
const ALL_FEATURES_VALUES = [
  ...NODE_AGENT_VALUES,
  '--set',
  'controller.replicas=2',
  '--set',
  'nodeAgent.replicas=2',
  '--set',
  'metrics.serviceMonitor.enabled=true',
  '--set',
  'metrics.prometheusRule.enabled=true',
  '--set',
  'networkPolicy.enabled=true',
  '--set',
  'grafana.dashboard.enabled=true',
];

/** Whether a label selector's matchLabels and `In` expressions all hold for `labels`. */
function selects(
  selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values: string[] }[] },
  labels: Record<string, string>,
): boolean {
  return (
    Object.entries(selector.matchLabels ?? {}).every(([label, value]) => labels[label] === value) &&
    (selector.matchExpressions ?? []).every(
      (expression) => expression.operator === 'In' && expression.values.includes(labels[expression.key] ?? ''),
    )
  );
}

function rolesOf(all: Manifest[]): RoleManifest[] {
  return all.filter((manifest) => manifest.kind === 'Role' || manifest.kind === 'ClusterRole') as RoleManifest[];
}

/** Where the roles grant `verb` on `resource`: their namespaces, or "cluster-wide" for a ClusterRole. */
function grantedWhere(roles: RoleManifest[], group: string, resource: string, verb: string): string[] {
  return roles
    .filter((role) =>
      role.rules.some((rule) => rule.apiGroups.includes(group) && rule.resources.includes(resource) && rule.verbs.includes(verb)),
    )
    .map((role) => (role.kind === 'ClusterRole' ? 'cluster-wide' : (role.metadata.namespace ?? 'no namespace')))
    .sort();
}

describe('Helm chart', () => {
  let cluster: LocalCluster;
  let bin: ControlPlaneBinaries;
  const env = () => ({ ...process.env, KUBECONFIG: cluster.handle.kubeconfigPath });
  const helm = (...args: string[]) => run(bin.helm, args, { env: env() });
  const kubectl = (...args: string[]) => run(bin.kubectl, args, { env: env() });
  /** `kubectl auth can-i --as=USER …`: the API server's answer, without acting. */
  const canAs = async (user: string, ...args: string[]): Promise<boolean> => {
    const answer = await kubectl('auth', 'can-i', `--as=${user}`, ...args).then(
      ({ stdout }) => stdout,
      (error: { stdout?: string }) => error.stdout ?? '',
    );
    return answer.trim() === 'yes';
  };

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
    for (const values of [[], ALL_FEATURES_VALUES]) {
      const { stdout } = await helm('lint', '--strict', CHART, ...values);
      assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/, values.join(' '));
    }
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
    // Watching team-a and team-b only: every grant is a Role there, nothing cluster-wide.
    assert.deepEqual(
      all
        .filter((manifest) => manifest.kind === 'Role' && manifest.metadata.name === 'nosana-nosana-operator')
        .map((role) => role.metadata.namespace),
      ['team-a', 'team-b'],
    );
    assert.equal(find(all, 'ClusterRole', 'nosana-nosana-operator'), undefined);
    assert.equal(find(all, 'ClusterRole', 'nosana-nosana-operator-secrets'), undefined);
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

  test('renders the node agent: its own Deployment running `node` as its own ServiceAccount, with flags from values', async () => {
    const { stdout } = await helm(
      'template',
      'nosana',
      CHART,
      '--namespace',
      RELEASE_NAMESPACE,
      ...NODE_AGENT_VALUES,
      '--set',
      'nodeAgent.rpcUrls.devnet=https://rpc.example/?key=b',
      '--set',
      'nodeAgent.network=devnet',
      '--set',
      'nodeAgent.pinning.jwtSecretRef.name=pinata-node',
      '--set',
      'nodeAgent.deniedCidrs={10.0.0.0/8,169.254.0.0/16}',
      '--set',
      'nodeAgent.maxMemory=64Gi',
      // a number in a values file, passed as plain decimals
      '--set-json',
      'nodeAgent.lowBalance=0.00005',
      '--set',
      'nodeAgent.marketDirectoryUrls.devnet=https://markets.example',
      '--set',
      'nodeAgent.exposureNamespace=ingress-nginx',
    );
    const all = manifests(stdout);
    const agent = find(all, 'Deployment', NODE_AGENT_NAME) as DeploymentManifest | undefined;
    const controller = find(all, 'Deployment', 'nosana-nosana-operator') as DeploymentManifest | undefined;
    assert.ok(agent !== undefined && controller !== undefined, 'both Deployments are rendered');
    const pod = agent.spec.template.spec;
    const [container] = pod.containers;
    assert.ok(container !== undefined);
    assert.equal(container.args[0], 'node');
    assert.equal(pod.serviceAccountName, NODE_AGENT_NAME);
    assert.notEqual(
      pod.serviceAccountName,
      controller.spec.template.spec.serviceAccountName,
      'node keys and poster wallets never share an identity',
    );
    assert.ok(find(all, 'ServiceAccount', NODE_AGENT_NAME));
    const podLabels = agent.spec.template.metadata.labels;
    for (const flag of [
      '--namespaces=gpu-nodes',
      '--leader-elect=true',
      `--leader-election-namespace=${RELEASE_NAMESPACE}`,
      `--leader-election-id=${NODE_AGENT_NAME}`,
      '--metrics-bind-address=:8080',
      '--health-probe-bind-address=:8081',
      '--network=devnet',
      '--rpc-url=devnet=https://rpc.example/?key=b',
      '--denied-cidr=10.0.0.0/8',
      '--denied-cidr=169.254.0.0/16',
      '--max-memory=64Gi',
      '--low-balance=0.00005',
      '--market-directory-url=devnet=https://markets.example',
      '--workers=32',
      '--lease-duration=15s',
      '--exposure-namespace=ingress-nginx',
      '--operator-image=nosana-operator:0.1.0',
      `--agent-pod-labels=${Object.entries(podLabels)
        .map(([label, value]) => `${label}=${value}`)
        .sort()
        .join(',')}`,
    ])
      assert.ok(container.args.includes(flag), `args carry ${flag}: ${container.args.join(' ')}`);
    assert.ok(!container.args.some((arg) => arg.startsWith('--max-cpu')), 'an empty ceiling passes no flag');
    // The command itself accepts what the chart passes, and reads it as meant.
    const settings = await parseNodeArgs(container.args.slice(1), {});
    assert.ok(settings !== 'help');
    assert.deepEqual(
      [settings.namespaces, settings.leaderElection?.name, settings.timings.lowBalanceLamports, settings.containment.ceilings],
      [NODE_NAMESPACES, NODE_AGENT_NAME, 50_000n, { memory: '64Gi' }],
    );
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
    assert.deepEqual(container.securityContext, controller.spec.template.spec.containers[0]?.securityContext);
    assert.deepEqual(pod.securityContext, controller.spec.template.spec.securityContext);
    const controllerService = find(all, 'Service', 'nosana-nosana-operator-metrics') as
      { spec: { selector: Record<string, string> } } | undefined;
    const agentService = find(all, 'Service', `${NODE_AGENT_NAME}-metrics`) as { spec: { selector: Record<string, string> } } | undefined;
    const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
      Object.entries(selector).every(([label, value]) => labels[label] === value);
    assert.equal(selects(agentService?.spec.selector ?? {}, podLabels), true, 'the agent metrics Service selects the agent pods');
    assert.equal(selects(controllerService?.spec.selector ?? {}, podLabels), false, "the controller's Service does not select them");

    const replicated = manifests((await helm('template', 'nosana', CHART, ...NODE_AGENT_VALUES, '--set', 'nodeAgent.replicas=2')).stdout);
    const replicatedArgs = (find(replicated, 'Deployment', NODE_AGENT_NAME) as DeploymentManifest | undefined)?.spec.template.spec
      .containers[0]?.args;
    assert.ok(replicatedArgs?.includes('--leader-elect=true'), 'two replicas elect a leader');
    assert.ok(replicatedArgs?.includes('--low-balance=0.01'), 'the default balance floor is passed as written');

    const withoutAgent = manifests((await helm('template', 'nosana', CHART)).stdout);
    assert.deepEqual(withoutAgent.filter(isNodeAgents), [], 'the agent is off by default');
  });

  test("renders the node agent's RBAC: job objects in job namespaces only, node keys in node namespaces only, no wildcards", async () => {
    const { stdout } = await helm('template', 'nosana', CHART, '--namespace', RELEASE_NAMESPACE, ...NODE_AGENT_VALUES);
    const all = manifests(stdout);
    const agentRoles = rolesOf(all).filter(isNodeAgents);
    const cases: { reason: string; grant: [group: string, resource: string, verb: string]; where: string[] }[] = [
      { reason: 'job Pods are created in job namespaces only', grant: ['', 'pods', 'create'], where: JOB_NAMESPACES },
      { reason: 'job Pods are deleted in job namespaces only', grant: ['', 'pods', 'deletecollection'], where: JOB_NAMESPACES },
      { reason: 'job Secrets are created in job namespaces only', grant: ['', 'secrets', 'create'], where: JOB_NAMESPACES },
      { reason: 'Secrets are read where node keys live, and nowhere else', grant: ['', 'secrets', 'get'], where: NODE_NAMESPACES },
      {
        reason: 'what a job creates is never read or deleted back by the agent (its run ConfigMap owns it)',
        grant: ['', 'services', 'delete'],
        where: [],
      },
      { reason: 'Secrets are never listed', grant: ['', 'secrets', 'list'], where: [] },
      { reason: 'Secrets are never watched', grant: ['', 'secrets', 'watch'], where: [] },
      { reason: 'only job namespaces are labelled', grant: ['', 'namespaces', 'patch'], where: JOB_NAMESPACES },
      { reason: 'run records are written where NosanaNodes live', grant: ['', 'configmaps', 'update'], where: NODE_NAMESPACES },
      { reason: 'NosanaNodes are watched in their namespaces', grant: ['nosana.io', 'nosananodes', 'watch'], where: NODE_NAMESPACES },
      {
        reason: 'NosanaNode status is applied in their namespaces',
        grant: ['nosana.io', 'nosananodes/status', 'patch'],
        where: NODE_NAMESPACES,
      },
      { reason: 'Events are recorded where NosanaNodes live', grant: ['events.k8s.io', 'events', 'create'], where: NODE_NAMESPACES },
      { reason: 'capacity reads nodes cluster-wide', grant: ['', 'nodes', 'watch'], where: ['cluster-wide'] },
      { reason: 'nodes are never written', grant: ['', 'nodes', 'patch'], where: [] },
      { reason: 'capacity reads DRA devices cluster-wide', grant: ['resource.k8s.io', 'resourceslices', 'list'], where: ['cluster-wide'] },
      {
        reason: 'ResourceClaims are created in job namespaces only',
        grant: ['resource.k8s.io', 'resourceclaims', 'create'],
        where: JOB_NAMESPACES,
      },
      {
        reason: 'routes are created in job namespaces only',
        grant: ['gateway.networking.k8s.io', 'httproutes', 'create'],
        where: JOB_NAMESPACES,
      },
      {
        reason: 'the Lease lives in the release namespace',
        grant: ['coordination.k8s.io', 'leases', 'update'],
        where: [RELEASE_NAMESPACE],
      },
      { reason: 'NosanaJobs are none of its business', grant: ['nosana.io', 'nosanajobs', 'get'], where: [] },
    ];
    for (const { reason, grant, where } of cases) assert.deepEqual(grantedWhere(agentRoles, ...grant), [...where].sort(), reason);

    for (const role of rolesOf(all))
      for (const rule of role.rules)
        for (const field of ['apiGroups', 'resources', 'verbs'] as const)
          assert.ok(!rule[field].includes('*'), `${role.kind} ${role.metadata.name} has no wildcard ${field}`);

    const bindings = all.filter(
      (manifest) => manifest.kind === 'RoleBinding' || manifest.kind === 'ClusterRoleBinding',
    ) as BindingManifest[];
    const agentBindings = bindings.filter(isNodeAgents);
    assert.deepEqual(
      agentBindings.map((binding) => `${binding.roleRef.kind}/${binding.metadata.namespace ?? ''}/${binding.roleRef.name}`).sort(),
      agentRoles.map((role) => `${role.kind}/${role.metadata.namespace ?? ''}/${role.metadata.name}`).sort(),
      'each role of the agent is bound once',
    );
    for (const binding of agentBindings)
      assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: NODE_AGENT_NAME, namespace: RELEASE_NAMESPACE }]);
    for (const binding of bindings.filter((manifest) => !isNodeAgents(manifest)))
      assert.ok(!binding.subjects.some((subject) => subject.name === NODE_AGENT_NAME), `${binding.metadata.name} does not bind the agent`);

    // Every rule of the agent says which code path needs it, in the line above.
    const agentRbacText = stdout.split(/^---$/m).filter((document) => document.includes('templates/node-agent-rbac.yaml'));
    assert.ok(agentRbacText.length > 0);
    for (const document of agentRbacText) {
      const lines = document.split('\n');
      lines.forEach((line, index) => {
        if (/^\s*- apiGroups:/.test(line))
          assert.match(lines[index - 1] ?? '', /^\s*# \S/, `a comment explains the rule at: ${line.trim()}`);
      });
    }
    assert.equal(find(all, 'Namespace'), undefined, "job namespaces are the admin's unless createJobNamespaces");
  });

  test('creates job namespaces labelled for jobs when asked, and widens Secret reads only when told to', async () => {
    const created = manifests(
      (await helm('template', 'nosana', CHART, ...NODE_AGENT_VALUES, '--set', 'nodeAgent.createJobNamespaces=true')).stdout,
    ).filter((manifest) => manifest.kind === 'Namespace');
    assert.deepEqual(
      created.map((namespace) => [namespace.metadata.name, namespace.metadata.labels?.['nosana.io/jobs']]),
      JOB_NAMESPACES.map((name) => [name, 'allowed']),
    );

    const clusterWide = [
      '--set',
      'nodeAgent.enabled=true',
      '--set',
      'nodeAgent.clusterWideSecrets=true',
      '--set',
      `nodeAgent.jobNamespaces={${JOB_NAMESPACES.join(',')}}`,
    ];
    const all = manifests((await helm('template', 'nosana', CHART, '--namespace', RELEASE_NAMESPACE, ...clusterWide)).stdout);
    const agentRoles = rolesOf(all).filter(isNodeAgents);
    assert.deepEqual(grantedWhere(agentRoles, '', 'secrets', 'get'), ['cluster-wide']);
    assert.deepEqual(grantedWhere(agentRoles, '', 'pods', 'create'), JOB_NAMESPACES, 'job objects stay in job namespaces');
    const args = (find(all, 'Deployment', NODE_AGENT_NAME) as DeploymentManifest | undefined)?.spec.template.spec.containers[0]?.args ?? [];
    assert.ok(args.length > 0 && !args.some((arg) => arg.startsWith('--namespaces')), 'the agent watches every namespace');
    const { stdout: notes } = await helm('install', 'nosana', CHART, '--namespace', RELEASE_NAMESPACE, '--dry-run=client', ...clusterWide);
    assert.match(notes, /may read Secrets in every namespace \(nodeAgent\.clusterWideSecrets\)/);
  });

  test('refuses node agent values its schema does not know, and settings that cannot work', async () => {
    const refusals: { reason: string; values: string[]; error: RegExp }[] = [
      { reason: 'enabled is a boolean', values: ['--set-string', 'nodeAgent.enabled=yes'], error: /nodeAgent\/enabled/ },
      { reason: 'an unknown value', values: ['--set', 'nodeAgent.jobNamespace=x'], error: /'jobNamespace'/ },
      {
        reason: 'a job namespace is a DNS label',
        values: [...NODE_AGENT_VALUES, '--set', 'nodeAgent.jobNamespaces={Jobs_A}'],
        error: /nodeAgent\/jobNamespaces\/0/,
      },
      {
        reason: 'low balance is SOL',
        values: [...NODE_AGENT_VALUES, '--set', 'nodeAgent.lowBalance=lots'],
        error: /nodeAgent\/lowBalance/,
      },
      {
        reason: 'watching every namespace reads every Secret, only when accepted',
        values: ['--set', 'nodeAgent.enabled=true', '--set', 'nodeAgent.jobNamespaces={jobs-a}'],
        error: /nodeAgent\.nodeNamespaces is empty.*nodeAgent\.clusterWideSecrets: true/,
      },
      {
        reason: 'jobs need a namespace to run in',
        values: ['--set', 'nodeAgent.enabled=true', '--set', 'nodeAgent.nodeNamespaces={gpu-nodes}'],
        error: /nodeAgent\.jobNamespaces is empty/,
      },
      {
        reason: 'replicas without an election would sign twice',
        values: [...NODE_AGENT_VALUES, '--set', 'nodeAgent.replicas=2', '--set', 'nodeAgent.leaderElection.enabled=false'],
        error: /nodeAgent\.replicas above 1 needs nodeAgent\.leaderElection\.enabled/,
      },
      {
        reason: "the agent never runs as the controller's ServiceAccount",
        values: [...NODE_AGENT_VALUES, '--set', 'nodeAgent.serviceAccount.name=nosana-nosana-operator'],
        error: /nodeAgent\.serviceAccount\.name is the controller's ServiceAccount/,
      },
      {
        reason: 'job Pods never run beside NosanaNodes and their key Secrets',
        values: [...NODE_AGENT_VALUES, '--set', 'nodeAgent.nodeNamespaces={gpu-nodes}', '--set', 'nodeAgent.jobNamespaces={gpu-nodes}'],
        error: /nodeAgent\.jobNamespaces and nodeAgent\.nodeNamespaces both name gpu-nodes/,
      },
      {
        reason: 'the release namespace is not created again as a job namespace',
        values: [
          ...NODE_AGENT_VALUES,
          '--set',
          `nodeAgent.jobNamespaces={${RELEASE_NAMESPACE}}`,
          '--set',
          'nodeAgent.createJobNamespaces=true',
        ],
        error: /nodeAgent\.jobNamespaces names the release namespace/,
      },
    ];
    for (const { reason, values, error } of refusals)
      await assert.rejects(helm('template', 'nosana', CHART, '--namespace', RELEASE_NAMESPACE, ...values), error, reason);
    const { stdout: lint } = await helm('lint', '--strict', CHART, ...NODE_AGENT_VALUES, '--set', 'nodeAgent.createJobNamespaces=true');
    assert.match(lint, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  test('renders a PodDisruptionBudget for each Deployment with more than one replica, and only then', async () => {
    const pdbs = async (...values: string[]) =>
      manifests((await helm('template', 'nosana', CHART, '--namespace', RELEASE_NAMESPACE, ...NODE_AGENT_VALUES, ...values)).stdout).filter(
        (manifest) => manifest.kind === 'PodDisruptionBudget',
      ) as (Manifest & { spec: { maxUnavailable: number | string; selector: { matchLabels: Record<string, string> } } })[];
    assert.deepEqual(await pdbs(), [], 'one replica each: no budget, which would block every drain');

    const all = manifests(
      (
        await helm(
          'template',
          'nosana',
          CHART,
          '--namespace',
          RELEASE_NAMESPACE,
          ...NODE_AGENT_VALUES,
          '--set',
          'controller.replicas=3',
          '--set',
          'nodeAgent.replicas=2',
          '--set',
          'nodeAgent.podDisruptionBudget.maxUnavailable=50%',
        )
      ).stdout,
    );
    const budgets = all.filter((manifest) => manifest.kind === 'PodDisruptionBudget') as Awaited<ReturnType<typeof pdbs>>;
    assert.deepEqual(
      budgets.map((budget) => [budget.metadata.name, budget.spec.maxUnavailable]),
      [
        ['nosana-nosana-operator', 1],
        [NODE_AGENT_NAME, '50%'],
      ],
    );
    for (const budget of budgets) {
      const deployment = find(all, 'Deployment', budget.metadata.name) as DeploymentManifest | undefined;
      assert.ok(deployment !== undefined);
      assert.deepEqual(
        all
          .filter((manifest) => manifest.kind === 'Deployment')
          .filter((other) => selects(budget.spec.selector, (other as DeploymentManifest).spec.template.metadata.labels))
          .map((other) => other.metadata.name),
        [budget.metadata.name],
        `${budget.metadata.name} budgets its own Deployment's Pods only`,
      );
    }

    assert.deepEqual(
      (await pdbs('--set', 'controller.replicas=2')).map((budget) => budget.metadata.name),
      ['nosana-nosana-operator'],
      'the agent at one replica gets none',
    );
    assert.deepEqual(await pdbs('--set', 'controller.replicas=2', '--set', 'controller.podDisruptionBudget.enabled=false'), []);
  });

  test('renders the ServiceMonitor, PrometheusRule, NetworkPolicy and dashboard only when enabled, from their values', async () => {
    const optionalKinds = ['ServiceMonitor', 'PrometheusRule', 'NetworkPolicy', 'ConfigMap'];
    const defaults = manifests((await helm('template', 'nosana', CHART, ...NODE_AGENT_VALUES)).stdout);
    assert.deepEqual(
      defaults.filter((manifest) => optionalKinds.includes(manifest.kind)).map((manifest) => manifest.kind),
      [],
      'none of them by default',
    );

    const { stdout } = await helm(
      'template',
      'nosana',
      CHART,
      '--namespace',
      RELEASE_NAMESPACE,
      ...ALL_FEATURES_VALUES,
      '--set',
      'metrics.serviceMonitor.labels.release=kube-prometheus-stack',
      '--set',
      'metrics.serviceMonitor.interval=15s',
      '--set',
      'metrics.serviceMonitor.scrapeTimeout=5s',
      '--set',
      'metrics.prometheusRule.labels.role=alert-rules',
      '--set',
      'metrics.prometheusRule.alerts.lowNosBalance.threshold=25',
      '--set',
      'metrics.prometheusRule.alerts.lowSolBalance.severity=critical',
      '--set',
      'metrics.prometheusRule.alerts.pendingPostStuck.enabled=false',
      '--set',
      'metrics.prometheusRule.alerts.reconcileErrors.window=10m',
      '--set-json',
      'networkPolicy.ingress.from=[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"monitoring"}}}]',
      '--set',
      'networkPolicy.egress.apiServer.cidrs={10.0.0.1/32}',
      '--set',
      'networkPolicy.egress.external.ports={443,8899}',
      '--set',
      'grafana.dashboard.label=my_dashboards',
      '--set',
      'grafana.dashboard.labelValue=yes',
      '--set',
      'grafana.dashboard.namespace=monitoring',
    );
    const all = manifests(stdout);
    const podLabels = (name: string) =>
      (find(all, 'Deployment', name) as DeploymentManifest | undefined)?.spec.template.metadata.labels ?? {};
    const controllerPods = podLabels('nosana-nosana-operator');
    const agentPods = podLabels(NODE_AGENT_NAME);
    type Selector = Parameters<typeof selects>[0];

    const monitor = find(all, 'ServiceMonitor') as
      | (Manifest & { spec: { selector: Selector; namespaceSelector: { matchNames: string[] }; endpoints: Record<string, unknown>[] } })
      | undefined;
    assert.ok(monitor !== undefined);
    assert.equal(monitor.metadata.labels?.['release'], 'kube-prometheus-stack');
    assert.deepEqual(monitor.spec.namespaceSelector.matchNames, [RELEASE_NAMESPACE]);
    const services = all.filter((manifest) => manifest.kind === 'Service') as (Manifest & { spec: { ports: { name: string }[] } })[];
    assert.deepEqual(
      services.filter((service) => selects(monitor.spec.selector, service.metadata.labels ?? {})).map((service) => service.metadata.name),
      ['nosana-nosana-operator-metrics', `${NODE_AGENT_NAME}-metrics`],
      'it selects both metrics Services',
    );
    assert.deepEqual(monitor.spec.endpoints, [
      { port: 'metrics', path: '/metrics', interval: '15s', scrapeTimeout: '5s', honorLabels: true },
    ]);
    for (const service of services)
      assert.ok(
        service.spec.ports.some((port) => port.name === 'metrics'),
        `${service.metadata.name} names its port metrics`,
      );

    const rule = find(all, 'PrometheusRule') as (Manifest & { spec: { groups: { rules: Record<string, unknown>[] }[] } }) | undefined;
    assert.ok(rule !== undefined);
    assert.equal(rule.metadata.labels?.['role'], 'alert-rules');
    const alerts = new Map(rule.spec.groups.flatMap((group) => group.rules).map((alert) => [alert['alert'] as string, alert]));
    assert.deepEqual(
      [...alerts.keys()].sort(),
      ['NosanaNodeError', 'NosanaReconcileErrors', 'NosanaSpendLimitReached', 'NosanaWalletLowNos', 'NosanaWalletLowSol'],
      'a disabled alert is left out',
    );
    assert.match(String(alerts.get('NosanaWalletLowNos')?.['expr']), /nosana_wallet_nos_base_units\{[^}]*\}\) \/ 1e6 < 25$/);
    assert.deepEqual(alerts.get('NosanaWalletLowSol')?.['labels'], { severity: 'critical' });
    assert.match(String(alerts.get('NosanaReconcileErrors')?.['expr']), /\[10m\]\)\) > 0$/);
    assert.match(String(alerts.get('NosanaSpendLimitReached')?.['expr']), /nosana_jobs\{[^}]*reason="SpendLimitReached"\}/);
    for (const [name, alert] of alerts)
      assert.match(
        String(alert['expr']),
        new RegExp(`\\{job=~"nosana-nosana-operator-metrics\\|${NODE_AGENT_NAME}-metrics"`),
        `${name} reads this release's series only`,
      );
    const custom = manifests(
      (
        await helm(
          'template',
          'nosana',
          CHART,
          '--set',
          'metrics.prometheusRule.enabled=true',
          '--set',
          'metrics.prometheusRule.seriesSelector=job="nosana"',
        )
      ).stdout,
    );
    const customRule = find(custom, 'PrometheusRule') as
      (Manifest & { spec: { groups: { rules: { alert: string; expr: string }[] }[] } }) | undefined;
    const customAlerts = customRule?.spec.groups.flatMap((group) => group.rules) ?? [];
    assert.ok(
      customAlerts.length > 0 && customAlerts.every((alert) => alert.expr.includes('{job="nosana"')),
      'seriesSelector replaces the job matcher',
    );
    assert.ok(!customAlerts.some((alert) => alert.alert === 'NosanaNodeError'), 'no node alert without the node agent');

    interface Policy extends Manifest {
      spec: {
        podSelector: Selector;
        policyTypes: string[];
        ingress?: { ports: { port: string | number }[]; from?: unknown[] }[];
        egress: { ports?: { port: number; protocol: string }[]; to?: Record<string, unknown>[] }[];
      };
    }
    const policies = all.filter((manifest) => manifest.kind === 'NetworkPolicy') as Policy[];
    const policy = policies.find((candidate) => candidate.metadata.name === 'nosana-nosana-operator');
    assert.ok(policy !== undefined);
    assert.deepEqual(
      [selects(policy.spec.podSelector, controllerPods), selects(policy.spec.podSelector, agentPods)],
      [true, true],
      "it fences both Deployments' Pods",
    );
    assert.deepEqual(policy.spec.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(
      policy.spec.ingress?.map((rule) => [rule.ports.map((port) => port.port), rule.from]),
      [[['metrics', 'health'], [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]]],
    );
    const egressPorts = policy.spec.egress.map((rule) => rule.ports?.map((port) => `${port.port}/${port.protocol}`));
    assert.deepEqual(egressPorts, [
      ['53/UDP', '53/TCP'],
      ['443/TCP', '6443/TCP'],
      ['443/TCP', '8899/TCP'],
    ]);
    assert.deepEqual(policy.spec.egress[1]?.to, [{ ipBlock: { cidr: '10.0.0.1/32' } }], 'the API server by address');
    assert.deepEqual(policy.spec.egress[2]?.to, [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }]);
    const agentPolicy = policies.find((candidate) => candidate.metadata.name === `${NODE_AGENT_NAME}-jobs`);
    assert.ok(agentPolicy !== undefined, "the agent may reach its job namespaces (it checks jobs' exposed ports)");
    assert.deepEqual(
      [selects(agentPolicy.spec.podSelector, controllerPods), selects(agentPolicy.spec.podSelector, agentPods)],
      [false, true],
    );
    assert.deepEqual(agentPolicy.spec.egress, [
      {
        to: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: JOB_NAMESPACES }] } }],
      },
    ]);

    const dashboard = find(all, 'ConfigMap', 'nosana-nosana-operator-dashboard') as
      (Manifest & { data: Record<string, string> }) | undefined;
    assert.ok(dashboard !== undefined);
    assert.equal(dashboard.metadata.namespace, 'monitoring');
    assert.equal(dashboard.metadata.labels?.['my_dashboards'], 'yes');
    assert.equal(dashboard.metadata.labels?.['grafana_dashboard'], undefined, 'the label is the one configured');
    assert.equal((JSON.parse(dashboard.data['nosana-operator.json'] ?? '{}') as { uid?: string }).uid, 'nosana-operator');
    const defaultLabel = manifests((await helm('template', 'nosana', CHART, '--set', 'grafana.dashboard.enabled=true')).stdout);
    assert.equal(find(defaultLabel, 'ConfigMap')?.metadata.labels?.['grafana_dashboard'], '1', "the sidecar's default label");
  });

  test('refuses misspelled or ill-typed values of the PodDisruptionBudget, monitoring, network policy and dashboard blocks', async () => {
    const refusals: { values: string[]; error: RegExp }[] = [
      { values: ['--set', 'controller.podDisruptionBudget.minAvailable=1'], error: /podDisruptionBudget.*'minAvailable' not allowed/ },
      { values: ['--set', 'nodeAgent.podDisruptionBudget.maxUnavailble=1'], error: /nodeAgent\/podDisruptionBudget.*'maxUnavailble'/ },
      { values: ['--set', 'controller.podDisruptionBudget.maxUnavailable=0'], error: /podDisruptionBudget\/maxUnavailable/ },
      { values: ['--set', 'metrics.serviceMonitor.intervall=30s'], error: /serviceMonitor.*'intervall'/ },
      { values: ['--set', 'metrics.serviceMonitor.scrapeTimeout=10'], error: /serviceMonitor\/scrapeTimeout/ },
      { values: ['--set', 'metrics.prometheusRule.lables.a=b'], error: /prometheusRule.*'lables'/ },
      { values: ['--set', 'metrics.prometheusRule.alerts.lowNosBalance.treshold=5'], error: /lowNosBalance.*'treshold'/ },
      { values: ['--set', 'metrics.prometheusRule.alerts.nodeErrors.for=5m'], error: /alerts.*'nodeErrors'/ },
      { values: ['--set', 'metrics.prometheusRule.alerts.spendLimitReached.for=soon'], error: /spendLimitReached\/for/ },
      { values: ['--set', 'networkPolicy.egress.dns.too=x'], error: /dns.*'too'/ },
      { values: ['--set', 'networkPolicy.egress.external.ports={}'], error: /external\/ports/ },
      { values: ['--set-json', 'networkPolicy.ingress.from=[{"podSelectr":{}}]'], error: /from\/0.*'podSelectr'/ },
      { values: ['--set', 'grafana.dashboard.lable=x'], error: /dashboard.*'lable'/ },
      { values: ['--set', 'grafana.dashbord.enabled=true'], error: /grafana.*'dashbord'/ },
    ];
    for (const { values, error } of refusals) await assert.rejects(helm('template', 'nosana', CHART, ...values), error, values.join(' '));
    await assert.rejects(
      helm('template', 'nosana', CHART, '--set', 'metrics.serviceMonitor.enabled=true', '--set', 'controller.metricsService.enabled=false'),
      /metrics\.serviceMonitor\.enabled needs a metrics Service/,
    );
  });

  test('every object of a render with every optional feature on passes a server-side dry run', async () => {
    // The Prometheus Operator is not installed here: stand-in CRDs with unchecked schemas make the
    // API server accept ServiceMonitor and PrometheusRule, so for those two this checks kind,
    // apiVersion and metadata only, not the Prometheus Operator's own schema.
    await kubectl('apply', '-f', join(REPO_ROOT, 'test', 'fixtures', 'prometheus-operator-crds.yaml'));
    await kubectl(
      'wait',
      '--for=condition=Established',
      'crd/servicemonitors.monitoring.coreos.com',
      'crd/prometheusrules.monitoring.coreos.com',
      '--timeout=30s',
    );
    // Namespaces of their own: a dry run creates nothing, so the objects' namespaces must exist,
    // and the install tests below create and delete theirs.
    const namespaces = { release: 'dry-run-system', nodes: 'dry-run-nodes', jobs: 'dry-run-jobs' };
    for (const namespace of Object.values(namespaces)) await kubectl('create', 'namespace', namespace);
    const { stdout } = await helm(
      'template',
      'nosana',
      CHART,
      '--namespace',
      namespaces.release,
      ...ALL_FEATURES_VALUES,
      '--set',
      `nodeAgent.nodeNamespaces={${namespaces.nodes}}`,
      '--set',
      `nodeAgent.jobNamespaces={${namespaces.jobs}}`,
      '--set',
      `grafana.dashboard.namespace=${namespaces.release}`,
    );
    const rendered = manifests(stdout);
    for (const kind of ['PodDisruptionBudget', 'ServiceMonitor', 'PrometheusRule', 'NetworkPolicy', 'ConfigMap'])
      assert.ok(find(rendered, kind), `the render has a ${kind}`);
    const file = join(cluster.workDir, 'all-features.yaml');
    await writeFile(file, stdout);
    const { stdout: applied } = await kubectl('apply', '--dry-run=server', '-f', file);
    const lines = applied.trim().split('\n');
    assert.equal(lines.length, rendered.length, applied);
    for (const line of lines) assert.match(line, /(created|configured) \(server dry run\)$/);
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

  test('the installed RBAC lets the controller do its work as its ServiceAccount, Secrets only where opened, and nothing more', async () => {
    await kubectl('create', 'namespace', 'team');
    await helm(
      'install',
      'nosana',
      CHART,
      '--namespace',
      RELEASE_NAMESPACE,
      '--create-namespace',
      '--wait',
      '--timeout',
      '2m',
      '--set',
      'controller.secretNamespaces={team}',
    );
    const serviceAccount = `system:serviceaccount:${RELEASE_NAMESPACE}:nosana-nosana-operator`;
    const canI = (...args: string[]) => canAs(serviceAccount, ...args);
    const allowed = [
      ['watch', 'nosanajobs.nosana.io', '-A'],
      ['patch', 'nosanajobs.nosana.io', '-n', 'team'],
      ['patch', 'nosanajobs.nosana.io', '--subresource=status', '-n', 'team'],
      ['update', 'nosanajobs.nosana.io', '--subresource=finalizers', '-n', 'team'],
      // a NosanaDeployment's replicas: created, cancelled by deletion, an Extend replica's timeout raised
      ['create', 'nosanajobs.nosana.io', '-n', 'team'],
      ['delete', 'nosanajobs.nosana.io', '-n', 'team'],
      ['update', 'nosanajobs.nosana.io', '-n', 'team'],
      ['watch', 'nosanadeployments.nosana.io', '-A'],
      ['patch', 'nosanadeployments.nosana.io', '--subresource=status', '-n', 'team'],
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
      // a namespace nobody opened to the controller: its Secrets stay unreadable
      ['get', 'secrets', '-n', 'other-team'],
      ['get', 'secrets', '-n', RELEASE_NAMESPACE],
      ['list', 'secrets', '-A'],
      ['watch', 'secrets', '-n', 'team'],
      ['deletecollection', 'nosanajobs.nosana.io', '-n', 'team'],
      ['patch', 'nosanadeployments.nosana.io', '-n', 'team'],
      ['delete', 'nosanadeployments.nosana.io', '-n', 'team'],
      ['patch', 'nosanamarkets.nosana.io', '-n', 'team'],
      ['delete', 'configmaps', '-n', 'team'],
      ['create', 'pods', '-n', 'team'],
      ['update', 'leases.coordination.k8s.io', '-n', 'team'],
      ['create', 'clusterroles'],
    ];
    for (const args of allowed) assert.equal(await canI(...args), true, `the ServiceAccount may ${args.join(' ')}`);
    for (const args of denied) assert.equal(await canI(...args), false, `the ServiceAccount may not ${args.join(' ')}`);

    // A team opens its own namespace by binding the chart's Secret-reading ClusterRole there.
    await kubectl('create', 'namespace', 'other-team');
    await kubectl(
      'create',
      'rolebinding',
      'nosana-operator-secrets',
      '-n',
      'other-team',
      '--clusterrole=nosana-nosana-operator-secrets',
      `--serviceaccount=${RELEASE_NAMESPACE}:nosana-nosana-operator`,
    );
    assert.equal(await canI('get', 'secrets', '-n', 'other-team'), true, 'the team opened its namespace');
    assert.equal(await canI('get', 'secrets', '-n', 'default'), false, 'and only its own');
    await helm('uninstall', 'nosana', '--namespace', RELEASE_NAMESPACE, '--wait');
  });
  test('the installed node agent RBAC holds as its ServiceAccount: jobs in job namespaces, keys in node namespaces, labels on job namespaces only', async () => {
    await kubectl('create', 'namespace', 'gpu-nodes');
    await helm(
      'install',
      'nosana',
      CHART,
      '--namespace',
      RELEASE_NAMESPACE,
      '--create-namespace',
      '--wait',
      '--timeout',
      '2m',
      ...NODE_AGENT_VALUES,
      '--set',
      'nodeAgent.createJobNamespaces=true',
    );
    for (const namespace of JOB_NAMESPACES)
      assert.equal(
        (await kubectl('get', 'namespace', namespace, '-o', 'jsonpath={.metadata.labels.nosana\\.io/jobs}')).stdout,
        'allowed',
        `${namespace} is created labelled for jobs`,
      );
    const agent = `system:serviceaccount:${RELEASE_NAMESPACE}:${NODE_AGENT_NAME}`;
    const canI = (...args: string[]) => canAs(agent, ...args);
    const allowed = [
      ['watch', 'nosananodes.nosana.io', '-n', 'gpu-nodes'],
      ['patch', 'nosananodes.nosana.io', '-n', 'gpu-nodes'],
      ['patch', 'nosananodes.nosana.io', '--subresource=status', '-n', 'gpu-nodes'],
      ['list', 'nosanamarkets.nosana.io', '-n', 'gpu-nodes'],
      ['get', 'secrets', '-n', 'gpu-nodes'],
      ['delete', 'configmaps', '-n', 'gpu-nodes'],
      ['create', 'events.events.k8s.io', '-n', 'gpu-nodes'],
      ['watch', 'nodes'],
      ['list', 'pods', '-A'],
      ['watch', 'resourceslices.resource.k8s.io'],
      ['watch', 'namespaces'],
      ['create', 'pods', '-n', 'jobs-a'],
      ['get', 'pods', '--subresource=log', '-n', 'jobs-b'],
      ['create', 'secrets', '-n', 'jobs-b'],
      ['create', 'networkpolicies.networking.k8s.io', '-n', 'jobs-a'],
      ['create', 'resourceclaims.resource.k8s.io', '-n', 'jobs-a'],
      ['update', 'leases.coordination.k8s.io', '-n', RELEASE_NAMESPACE],
    ];
    const denied = [
      ['watch', 'nosananodes.nosana.io', '-n', 'default'],
      ['delete', 'nosananodes.nosana.io', '-n', 'gpu-nodes'],
      ['get', 'nosanajobs.nosana.io', '-n', 'gpu-nodes'],
      ['get', 'secrets', '-n', 'default'],
      ['get', 'secrets', '-n', RELEASE_NAMESPACE],
      ['list', 'secrets', '-n', 'gpu-nodes'],
      ['create', 'secrets', '-n', 'gpu-nodes'],
      ['create', 'pods', '-n', 'gpu-nodes'],
      ['create', 'pods', '-n', 'default'],
      ['create', 'configmaps', '-n', 'default'],
      ['patch', 'nodes'],
      ['update', 'leases.coordination.k8s.io', '-n', 'gpu-nodes'],
      ['create', 'clusterroles'],
    ];
    for (const args of allowed) assert.equal(await canI(...args), true, `the agent may ${args.join(' ')}`);
    for (const args of denied) assert.equal(await canI(...args), false, `the agent may not ${args.join(' ')}`);

    // Labelling, as the agent really asks it: its job namespaces yes, any other namespace no (it
    // cannot consent for a namespace the admin did not give it).
    // (as the API server authorizes PATCH /api/v1/namespaces/NAME: in namespace NAME; the agent
    // never reads a namespace by name, so kubectl label or patch, which read first, would be refused)
    assert.equal(await canI('patch', 'namespaces/jobs-a', '-n', 'jobs-a'), true, 'the agent labels its job namespaces');
    assert.equal(await canI('patch', 'namespaces/gpu-nodes', '-n', 'gpu-nodes'), false, 'the agent cannot mark another namespace for jobs');
    assert.equal(await canI('patch', 'namespaces/default', '-n', 'default'), false);

    await helm('uninstall', 'nosana', '--namespace', RELEASE_NAMESPACE, '--wait');
    await waitFor(
      async () =>
        (
          await kubectl('get', 'namespace', 'jobs-a').then(
            () => '',
            (error: Error) => error.message,
          )
        ).includes('NotFound'),
      {
        what: 'the job namespaces to go with the release',
        timeoutMs: 60_000,
        intervalMs: 250,
      },
    );
  });
});
