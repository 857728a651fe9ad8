// `nosana-operator node` before it needs a cluster: its flags become the agent's settings with the
// documented defaults, every wrong value is refused naming its flag, and the run loop it shares
// with `controller` stops on a signal and exits on a lost Lease.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseControllerArgs } from '../../../src/cli/controller.ts';
import type { CommandIo } from '../../../src/cli/io.ts';
import { main } from '../../../src/cli/main.ts';
import { NODE_OPTIONS, parseNodeArgs, runNode } from '../../../src/cli/node.ts';
import type { NodeAgentSettings } from '../../../src/cli/node.ts';
import { podNamespace, runProcessCommand } from '../../../src/cli/process-flags.ts';
import type { ProcessCommand, ProcessSettings } from '../../../src/cli/process-flags.ts';
import { operatorNetworkDefaults } from '../../../src/controllers/network-settings.ts';
import { DEFAULT_NODE_TIMINGS } from '../../../src/controllers/nosana-node/agent-options.ts';
import { DEFAULT_EXECUTOR_SETTINGS } from '../../../src/executor/settings.ts';

const IMAGE = ['--operator-image', 'ghcr.io/example/nosana-operator:1.2.3'];

async function parsed(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<NodeAgentSettings> {
  const settings = await parseNodeArgs(args, env);
  assert.notEqual(settings, 'help');
  return settings as NodeAgentSettings;
}

function capture(): { io: CommandIo; stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (text: string) => (out += text) }, stderr: { write: (text: string) => (err += text) } },
    stdout: () => out,
    stderr: () => err,
  };
}

