// The node's semantics end to end through `nosana-operator run` on the local cluster: groups and
// depends_on with health checks, exposure, literals, resource caches, timeouts, the job deadline,
// unschedulable GPUs and Ctrl-C. What each simulated container does (how long, exit code, output,
// when it turns Ready) is this file's rule table, matched on the Pod's image and command; the
// executor creates exactly the Pods it would create on a real cluster.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import pino from 'pino';
import { exposeId } from '../../src/api/job-definition/expose-id.ts';
import type { FlowState } from '../../src/executor/flow-state.ts';
import { JOB_ID_ANNOTATION, JOB_LABEL, OP_ID_ANNOTATION, RESOURCE_CACHE_LABEL } from '../../src/executor/labels.ts';
import { LOCAL_STORAGE_CLASS } from '../../src/local-cluster/storage.ts';
import { SimulationWatcher } from '../../src/local-cluster/simulation.ts';
import type { SimulationRule } from '../../src/local-cluster/simulation.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';
import { KubeApi } from '../../src/runtime/kube-api.ts';
import { SupervisedInformer } from '../../src/runtime/informer.ts';
import { useCluster } from '../harness/fixture.ts';
import { runDefinition } from '../harness/run-command.ts';
import type { Ran } from '../harness/run-command.ts';
import type { ClusterContext } from '../harness/fixture.ts';
import { jobExamples, sharedMissingReason } from '../unit/job-definition/reference-definitions.ts';

const EXPOSE_DOMAIN = 'nodes.example.test';
const MODEL = 'deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B';
const NODE_ADDRESS = '4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T';

function example(name: string): Record<string, unknown> {
  const found = jobExamples().find((entry) => entry.name === `job-examples/${name}`);
  assert.ok(found, `${name} is among the job examples`);
  return structuredClone(found.definition) as Record<string, unknown>;
}

/**
 * What the literal setter of cli-job-literals.json prints: its own bash command run here, with the
 * literals `run` resolves before the Pod starts (`%%global.host%%` is the node address given to it). The example's command is real-world text, stray comma included, so its output is taken from
 * bash rather than written out by hand.
 */
function literalSetterOutput(definition: Record<string, unknown>): string[] {
  const ops = definition['ops'] as { args: { cmd: string[] } }[];
  const command = (ops[0]?.args.cmd[0] ?? '').replaceAll('%%global.host%%', NODE_ADDRESS).replaceAll('%%global.variables.MODEL%%', MODEL);
  const printed = spawnSync('bash', ['-c', command], { encoding: 'utf8' });
  assert.equal(printed.status, 0, printed.stderr);
  return printed.stdout.split('\n').filter((line) => line !== '');
}

