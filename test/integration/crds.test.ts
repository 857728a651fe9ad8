// The CRDs and the admission policy, served by a real API server: what `kubectl apply`
// accepts, what it rejects and how it says so, and what kubectl shows.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { REPO_ROOT } from '../../src/local-cluster/binaries.ts';
import { DEFAULT_JOB_LIMITS } from '../../src/api/crds/nosana-node.ts';
import { useCluster, type ClusterContext } from '../harness/fixture.ts';
import { kubectl, kubectlOk } from '../harness/kubectl.ts';
import { installNosanaApis, waitForAdmissionPolicy } from '../harness/nosana-apis.ts';

const EXAMPLES_DIR = join(REPO_ROOT, '..', 'shared', 'nosana', 'job-examples');
const JOB_ADDRESS = '3brMatsFV2uNaY9VDMKdC3jmpBvq1GQs1o9nvddQqKoQ';

type Json = Record<string, unknown>;

function nosanaJob(name: string, namespace: string, spec: Json): Json {
  return { apiVersion: 'nosana.io/v1alpha1', kind: 'NosanaJob', metadata: { name, namespace }, spec };
}

const definition = (ops: Json[] = [{ id: 'hello', type: 'container/run', args: { image: 'ubuntu', cmd: 'echo hello' } }]): Json => ({
  version: '0.1',
  type: 'container',
  ops,
});

const runOp = (args: Json, extra: Json = {}): Json => ({ id: 'op', type: 'container/run', args: { image: 'ubuntu', ...args }, ...extra });

/** `kubectl apply` as most people type it (client-side apply). */
async function apply(ctx: ClusterContext, object: Json) {
  return kubectl(ctx, ['apply', '-f', '-'], JSON.stringify(object));
}

let ctx: ClusterContext;
let namespace: string;

/** A NosanaNode with a key and a market, and `extra` spec fields. */
function nosanaNode(namespace: string, extra: Record<string, unknown>, name = 'x'): Json {
  return {
    apiVersion: 'nosana.io/v1alpha1',
    kind: 'NosanaNode',
    metadata: { name, namespace },
    spec: { market: 'm', keySecretRef: { name: 'k' }, ...extra },
  };
}