describe('nosana-operator node: settings', () => {
  test('with only the operator image, every setting is its documented default', async () => {
    const settings = await parsed(IMAGE);
    assert.deepEqual(settings.timings, DEFAULT_NODE_TIMINGS);
    assert.deepEqual(settings.containment, {
      deniedCidrs: DEFAULT_EXECUTOR_SETTINGS.deniedCidrs,
      operatorImage: 'ghcr.io/example/nosana-operator:1.2.3',
      volumeSize: DEFAULT_EXECUTOR_SETTINGS.volumeSize,
    });
    // A copy: nothing the agent does to its settings reaches the executor's defaults.
    assert.notEqual(settings.containment.deniedCidrs, DEFAULT_EXECUTOR_SETTINGS.deniedCidrs);
    assert.deepEqual(settings.namespaces, []);
    assert.equal(settings.workers, 32, 'one worker per node served, up to 32: a reconcile mostly waits on the chain');
    assert.equal(settings.logLevel, 'info');
    assert.equal(settings.kubeconfig, undefined);
    assert.equal(settings.metricsAddress, ':8080');
    assert.equal(settings.probeAddress, ':8081');
    assert.equal(settings.networks.defaultNetwork, 'mainnet');
    assert.deepEqual(settings.leaderElection, {
      namespace: await podNamespace(),
      name: 'nosana-operator-node',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
  });

  test("the agent's Lease is not the controller's, so the two never contend for one", async () => {
    const node = await parsed(IMAGE);
    const controller = await parseControllerArgs([], {});
    assert.notEqual(controller, 'help');
    if (controller === 'help') return;
    assert.equal(controller.leaderElection?.name, 'nosana-operator');
    assert.notEqual(node.leaderElection?.name, controller.leaderElection?.name);
  });

  const rows: { reason: string; args: string[]; env?: NodeJS.ProcessEnv; read: (settings: NodeAgentSettings) => unknown; want: unknown }[] =
    [
      { reason: '--poll-interval', args: ['--poll-interval', '2s'], read: (s) => s.timings.pollIntervalMs, want: 2_000 },
      { reason: '--recheck-interval', args: ['--recheck-interval', '30s'], read: (s) => s.timings.recheckMs, want: 30_000 },
      { reason: '--join-settle', args: ['--join-settle', '2m'], read: (s) => s.timings.joinSettleMs, want: 120_000 },
      { reason: '--start-retry', args: ['--start-retry', '500ms'], read: (s) => s.timings.startRetryMs, want: 500 },
      { reason: '--max-ending-failures', args: ['--max-ending-failures', '3'], read: (s) => s.timings.maxEndingFailures, want: 3 },
      { reason: '--low-balance 0.5', args: ['--low-balance', '0.5'], read: (s) => s.timings.lowBalanceLamports, want: 500_000_000n },
      { reason: '--low-balance whole SOL', args: ['--low-balance', '2'], read: (s) => s.timings.lowBalanceLamports, want: 2_000_000_000n },
      { reason: '--low-balance one lamport', args: ['--low-balance', '0.000000001'], read: (s) => s.timings.lowBalanceLamports, want: 1n },
      { reason: '--low-balance zero (no floor)', args: ['--low-balance', '0'], read: (s) => s.timings.lowBalanceLamports, want: 0n },
      {
        reason: '--unschedulable-timeout',
        args: ['--unschedulable-timeout', '1h'],
        read: (s) => s.timings.unschedulableMs,
        want: 3_600_000,
      },
      {
        reason: '--denied-cidr replaces the defaults',
        args: ['--denied-cidr', '10.0.0.0/8', '--denied-cidr', 'fd00::/8'],
        read: (s) => s.containment.deniedCidrs,
        want: ['10.0.0.0/8', 'fd00::/8'],
      },
      {
        reason: 'the ceilings',
        args: ['--max-cpu', '4', '--max-memory', '16Gi', '--max-ephemeral-storage', '500M'],
        read: (s) => s.containment.ceilings,
        want: { cpu: '4', memory: '16Gi', ephemeralStorage: '500M' },
      },
      { reason: 'one ceiling alone', args: ['--max-cpu', '1500m'], read: (s) => s.containment.ceilings, want: { cpu: '1500m' } },
      { reason: 'no ceiling', args: [], read: (s) => 'ceilings' in s.containment, want: false },
      { reason: '--volume-size', args: ['--volume-size', '25Gi'], read: (s) => s.containment.volumeSize, want: '25Gi' },
      {
        reason: '--exposure-namespace',
        args: ['--exposure-namespace', 'ingress-nginx'],
        read: (s) => s.containment.exposureNamespace,
        want: 'ingress-nginx',
      },
      { reason: 'no --exposure-namespace', args: [], read: (s) => 'exposureNamespace' in s.containment, want: false },
      {
        reason: '--agent-pod-labels',
        args: ['--agent-pod-labels', 'app.kubernetes.io/name=nosana-operator, component=node'],
        read: (s) => s.containment.agentPods?.podLabels,
        want: { 'app.kubernetes.io/name': 'nosana-operator', component: 'node' },
      },
      { reason: 'no --agent-pod-labels', args: [], read: (s) => 'agentPods' in s.containment, want: false },
      {
        reason: '--operator-image wins over the environment',
        args: ['--operator-image', 'flag:1'],
        env: { NOSANA_OPERATOR_IMAGE: 'env:1' },
        read: (s) => s.containment.operatorImage,
        want: 'flag:1',
      },
      { reason: '--namespaces', args: ['--namespaces', 'gpu-a, gpu-b'], read: (s) => s.namespaces, want: ['gpu-a', 'gpu-b'] },
      {
        reason: 'NOSANA_WATCH_NAMESPACES',
        args: [],
        env: { NOSANA_WATCH_NAMESPACES: 'gpu-c' },
        read: (s) => s.namespaces,
        want: ['gpu-c'],
      },
      {
        reason: '--leader-election-id',
        args: ['--leader-election-id', 'gpu-fleet'],
        read: (s) => s.leaderElection?.name,
        want: 'gpu-fleet',
      },
      { reason: '--leader-elect=false', args: ['--leader-elect=false'], read: (s) => s.leaderElection, want: undefined },
      { reason: '--workers', args: ['--workers', '2'], read: (s) => s.workers, want: 2 },
      { reason: '--network', args: ['--network', 'devnet'], read: (s) => s.networks.defaultNetwork, want: 'devnet' },
      { reason: '--log-level', args: ['--log-level', 'debug'], read: (s) => s.logLevel, want: 'debug' },
    ];
  for (const row of rows) {
    test(`parses ${row.reason}`, async () => {
      const settings = await parsed([...IMAGE.slice(row.args.includes('--operator-image') ? 2 : 0), ...row.args], row.env);
      assert.deepEqual(row.read(settings), row.want);
    });
  }

  test('the operator image may come from NOSANA_OPERATOR_IMAGE', async () => {
    const settings = await parsed([], { NOSANA_OPERATOR_IMAGE: ' registry.example/op:2 ' });
    assert.equal(settings.containment.operatorImage, 'registry.example/op:2');
  });

  test("--agent-pod-labels admits the agent's Pods from the pod's own namespace", async () => {
    const settings = await parsed([...IMAGE, '--agent-pod-labels', 'app=agent']);
    assert.deepEqual(settings.containment.agentPods, { namespace: await podNamespace(), podLabels: { app: 'agent' } });
  });

  test('--help', async () => {
    assert.equal(await parseNodeArgs(['--help'], {}), 'help');
    assert.equal(await parseNodeArgs(['-h'], {}), 'help');
  });
});

describe('nosana-operator node: wrong values are refused naming the flag', () => {
  const rows: { args: string[]; env?: NodeJS.ProcessEnv; error: RegExp }[] = [
    { args: ['--poll-interval', 'soon'], error: /--poll-interval: "soon" is not a duration/ },
    { args: ['--recheck-interval', '0s'], error: /--recheck-interval must be longer than zero/ },
    { args: ['--join-settle=-5s'], error: /--join-settle/ },
    { args: ['--start-retry', '10'], error: /--start-retry/ },
    { args: ['--unschedulable-timeout', 'forever'], error: /--unschedulable-timeout/ },
    { args: ['--max-ending-failures', '0'], error: /--max-ending-failures must be a whole number of at least 1/ },
    { args: ['--max-ending-failures', '1.5'], error: /--max-ending-failures/ },
    { args: ['--low-balance=-0.1'], error: /--low-balance must be an amount of SOL.*"-0\.1"/ },
    { args: ['--low-balance', 'lots'], error: /--low-balance must be an amount of SOL/ },
    { args: ['--low-balance', '0.0000000001'], error: /--low-balance .*at most 9 decimals/ },
    { args: ['--low-balance', '1e3'], error: /--low-balance/ },
    { args: ['--low-balance', '.5'], error: /--low-balance/ },
    { args: ['--denied-cidr', '10.0.0.0'], error: /--denied-cidr: "10\.0\.0\.0" is not a CIDR/ },
    { args: ['--denied-cidr', '10.0.0.0/33'], error: /--denied-cidr/ },
    { args: ['--denied-cidr', '300.0.0.0/8'], error: /--denied-cidr/ },
    { args: ['--denied-cidr', '10.0.0.0/08'], error: /--denied-cidr/ },
    { args: ['--denied-cidr', '10.0.0.0/8/1'], error: /--denied-cidr/ },
    { args: ['--denied-cidr', 'fe80::/129'], error: /--denied-cidr/ },
    { args: ['--denied-cidr', 'fe80::1%eth0/64'], error: /--denied-cidr/ },
    { args: ['--denied-cidr', '10.0.0.0/8', '--denied-cidr', 'intranet/8'], error: /--denied-cidr: "intranet\/8"/ },
    { args: ['--max-cpu', '0'], error: /--max-cpu must be a Kubernetes quantity greater than zero.*"0"/ },
    { args: ['--max-cpu', 'four'], error: /--max-cpu/ },
    { args: ['--max-memory', '16GB'], error: /--max-memory/ },
    { args: ['--max-ephemeral-storage=-1Gi'], error: /--max-ephemeral-storage/ },
    { args: ['--volume-size', '0Gi'], error: /--volume-size/ },
    { args: ['--exposure-namespace', 'Ingress_NGINX'], error: /--exposure-namespace: "Ingress_NGINX" is not a namespace name/ },
    { args: ['--agent-pod-labels', 'app'], error: /--agent-pod-labels takes KEY=VALUE.*"app"/ },
    { args: ['--agent-pod-labels', 'app=a,,tier=b'], error: /--agent-pod-labels/ },
    { args: ['--agent-pod-labels', 'bad key=x'], error: /--agent-pod-labels/ },
    { args: ['--agent-pod-labels', '/name=x'], error: /--agent-pod-labels/ },
    { args: ['--agent-pod-labels', 'app=two words'], error: /--agent-pod-labels/ },
    { args: ['--agent-pod-labels', `app=${'x'.repeat(64)}`], error: /--agent-pod-labels/ },
    { args: ['--workers', '0'], error: /--workers/ },
    { args: ['--leader-elect=maybe'], error: /--leader-elect must be true or false/ },
    { args: ['--metrics-bind-address', 'everywhere'], error: /--metrics-bind-address/ },
    { args: ['--network', 'moon'], error: /--network: unknown network "moon"/ },
    { args: ['serve'], error: /unexpected argument "serve"/ },
  ];
  for (const row of rows) {
    test(row.args.join(' '), async () => {
      await assert.rejects(parseNodeArgs([...IMAGE, ...row.args], row.env ?? {}), row.error);
    });
  }

  test('without an operator image, neither flag nor environment', async () => {
    await assert.rejects(parseNodeArgs([], {}), /--operator-image IMAGE \(or env NOSANA_OPERATOR_IMAGE\) is required/);
    await assert.rejects(parseNodeArgs([], { NOSANA_OPERATOR_IMAGE: '  ' }), /--operator-image/);
  });

  test('an operator image with a space in it', async () => {
    await assert.rejects(parseNodeArgs(['--operator-image', 'op: 1'], {}), /--operator-image: "op: 1" is not an image reference/);
  });
});

describe('nosana-operator node: the command', () => {
  test('an unknown flag is a usage error with the help', async () => {
    const out = capture();
    assert.equal(await runNode(['--bogus'], out.io), 2);
    assert.match(out.stderr(), /^nosana-operator node: .*'--bogus'/);
    assert.match(out.stderr(), /Usage: nosana-operator node/);
    assert.equal(out.stdout(), '');
  });

  test('a wrong value is a usage error naming the flag, without the help', async () => {
    const out = capture();
    assert.equal(await runNode([...IMAGE, '--low-balance', 'lots'], out.io), 2);
    assert.match(out.stderr(), /^nosana-operator node: --low-balance/);
    assert.doesNotMatch(out.stderr(), /Usage:/);
  });

  test('--help lists every flag, each with its default', async () => {
    const out = capture();
    assert.equal(await main(['node', '--help'], out.io), 0);
    const help = out.stdout();
    assert.match(help, /^Usage: nosana-operator node/);
    const lines = help.split('\n');
    for (const [flag, option] of Object.entries(NODE_OPTIONS)) {
      const start = lines.findIndex((line) => new RegExp(`^ {2}(-\\w, )?--${flag}[ =]|^ {2}(-\\w, )?--${flag}$`).test(line));
      assert.ok(start >= 0, `--${flag} is in the help`);
      if (!('default' in option)) continue;
      // A flag's text runs on over the lines indented past the flag column.
      let end = start + 1;
      while (end < lines.length && /^ {37}/.test(lines[end] ?? '')) end += 1;
      assert.match(
        lines.slice(start, end).join(' '),
        new RegExp(`default ${option.default.replace(/[.]/g, '\\.')}\\b`),
        `--${flag}'s default`,
      );
    }
  });

  test('main lists the node command', async () => {
    const out = capture();
    assert.equal(await main(['--help'], out.io), 0);
    assert.match(out.stdout(), /^ {2}node +run the node agent/m);
  });
});

describe('the run loop node shares with controller', () => {
  async function kubeconfigFile(): Promise<string> {
    const path = join(await mkdtemp(join(tmpdir(), 'node-cli-')), 'kubeconfig');
    await writeFile(
      path,
      `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: 'https://127.0.0.1:6443' } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`,
    );
    return path;
  }

  async function command(run: ProcessCommand<ProcessSettings>['run']): Promise<ProcessCommand<ProcessSettings>> {
    const settings: ProcessSettings = {
      kubeconfig: await kubeconfigFile(),
      logLevel: 'silent',
      namespaces: [],
      workers: 1,
      leaderElection: undefined,
      metricsAddress: ':0',
      probeAddress: ':0',
      networks: operatorNetworkDefaults({}),
    };
    return { name: 'test', title: 'the test process', help: 'help\n', parse: async () => settings, run };
  }

  test('SIGTERM stops the process cleanly (exit 0) and the signal handlers are removed after', async () => {
    const listeners = process.listenerCount('SIGTERM');
    let abortedOnSignal = false;
    const code = await runProcessCommand(
      await command(async (_options, stop) => {
        process.emit('SIGTERM', 'SIGTERM');
        abortedOnSignal = stop.aborted;
        return 'stopped';
      }),
      [],
      capture().io,
    );
    assert.equal(code, 0);
    assert.equal(abortedOnSignal, true);
    assert.equal(process.listenerCount('SIGTERM'), listeners);
  });

  test('a failure of the process is exit 1', async () => {
    const code = await runProcessCommand(
      await command(async () => {
        throw new Error('broken');
      }),
      [],
      capture().io,
    );
    assert.equal(code, 1);
  });

  test('a lost Lease ends the process at once, non-zero', async (t) => {
    const exit = t.mock.method(process, 'exit', (() => undefined) as unknown as typeof process.exit);
    await runProcessCommand(await command(async () => 'lost-leadership'), [], capture().io);
    assert.deepEqual(
      exit.mock.calls.map((call) => call.arguments),
      [[1]],
    );
  });
});