describe('the node semantics through nosana-operator run', { skip: sharedMissingReason }, () => {
  let ctx: ClusterContext;
  let api: KubeApi;
  let namespace: string;
  let watcher: SimulationWatcher;
  let pods: SupervisedInformer<V1Pod>;
  let dir: string;
  /** Every job Pod as last seen, kept after it is deleted; and when each first turned Ready. */
  const seenPods = new Map<string, V1Pod>();
  const firstSeenAt = new Map<string, number>();
  const readyAt = new Map<string, number>();

  before(async () => {
    ctx = await useCluster();
    api = new KubeApi(ctx.kubeConfig);
    namespace = await ctx.freshNamespace('semantics');
    dir = await mkdtemp(join(tmpdir(), 'nosana-semantics-'));
    const literals = example('cli-job-literals.json');
    const rules: SimulationRule[] = [
      // A web server: runs until stopped, passes its health checks after 1.5 s.
      { name: 'nginx', match: { image: 'nginx' }, then: { readyAfter: '1500ms' } },
      {
        name: 'literal setter',
        match: { image: 'ubuntu', commandLine: /echo 'host: / },
        then: {
          exitCode: 0,
          runFor: '200ms',
          logs: literalSetterOutput(literals).map((text) => ({ stream: 'stdout' as const, text })),
        },
      },
      { name: 'selected job', match: { image: 'ubuntu', commandLine: /^hello / }, then: { exitCode: 0, runFor: '300ms' } },
      { name: 'model reader', match: { image: 'reader' }, then: { exitCode: 0, runFor: '200ms' } },
      // Never ends by itself: only a timeout, the deadline or Ctrl-C stops it.
      { name: 'forever', match: { image: 'forever' }, then: {} },
      { name: 'gpu hog', match: { image: 'gpu-hog' }, then: { exitCode: 0 } },
      { name: 'pair', match: { image: 'pair' }, then: { exitCode: 0, runFor: '1s' } },
    ];
    watcher = new SimulationWatcher({
      kubeConfig: ctx.kubeConfig,
      logsDir: ctx.handle.kwokLogsDir,
      rules,
      namespaces: [namespace],
      log: pino({ level: 'silent' }),
    });
    pods = new SupervisedInformer<V1Pod>(ctx.kubeConfig, '/api/v1/pods', pino({ level: 'silent' }), { namespaces: [namespace] });
    pods.on((event) => {
      const name = event.object.metadata?.name ?? '';
      if (!firstSeenAt.has(name)) firstSeenAt.set(name, Date.now());
      if (event.type !== 'deleted') seenPods.set(name, event.object);
      const ready = event.object.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True');
      if (ready === true && !readyAt.has(name)) readyAt.set(name, Date.now());
    });
    await Promise.all([watcher.start(), pods.start()]);
  });

  after(async () => {
    await Promise.all([watcher.stop(), pods.stop()]);
  });

  function run(name: string, definition: unknown, extra: string[] = []): Promise<Ran> {
    return runDefinition({ kubeconfigPath: ctx.handle.kubeconfigPath, namespace, dir }, name, definition, extra);
  }

  /** The Pod of an op, as last seen (the run deletes its Pods when it ends). */
  function podOf(opId: string, jobId?: string): V1Pod {
    const found = [...seenPods.values()].filter(
      (pod) =>
        pod.metadata?.annotations?.[OP_ID_ANNOTATION] === opId &&
        (jobId === undefined || pod.metadata.annotations[JOB_ID_ANNOTATION] === jobId),
    );
    assert.equal(found.length, 1, `one Pod of op ${opId} was seen`);
    return found[0] as V1Pod;
  }

  /** The objects of one kind in the namespace that belong to a job. */
  async function jobObjects(path: string): Promise<string[]> {
    const list = await api.request<{
      items: { metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string } }[];
    }>('GET', `${path}?labelSelector=${encodeURIComponent(JOB_LABEL)}`);
    return list.items.filter((item) => item.metadata.deletionTimestamp === undefined).map((item) => item.metadata.name);
  }

  async function leftovers(): Promise<Record<string, string[]>> {
    const paths: Record<string, string> = {
      pods: `/api/v1/namespaces/${namespace}/pods`,
      services: `/api/v1/namespaces/${namespace}/services`,
      secrets: `/api/v1/namespaces/${namespace}/secrets`,
      configmaps: `/api/v1/namespaces/${namespace}/configmaps`,
      persistentvolumeclaims: `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
      ingresses: `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses`,
      networkpolicies: `/apis/networking.k8s.io/v1/namespaces/${namespace}/networkpolicies`,
    };
    // Resource caches outlive runs on purpose; they carry no job label, so they are not listed.
    const found: Record<string, string[]> = {};
    for (const [kind, path] of Object.entries(paths)) {
      const names = await jobObjects(path);
      if (names.length > 0) found[kind] = names;
    }
    return found;
  }

  test('cli-nginx-multi-ops: a dependent starts once its dependency passes its health check; the next group waits for this one; exposed ports get a Service and an Ingress at the Nosana host', async () => {
    const ran = run('nginx', example('cli-nginx-multi-ops.json'), ['--timeout', '10s', '--expose-domain', EXPOSE_DOMAIN]);
    // While it runs: the first op's Service, Ingress and probes.
    const first = await waitFor(() => [...seenPods.values()].find((pod) => pod.metadata?.annotations?.[OP_ID_ANNOTATION] === 'nginx-1'), {
      what: 'the Pod of nginx-1',
      timeoutMs: 30_000,
    });
    const jobId = first.metadata?.annotations?.[JOB_ID_ANNOTATION] ?? '';
    const container = first.spec?.containers[0];
    assert.deepEqual(
      container?.ports?.map((port) => port.containerPort),
      [80],
    );
    assert.deepEqual(container?.readinessProbe?.httpGet, { path: '/', port: 80, scheme: 'HTTP' });
    assert.equal(container?.startupProbe?.httpGet?.path, '/');
    const host = `${exposeId(jobId, 0, 80).toLowerCase()}.${EXPOSE_DOMAIN}`;
    const ingress = await waitFor(
      async () => {
        const list = await api.request<{ items: { spec: { rules: { host: string; http: { paths: { backend: unknown }[] } }[] } }[] }>(
          'GET',
          `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses`,
        );
        return list.items.find((item) => item.spec.rules.some((rule) => rule.host === host));
      },
      { what: `an Ingress for ${host}`, timeoutMs: 30_000 },
    );
    const backend = ingress.spec.rules[0]?.http.paths[0]?.backend as { service: { name: string; port: { number: number } } };
    const service = await api.request<{ spec: { selector: Record<string, string>; ports: { port: number }[] } }>(
      'GET',
      `/api/v1/namespaces/${namespace}/services/${backend.service.name}`,
    );
    assert.deepEqual(
      service.spec.ports.map((port) => port.port),
      [80],
    );
    assert.equal(backend.service.port.number, 80);
    for (const [key, value] of Object.entries(service.spec.selector)) {
      assert.equal(first.metadata?.labels?.[key], value, `the Service selects the op's Pod by ${key}`);
    }

    const { code, flow, stderr } = await ran;
    assert.equal(code, 0, stderr);
    const byId = Object.fromEntries(flow.opStates.map((op) => [op.operationId, op]));
    // Both ops of group "run" ran until the deadline, which counts as success.
    assert.equal(byId['nginx-1']?.status, 'success');
    assert.equal(byId['nginx-2']?.status, 'success');
    // Group "run" never ended by itself, so group "run2" never started.
    assert.equal(byId['nginx-3']?.status, 'init');
    assert.equal(byId['nginx-3']?.startTime, null);
    assert.equal(flow.status, 'success');
    const firstPod = first.metadata?.name ?? '';
    const secondPod = podOf('nginx-2', jobId).metadata?.name ?? '';
    const firstReady = readyAt.get(firstPod);
    const secondCreated = firstSeenAt.get(secondPod);
    assert.ok(firstReady !== undefined && secondCreated !== undefined);
    assert.ok(secondCreated >= firstReady, 'nginx-2 was created only after nginx-1 passed its health check');
    assert.deepEqual(await leftovers(), {}, 'the run removed its objects');
  });

  test('cli-job-literals: results of one op become the command, env, entrypoint and resources of the next', async () => {
    const definition = example('cli-job-literals.json');
    const printed = literalSetterOutput(definition);
    const { code, flow, stderr } = await run('literals', definition, [
      '--storage-class',
      LOCAL_STORAGE_CLASS,
      '--node-address',
      NODE_ADDRESS,
    ]);
    const [setter, selected] = flow.opStates;
    assert.deepEqual(
      setter?.logs.map((entry) => entry.log),
      printed.map((line) => `${line}\n`),
    );
    assert.deepEqual(setter?.results?.['cmd']?.slice(0, 2), ['--model', MODEL]);
    assert.equal(code, 0, `${stderr}\n${JSON.stringify(flow.opStates, null, 2)}`);
    assert.equal(selected?.status, 'success');
    const jobId = podOf('literal-setter').metadata?.annotations?.[JOB_ID_ANNOTATION] ?? '';
    const pod = podOf('run-selected-job', jobId);
    const container = pod.spec?.containers[0];
    // `%%ops.literal-setter.results.cmd%%` stands for every match, spliced where it stands.
    assert.deepEqual(container?.args, [
      'hello',
      '--model',
      MODEL,
      '--served-model-name',
      'DeepSeek-R1-Distill-Qwen-1.5B',
      '--port',
      '9000',
      '--max-model-len',
      '30000',
      'test test',
    ]);
    // The entrypoint literal matched nothing, so "__remove-if-empty__" removed it: the image's own.
    assert.equal(container?.command, undefined);
    const env = Object.fromEntries((container?.env ?? []).map((entry) => [entry.name, entry.value]));
    assert.equal(env['Random_Var'], 'static_value');
    assert.equal(env['ANOTHER_VAR'], 'another_static_value');
    assert.equal(env['MODEL'], MODEL, 'the env_json result was spread into env');
    assert.equal(env['NOSANA_ID'], jobId);
    // Two Ollama models from the spread resources and the S3 folder: one download each.
    assert.deepEqual(
      pod.spec?.initContainers?.map((init) => init.args?.slice(0, 2)),
      [
        ['download', 'Ollama'],
        ['download', 'Ollama'],
        ['download', 'S3'],
      ],
    );
    assert.equal(container?.resources?.limits?.['nvidia.com/gpu'], '1');
    assert.ok(
      container?.ports?.some((port) => port.containerPort === 1000),
      'the literal port next to the spread is exposed',
    );
  });

  test('a resource cache is filled once per node and reused by the next job; a token-fetched copy is never shared with a job without the token', async () => {
    const reader = (accessToken?: string): unknown => ({
      version: '0.1',
      type: 'container',
      ops: [
        {
          type: 'container/run',
          id: 'read',
          args: {
            image: 'reader',
            resources: [{ type: 'HF', repo: 'acme/model', target: '/model', ...(accessToken === undefined ? {} : { accessToken }) }],
          },
        },
      ],
    });
    const claimOf = (pod: V1Pod): string | undefined =>
      pod.spec?.volumes?.find((volume) => volume.name.startsWith('resource-'))?.persistentVolumeClaim?.claimName;
    const runs = [];
    for (const [index, token] of [undefined, undefined, 'hf_secret_token'].entries()) {
      const ran = await run(`reader-${index}`, reader(token), ['--storage-class', LOCAL_STORAGE_CLASS]);
      assert.equal(ran.code, 0, ran.stderr);
      assert.ok(!ran.stderr.includes('hf_secret_token'), 'the token is not printed');
      runs.push(ran);
    }
    const readers = [...seenPods.values()].filter((pod) => pod.metadata?.annotations?.[OP_ID_ANNOTATION] === 'read');
    assert.equal(readers.length, 3);
    readers.sort((a, b) => (firstSeenAt.get(a.metadata?.name ?? '') ?? 0) - (firstSeenAt.get(b.metadata?.name ?? '') ?? 0));
    const [public1, public2, privateCopy] = readers.map(claimOf);
    assert.ok(public1 !== undefined);
    assert.equal(public2, public1, 'the second job mounts the cache the first one filled');
    assert.notEqual(privateCopy, public1, 'a copy fetched with a token is a cache of its own');
    const mount = readers[1]?.spec?.containers[0]?.volumeMounts?.find((entry) => entry.mountPath === '/model');
    assert.equal(mount?.readOnly, true, 'the cache is mounted read-only');
    // The caches outlive the runs (they are the cache), labelled as caches.
    const claims = await api.request<{ items: { metadata: { name: string; labels?: Record<string, string> } }[] }>(
      'GET',
      `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
    );
    const caches = claims.items
      .filter((claim) => claim.metadata.labels?.[RESOURCE_CACHE_LABEL] !== undefined)
      .map((claim) => claim.metadata.name);
    assert.ok(caches.includes(public1) && privateCopy !== undefined && caches.includes(privateCopy), `caches kept: ${caches.join(', ')}`);
    // The token reached the private copy's download through a Secret, never in clear.
    const privatePod = readers[2];
    assert.ok(!JSON.stringify(privatePod?.spec).includes('hf_secret_token'), 'no token in the Pod spec');
    assert.ok(
      privatePod?.spec?.initContainers?.[0]?.env?.some((entry) => entry.name === 'HF_TOKEN' && entry.valueFrom?.secretKeyRef !== undefined),
    );
  });

  test('GPU ops launched at the same moment land on one node, as ops share a Nosana node', async () => {
    const ran = await run('pair', {
      version: '0.1',
      type: 'container',
      ops: ['left', 'right', 'third'].map((id) => ({
        type: 'container/run',
        id,
        args: { image: 'pair', gpu: true },
        execution: { group: 'g' },
      })),
    });
    assert.equal(ran.code, 0, ran.stderr);
    const jobId = [...seenPods.values()].find((pod) => pod.spec?.containers[0]?.image === 'pair')?.metadata?.annotations?.[
      JOB_ID_ANNOTATION
    ];
    const nodes = ['left', 'right', 'third'].map((id) => podOf(id, jobId).spec?.nodeName);
    assert.ok(nodes[0] !== undefined);
    assert.deepEqual(nodes, [nodes[0], nodes[0], nodes[0]], `all on one node: ${nodes.join(', ')}`);
  });

  test('a job naming more distinct resources than the node keeps caches for: the op that would pass the bound fails, naming it', async () => {
    const reads = (op: number): unknown => ({
      type: 'container/run',
      id: `read-${op}`,
      args: {
        image: 'reader',
        resources: Array.from({ length: 12 }, (_, index) => ({
          type: 'S3',
          url: `https://models.example/${op}/${index}`,
          target: `/models/${index}`,
        })),
      },
    });
    const ran = await run('many-caches', { version: '0.1', type: 'container', ops: [reads(0), reads(1), reads(2)] }, [
      '--storage-class',
      LOCAL_STORAGE_CLASS,
    ]);
    assert.deepEqual(
      ran.flow.opStates.map((op) => op.status),
      ['success', 'success', 'failed'],
    );
    assert.match(ran.flow.opStates[2]?.errors[0]?.message ?? '', /would keep 36 resource caches on the node; at most 32/);
    assert.equal(ran.flow.opStates[2]?.errors[0]?.event, 'resource-error');
  });

  test("ops reach each other by %%ops.<id>.host%% and aliases: the Pod gets host entries at the running ops' Pod IPs", async () => {
    const ran = await run(
      'aliases',
      {
        version: '0.1',
        type: 'container',
        ops: [
          { type: 'container/run', id: 'db', args: { image: 'forever', aliases: ['Database', 'not a name'] }, execution: { group: 'g' } },
          {
            type: 'container/run',
            id: 'app',
            args: { image: 'pair', cmd: ['connect', '%%ops.db.host%%'] },
            execution: { group: 'g', depends_on: ['db'] },
          },
        ],
      },
      ['--timeout', '6s'],
    );
    assert.equal(ran.code, 0, ran.stderr);
    const db = [...seenPods.values()].find(
      (pod) => pod.metadata?.annotations?.[OP_ID_ANNOTATION] === 'db' && pod.spec?.containers[0]?.image === 'forever',
    );
    const jobId = db?.metadata?.annotations?.[JOB_ID_ANNOTATION];
    const app = podOf('app', jobId);
    const dbHost = app.spec?.containers[0]?.args?.[1] ?? '';
    assert.ok(dbHost !== '' && dbHost !== '%%ops.db.host%%', 'the literal was resolved');
    assert.ok(db?.status?.podIP !== undefined);
    assert.deepEqual(app.spec?.hostAliases, [{ ip: db.status.podIP, hostnames: [dbHost, 'database'] }]);
  });

  test('execution.timeout stops an op that runs too long, counted from its start, and the op succeeds', async () => {
    const ran = await run('timeout', {
      version: '0.1',
      type: 'container',
      ops: [{ type: 'container/run', id: 'long', args: { image: 'forever' }, execution: { timeout: 2 } }],
    });
    assert.equal(ran.code, 0, ran.stderr);
    const [op] = ran.flow.opStates;
    assert.equal(op?.status, 'success');
    const ranFor = (op?.endTime ?? 0) - (op?.startTime ?? 0);
    assert.ok(ranFor >= 2000, `stopped after ${ranFor} ms, not before its 2 s`);
  });

  test("at the job's deadline running ops stop and count as success", async () => {
    const ran = await run(
      'deadline',
      {
        version: '0.1',
        type: 'container',
        ops: [{ type: 'container/run', id: 'service', args: { image: 'forever' } }],
      },
      ['--timeout', '3s'],
    );
    assert.equal(ran.code, 0, ran.stderr);
    assert.deepEqual(
      ran.flow.opStates.map((op) => op.status),
      ['success'],
    );
    assert.ok((ran.flow.endTime ?? 0) - ran.flow.startTime >= 3000);
  });

  test('GPUs no node can provide: the op fails as unschedulable after the bound, with the scheduler’s reason', async () => {
    const ran = await run(
      'unschedulable',
      { version: '0.1', type: 'container', ops: [{ type: 'container/run', id: 'hog', args: { image: 'gpu-hog', gpu: true } }] },
      ['--gpus-per-job', '64', '--scheduling-timeout', '3s'],
    );
    assert.equal(ran.code, 1);
    const [op] = ran.flow.opStates;
    assert.equal(op?.status, 'failed');
    const message = JSON.stringify(op?.errors) + JSON.stringify(op?.logs);
    assert.match(message, /unschedulable|could not be scheduled/i);
    assert.match(message, /nvidia\.com\/gpu/, 'the reason names the resource no node has');
    assert.deepEqual(await leftovers(), {});
  });

  test('Ctrl-C mid-run stops the job and leaves none of its objects behind', async () => {
    const file = join(dir, 'interrupted.json');
    await writeFile(
      file,
      JSON.stringify({
        version: '0.1',
        type: 'container',
        ops: [
          { type: 'container/create-volume', id: 'volume', args: { name: 'scratch' } },
          {
            type: 'container/run',
            id: 'service',
            args: {
              image: 'forever',
              gpu: true,
              expose: 8080,
              volumes: [{ name: 'scratch', dest: '/scratch' }],
              authentication: { docker: { username: 'me', password: 'pull-password', server: 'registry.example' } },
            },
          },
        ],
      }),
    );
    const child = spawn(
      process.execPath,
      [
        'bin/nosana-operator.js',
        'run',
        '--kubeconfig',
        ctx.handle.kubeconfigPath,
        '--namespace',
        namespace,
        '--storage-class',
        LOCAL_STORAGE_CLASS,
        '--output',
        'json',
        file,
      ],
      { cwd: join(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor(() => /service: (running|ready)/.test(stderr), { what: 'the service op running', timeoutMs: 60_000 });
    const before = await leftovers();
    assert.ok((before['pods'] ?? []).length === 1 && (before['secrets'] ?? []).length === 1, JSON.stringify(before));
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, stderr);
    const flow = JSON.parse(stdout) as FlowState;
    assert.equal(flow.opStates[1]?.status, 'stopped');
    assert.deepEqual(await leftovers(), {}, 'nothing of the job is left');
    assert.ok(!stderr.includes('pull-password') && !stdout.includes('pull-password'), 'the registry password is never printed');
  });
});