describe('nosana.io CRDs on a real API server', () => {
  before(async () => {
    ctx = await useCluster();
    await installNosanaApis(ctx);
    namespace = await ctx.freshNamespace('crds');
    await waitForAdmissionPolicy(ctx, namespace);
  });

  test('the four CRDs are Established and listed under the nosana category and short names', async () => {
    for (const crd of ['nosanajobs', 'nosanamarkets', 'nosananodes', 'nosanadeployments']) {
      const established = await kubectlOk(ctx, [
        'get',
        'crd',
        `${crd}.nosana.io`,
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Established")].status}',
      ]);
      assert.equal(established, 'True');
    }
    const resources = await kubectlOk(ctx, ['api-resources', '--api-group=nosana.io', '--no-headers']);
    assert.match(resources, /nosanajobs\s+nj\s+nosana\.io\/v1alpha1\s+true\s+NosanaJob/);
    assert.match(resources, /nosanamarkets\s+nmkt\s+/);
    assert.match(resources, /nosananodes\s+nnode\s+/);
    assert.match(resources, /nosanadeployments\s+ndep\s+nosana\.io\/v1alpha1\s+true\s+NosanaDeployment/);
    const category = await kubectl(ctx, ['get', 'nosana', '-n', namespace]);
    assert.equal(category.code, 0, category.stderr);
  });

  test('every real job definition from the examples is accepted inside a NosanaJob', async () => {
    const files = (await readdir(EXAMPLES_DIR)).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 10, `expected the job examples in ${EXAMPLES_DIR}`);
    for (const file of files) {
      const jobDefinition = JSON.parse(await readFile(join(EXAMPLES_DIR, file), 'utf8')) as Json;
      const name = file
        .replace(/\.json$/, '')
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, '-');
      const result = await apply(ctx, nosanaJob(name, namespace, { market: 'nvidia-4090', timeout: '30m', definition: jobDefinition }));
      assert.equal(result.code, 0, `${file}: ${result.stderr}`);
    }
    // the stored definition is the posted one, untouched (unknown fields preserved, not pruned)
    const stored = JSON.parse(await kubectlOk(ctx, ['get', 'nj', 'node-health-check-restart', '-n', namespace, '-o', 'json'])) as {
      spec: { definition: unknown };
    };
    const original = JSON.parse(await readFile(join(EXAMPLES_DIR, 'node-health-check-restart.json'), 'utf8')) as unknown;
    assert.deepEqual(stored.spec.definition, original);
  });

  const rejected: { name: string; object: (ns: string) => Json; field: string; says: RegExp }[] = [
    {
      name: 'missing market',
      object: (ns) => nosanaJob('x', ns, { definition: definition() }),
      field: 'spec.market',
      says: /Required value/,
    },
    {
      name: 'neither definition nor definitionFrom',
      object: (ns) => nosanaJob('x', ns, { market: 'm' }),
      field: 'spec',
      says: /exactly one of definition and definitionFrom/,
    },
    {
      name: 'both definition and definitionFrom',
      object: (ns) =>
        nosanaJob('x', ns, { market: 'm', definition: definition(), definitionFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }),
      field: 'spec',
      says: /mutually exclusive/,
    },
    {
      name: 'malformed timeout',
      object: (ns) => nosanaJob('x', ns, { market: 'm', timeout: '30 minutes', definition: definition() }),
      field: 'spec.timeout',
      says: /positive number of seconds or a duration/,
    },
    {
      name: 'zero timeout',
      object: (ns) => nosanaJob('x', ns, { market: 'm', timeout: 0, definition: definition() }),
      field: 'spec.timeout',
      says: /positive/,
    },
    {
      name: 'too many decimals in maxCost',
      object: (ns) => nosanaJob('x', ns, { market: 'm', maxCost: '0.1234567', definition: definition() }),
      field: 'spec.maxCost',
      says: /at most 6 decimals/,
    },
    {
      name: 'unknown deletionPolicy',
      object: (ns) => nosanaJob('x', ns, { market: 'm', deletionPolicy: 'Delete', definition: definition() }),
      field: 'spec.deletionPolicy',
      says: /Unsupported value: "Delete"/,
    },
    {
      name: 'node that is not an address',
      object: (ns) => nosanaJob('x', ns, { market: 'm', node: 'not-an-address', definition: definition() }),
      field: 'spec.node',
      says: /should match/,
    },
    {
      name: 'wallet Secret without a name',
      object: (ns) => nosanaJob('x', ns, { market: 'm', walletSecretRef: { key: 'k' }, definition: definition() }),
      field: 'spec.walletSecretRef.name',
      says: /Required value/,
    },
    {
      name: 'job type other than container',
      object: (ns) => nosanaJob('x', ns, { market: 'm', definition: { ...definition(), type: 'docker' } }),
      field: 'spec.definition.type',
      says: /Unsupported value: "docker"/,
    },
    {
      name: 'definition without ops',
      object: (ns) => nosanaJob('x', ns, { market: 'm', definition: { version: '0.1', type: 'container' } }),
      field: 'spec.definition.ops',
      says: /Required value/,
    },
    {
      name: 'unknown op type',
      object: (ns) => nosanaJob('x', ns, { market: 'm', definition: definition([{ id: 'a', type: 'container/exec', args: {} }]) }),
      field: 'spec.definition.ops[0].type',
      says: /Unsupported value/,
    },
    {
      name: 'container/run without image',
      object: (ns) =>
        nosanaJob('x', ns, { market: 'm', definition: definition([{ id: 'a', type: 'container/run', args: { cmd: 'ls' } }]) }),
      field: 'spec.definition.ops[0]',
      says: /needs args\.image/,
    },
    {
      name: 'create-volume without name',
      object: (ns) => nosanaJob('x', ns, { market: 'm', definition: definition([{ id: 'v', type: 'container/create-volume', args: {} }]) }),
      field: 'spec.definition.ops[0]',
      says: /needs args\.name/,
    },
    {
      name: 'duplicate op ids',
      object: (ns) => nosanaJob('x', ns, { market: 'm', definition: definition([runOp({}), runOp({})]) }),
      field: 'spec.definition.ops[1]',
      says: /Duplicate value/,
    },
    {
      name: 'gpu as a string',
      object: (ns) => nosanaJob('x', ns, { market: 'm', definition: definition([runOp({ gpu: 'yes' })]) }),
      field: 'spec.definition.ops[0].args.gpu',
      says: /must be of type boolean/,
    },
    {
      name: 'env value that is a number',
      object: (ns) => nosanaJob('x', ns, { market: 'm', definition: definition([runOp({ env: { DEBUG: 1 } })]) }),
      field: 'spec.definition.ops[0].args.env.DEBUG',
      says: /must be of type string/,
    },
    {
      name: 'cmd that is a number',
      object: (ns) => nosanaJob('x', ns, { market: 'm', definition: definition([runOp({ cmd: 42 })]) }),
      field: 'spec.definition.ops[0].args.cmd',
      says: /must be a string or an array of strings/,
    },
    {
      name: 'cmd array with a number (second op)',
      object: (ns) =>
        nosanaJob('x', ns, { market: 'm', definition: definition([{ ...runOp({}), id: 'first' }, runOp({ cmd: ['echo', 1] })]) }),
      field: 'spec.definition.ops[1].args.cmd',
      says: /must be a string or an array of strings/,
    },
    {
      name: 'entrypoint that is an object',
      object: (ns) => nosanaJob('x', ns, { market: 'm', definition: definition([runOp({ entrypoint: { sh: true } })]) }),
      field: 'spec.definition.ops[0].args.entrypoint',
      says: /must be a string or an array of strings/,
    },
    {
      name: 'fractional expose port',
      object: (ns) => nosanaJob('x', ns, { market: 'm', definition: definition([runOp({ expose: 8.5 })]) }),
      field: 'spec.definition.ops[0].args.expose',
      says: /port number/,
    },
    {
      name: 'global entrypoint that is a number',
      object: (ns) => nosanaJob('x', ns, { market: 'm', definition: { ...definition(), global: { entrypoint: 7 } } }),
      field: 'spec.definition.global.entrypoint',
      says: /must be a string or an array of strings/,
    },
    {
      name: 'market with both address and slug',
      object: (ns) => ({
        apiVersion: 'nosana.io/v1alpha1',
        kind: 'NosanaMarket',
        metadata: { name: 'x', namespace: ns },
        spec: { address: JOB_ADDRESS, slug: 'nvidia-4090' },
      }),
      field: 'spec',
      says: /exactly one of address and slug/,
    },
    {
      name: 'market on an unknown network',
      object: (ns) => ({
        apiVersion: 'nosana.io/v1alpha1',
        kind: 'NosanaMarket',
        metadata: { name: 'x', namespace: ns },
        spec: { slug: 'a', network: 'testnet' },
      }),
      field: 'spec.network',
      says: /Unsupported value: "testnet"/,
    },
    {
      name: 'market refreshInterval that is not a duration',
      object: (ns) => ({
        apiVersion: 'nosana.io/v1alpha1',
        kind: 'NosanaMarket',
        metadata: { name: 'x', namespace: ns },
        spec: { slug: 'a', refreshInterval: 'often' },
      }),
      field: 'spec.refreshInterval',
      says: /duration of at least 1s/,
    },
    {
      name: 'node with two concurrent jobs',
      object: (ns) => ({
        apiVersion: 'nosana.io/v1alpha1',
        kind: 'NosanaNode',
        metadata: { name: 'x', namespace: ns },
        spec: { market: 'm', keySecretRef: { name: 'k' }, maxConcurrentJobs: 2 },
      }),
      field: 'spec.maxConcurrentJobs',
      says: /less than or equal to 1/,
    },
    {
      name: 'node with both DRA and device-plugin GPUs',
      object: (ns) => nosanaNode(ns, { dra: { deviceClassName: 'gpu.nvidia.com', count: 2 }, gpusPerJob: 2 }),
      field: 'spec.dra',
      says: /dra replaces the device-plugin fields/,
    },
    {
      name: 'node exposing by HTTPRoute without a gateway',
      object: (ns) => nosanaNode(ns, { exposure: { baseDomain: 'jobs.example.org', kind: 'HTTPRoute' } }),
      field: 'spec.exposure.gateway',
      says: /needs gateway/,
    },
    {
      name: 'node limit that is not a quantity',
      object: (ns) => nosanaNode(ns, { limits: { cpu: 'lots', memory: '32Gi', ephemeralStorage: '50Gi' } }),
      field: 'spec.limits.cpu',
      says: /should match/,
    },
    {
      name: 'node paid into something that is not an address',
      object: (ns) => nosanaNode(ns, { payoutAddress: 'my-cold-wallet' }),
      field: 'spec.payoutAddress',
      says: /should match/,
    },
    {
      name: 'node without a key',
      object: (ns) => ({
        apiVersion: 'nosana.io/v1alpha1',
        kind: 'NosanaNode',
        metadata: { name: 'x', namespace: ns },
        spec: { market: 'm' },
      }),
      field: 'spec.keySecretRef',
      says: /Required value/,
    },
  ];

  for (const c of rejected) {
    test(`rejected at apply time, naming ${c.field}: ${c.name}`, async () => {
      const result = await apply(ctx, c.object(namespace));
      assert.notEqual(result.code, 0, 'the API server accepted it');
      const escaped = c.field.replace(/[.[\]]/g, (m) => `\\${m}`);
      assert.match(result.stderr, new RegExp(`${escaped}(:| )`), `message should name ${c.field}: ${result.stderr}`);
      assert.match(result.stderr, c.says);
    });
  }

  test('a NosanaNode that sets no limits is stored with the default job limits', async () => {
    const applied = await apply(ctx, nosanaNode(namespace, {}, 'defaults'));
    assert.equal(applied.code, 0, applied.stderr);
    const stored = JSON.parse(await kubectlOk(ctx, ['get', 'nosananode', 'defaults', '-n', namespace, '-o', 'json'])) as {
      spec: { limits?: unknown };
    };
    assert.deepEqual(stored.spec.limits, DEFAULT_JOB_LIMITS);
  });

  test('server-side apply (as Flux and Argo CD use it) also names the field, by op id', async () => {
    const object = nosanaJob('ssa', namespace, { market: 'm', definition: definition([runOp({ gpu: 'yes' })]) });
    const result = await kubectl(ctx, ['apply', '--server-side', '-f', '-'], JSON.stringify(object));
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /\.spec\.definition\.ops\[id="op"\]\.args\.gpu: expected boolean/);
  });

  describe('once a job is posted', () => {
    const name = 'posted';
    before(async () => {
      const created = await apply(ctx, nosanaJob(name, namespace, { market: 'nvidia-4090', timeout: '30m', definition: definition() }));
      assert.equal(created.code, 0, created.stderr);
      // what the operator records after landing the post
      await kubectlOk(ctx, [
        'patch',
        'nj',
        name,
        '-n',
        namespace,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: { jobAddress: JOB_ADDRESS, phase: 'Queued' } }),
      ]);
    });

    const change = (spec: Json) => kubectl(ctx, ['patch', 'nj', name, '-n', namespace, '--type=merge', '-p', JSON.stringify({ spec })]);

    test('the definition cannot change', async () => {
      const result = await change({ definition: definition([runOp({ cmd: 'echo changed' })]) });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /spec\.definition: cannot change once the job is posted/);
      assert.match(result.stderr, new RegExp(JOB_ADDRESS));
    });

    test('the market cannot change', async () => {
      const result = await change({ market: 'nvidia-3090' });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /spec\.market: cannot change once the job is posted/);
    });

    test('the timeout can grow but not shrink', async () => {
      const shrink = await change({ timeout: '10m' });
      assert.notEqual(shrink.code, 0);
      assert.match(shrink.stderr, /spec\.timeout: can only grow/);
      const grow = await change({ timeout: 3600 });
      assert.equal(grow.code, 0, grow.stderr);
    });

    test('the job-address annotation alone (status lost in a restore) also protects the definition', async () => {
      const restored = 'restored';
      assert.equal((await apply(ctx, nosanaJob(restored, namespace, { market: 'm', definition: definition() }))).code, 0);
      await kubectlOk(ctx, ['annotate', 'nj', restored, '-n', namespace, `nosana.io/job-address=${JOB_ADDRESS}`]);
      const result = await kubectl(ctx, [
        'patch',
        'nj',
        restored,
        '-n',
        namespace,
        '--type=merge',
        '-p',
        JSON.stringify({ spec: { definition: definition([runOp({})]) } }),
      ]);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /spec\.definition: cannot change/);
    });

    test('an unposted job can still be edited', async () => {
      const draft = 'draft';
      assert.equal((await apply(ctx, nosanaJob(draft, namespace, { market: 'm', definition: definition() }))).code, 0);
      const result = await kubectl(ctx, [
        'patch',
        'nj',
        draft,
        '-n',
        namespace,
        '--type=merge',
        '-p',
        JSON.stringify({ spec: { market: 'other', definition: definition([runOp({})]) } }),
      ]);
      assert.equal(result.code, 0, result.stderr);
    });
  });

  test('kubectl get shows the printer columns, -o wide adds job address and result CID', async () => {
    const name = 'columns';
    assert.equal((await apply(ctx, nosanaJob(name, namespace, { market: 'nvidia-4090', definition: definition() }))).code, 0);
    await kubectlOk(ctx, [
      'patch',
      'nj',
      name,
      '-n',
      namespace,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          phase: 'Succeeded',
          node: JOB_ADDRESS,
          cost: '0.00108',
          jobAddress: JOB_ADDRESS,
          ipfsResult: 'QmUpv6jQmMjiJKYaozcLZvUcujkiWg8L3RWkvmX42xdYL7',
        },
      }),
    ]);
    const [header, row] = (await kubectlOk(ctx, ['get', 'nj', name, '-n', namespace])).trim().split('\n');
    assert.match(header!, /^NAME\s+PHASE\s+MARKET\s+NODE\s+COST\s+AGE$/);
    assert.match(row!, new RegExp(`^columns\\s+Succeeded\\s+nvidia-4090\\s+${JOB_ADDRESS}\\s+0\\.00108\\s+\\S+$`));
    const wide = await kubectlOk(ctx, ['get', 'nj', name, '-n', namespace, '-o', 'wide']);
    assert.match(wide, /JOB\s+RESULT/);
    assert.match(wide, /QmUpv6jQmMjiJKYaozcLZvUcujkiWg8L3RWkvmX42xdYL7/);
  });

  test('kubectl explain describes the fields', async () => {
    const timeout = await kubectlOk(ctx, ['explain', 'nosanajob.spec.timeout']);
    assert.match(timeout, /duration such as "30m"/);
    const policy = await kubectlOk(ctx, ['explain', 'nj.spec.deletionPolicy']);
    assert.match(policy, /Cancel delists a queued job/);
    const ready = await kubectlOk(ctx, ['explain', 'nnode.spec.gpuResourceName']);
    assert.match(ready, /GPUs/);
  });

  test('kubectl wait --for=condition=Completed works on the status conditions', async () => {
    const name = 'waitable';
    assert.equal((await apply(ctx, nosanaJob(name, namespace, { market: 'm', definition: definition() }))).code, 0);
    const waiting = kubectl(ctx, ['wait', `nj/${name}`, '-n', namespace, '--for=condition=Completed', '--timeout=30s']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await kubectlOk(ctx, [
      'patch',
      'nj',
      name,
      '-n',
      namespace,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          phase: 'Succeeded',
          conditions: [
            {
              type: 'Completed',
              status: 'True',
              reason: 'Succeeded',
              message: 'every op succeeded',
              lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
            },
          ],
        },
      }),
    ]);
    const result = await waiting;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /condition met/);
  });
});
