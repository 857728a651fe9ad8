// The Pod of a container/run op, field by field against NODE.md §2.3 and §6, the hardening on every
// Pod whatever the definition says, and the same checks on every real job definition.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { validateJobDefinition } from '../../../src/api/job-definition/index.ts';
import type { ContainerRunArgs, JobDefinition } from '../../../src/api/job-definition/index.ts';
import {
  GPU_MEMORY_LABEL,
  MAX_RESTARTS_ANNOTATION,
  OP_CONTAINER_NAME,
  RESOURCE_DOWNLOAD_PATH,
  RESTART_TRIES_ANNOTATION,
  buildOpPod,
  opAliases,
} from '../../../src/executor/build-pod.ts';
import type { PodInput } from '../../../src/executor/build-pod.ts';
import { JOB_LABEL, OP_INDEX_LABEL, jobSelector } from '../../../src/executor/labels.ts';
import type { OpContext } from '../../../src/executor/labels.ts';
import {
  jobVolumeClaimName,
  opPodName,
  privateResourceClaimName,
  pullSecretName,
  resourceCacheClaimName,
  resourceClaimName,
  resourceCredentialSecretName,
} from '../../../src/executor/names.ts';
import { DEFAULT_EXECUTOR_SETTINGS } from '../../../src/executor/settings.ts';
import type { ExecutorSettings } from '../../../src/executor/settings.ts';
import { jobExamples, seedDefinitions, sharedMissingReason } from '../job-definition/reference-definitions.ts';

const JOB = '7Uq9yCqnYbTTLfqVv5rZ3gYjNpJZRsqZJ7m2iYVQmAbW';
const SETTINGS: ExecutorSettings = {
  ...DEFAULT_EXECUTOR_SETTINGS,
  namespace: 'nosana-jobs',
  operatorImage: 'ghcr.io/example/nosana-operator:1.0.0',
  limits: { cpu: '4', memory: '16Gi', ephemeralStorage: '40Gi' },
};

function context(settings: Partial<ExecutorSettings> = {}, opIndex = 0): OpContext {
  return { jobId: JOB, opIndex, opId: 'op', settings: { ...SETTINGS, ...settings } };
}

function build(args: Partial<ContainerRunArgs>, extra: Partial<PodInput> = {}, settings: Partial<ExecutorSettings> = {}): V1Pod {
  return buildOpPod(context(settings), { args: { image: 'ubuntu', ...args }, definition: {}, ...extra });
}

function mainContainer(pod: V1Pod): V1Container {
  const container = pod.spec?.containers.find((entry) => entry.name === OP_CONTAINER_NAME);
  assert.ok(container, 'the op container exists');
  return container;
}

function envOf(container: V1Container): [string, string | undefined][] {
  return (container.env ?? []).map((entry) => [entry.name, entry.value]);
}

/**
 * Pod Security "baseline" and this project's own rules (ARCHITECTURE.md "untrusted workloads"),
 * checked on the object as built, whatever went into it.
 */
function assertHardened(pod: V1Pod, settings: ExecutorSettings, where: string): void {
  const spec = pod.spec;
  assert.ok(spec, `${where}: has a spec`);
  assert.notEqual(spec.hostNetwork, true, `${where}: hostNetwork`);
  assert.notEqual(spec.hostPID, true, `${where}: hostPID`);
  assert.notEqual(spec.hostIPC, true, `${where}: hostIPC`);
  assert.equal(spec.automountServiceAccountToken, false, `${where}: no service-account token`);
  assert.equal(spec.enableServiceLinks, false, `${where}: no service links`);
  assert.equal(spec.securityContext?.sysctls, undefined, `${where}: no sysctls`);
  assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${where}: pod seccomp`);
  for (const volume of spec.volumes ?? []) {
    const kinds = Object.keys(volume).filter((key) => key !== 'name');
    assert.ok(
      kinds.every((kind) => kind === 'persistentVolumeClaim' || kind === 'emptyDir'),
      `${where}: volume ${volume.name} is ${kinds.join()}`,
    );
  }
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
    const at = `${where}: container ${container.name}`;
    const security = container.securityContext;
    assert.equal(security?.privileged, false, `${at}: not privileged`);
    assert.equal(security?.allowPrivilegeEscalation, false, `${at}: no privilege escalation`);
    assert.deepEqual(security?.capabilities?.add ?? [], [], `${at}: no capability added`);
    assert.ok(security?.capabilities?.drop?.includes('NET_RAW'), `${at}: NET_RAW dropped`);
    assert.equal(security?.seccompProfile?.type, 'RuntimeDefault', `${at}: seccomp`);
    assert.equal(security?.procMount, undefined, `${at}: default procMount`);
    assert.equal(security?.seLinuxOptions, undefined, `${at}: no SELinux override`);
    for (const port of container.ports ?? []) assert.equal(port.hostPort, undefined, `${at}: no hostPort`);
    const limits = container.resources?.limits ?? {};
    assert.equal(limits.cpu, settings.limits.cpu, `${at}: cpu limit`);
    assert.equal(limits.memory, settings.limits.memory, `${at}: memory limit`);
    assert.equal(limits['ephemeral-storage'], settings.limits.ephemeralStorage, `${at}: ephemeral-storage limit`);
  }
}

// ---------------------------------------------------------------------------------------------

describe('command and args (NODE.md §2.3, §1.12)', () => {
  const rows: {
    reason: string;
    args: Partial<ContainerRunArgs>;
    global?: JobDefinition['global'];
    want: { command: string[] | undefined; args: string[] | undefined };
  }[] = [
    {
      reason: 'a string cmd runs under /bin/sh -c, in args (not command)',
      args: { cmd: 'echo hello world' },
      want: { command: undefined, args: ['/bin/sh', '-c', 'echo hello world'] },
    },
    {
      reason: 'an empty string cmd still overrides the image CMD',
      args: { cmd: '' },
      want: { command: undefined, args: ['/bin/sh', '-c', ''] },
    },
    {
      reason: 'an array cmd is verbatim, not shell-joined',
      args: { cmd: ['/bin/sh', '-c', 'echo a;', 'ls;'] },
      want: { command: undefined, args: ['/bin/sh', '-c', 'echo a;', 'ls;'] },
    },
    { reason: "no cmd: the image's CMD", args: {}, want: { command: undefined, args: undefined } },
    { reason: "an empty cmd array: the image's CMD", args: { cmd: [] }, want: { command: undefined, args: undefined } },
    {
      reason: 'a string entrypoint is one element, without word splitting',
      args: { entrypoint: 'python3 -m server', cmd: ['--port', '80'] },
      want: { command: ['python3 -m server'], args: ['--port', '80'] },
    },
    {
      reason: 'an array entrypoint is verbatim, and a string cmd still goes through sh -c',
      args: { entrypoint: ['bash', '-c'], cmd: 'echo hi' },
      want: { command: ['bash', '-c'], args: ['/bin/sh', '-c', 'echo hi'] },
    },
    {
      reason: 'global.entrypoint applies when the op has none',
      args: { cmd: ['x'] },
      global: { entrypoint: ['/entry'] },
      want: { command: ['/entry'], args: ['x'] },
    },
    {
      reason: "the op's entrypoint wins over global.entrypoint",
      args: { entrypoint: '/mine' },
      global: { entrypoint: ['/entry'] },
      want: { command: ['/mine'], args: undefined },
    },
  ];
  for (const { reason, args, global, want } of rows) {
    test(reason, () => {
      const container = mainContainer(build(args, { definition: global === undefined ? {} : { global } }));
      assert.deepEqual(container.command, want.command);
      assert.deepEqual(container.args, want.args);
    });
  }
});

describe('env, working directory and image', () => {
  const rows: {
    reason: string;
    args: Partial<ContainerRunArgs>;
    global?: JobDefinition['global'];
    want: [string, string][];
  }[] = [
    {
      reason: 'NOSANA_ID is the job id, and the only entry besides the GPU guard when nothing is set',
      args: {},
      want: [
        ['NVIDIA_VISIBLE_DEVICES', 'void'],
        ['NOSANA_ID', JOB],
      ],
    },
    {
      reason: 'op env is merged over global env (the op wins), NOSANA_ID last',
      args: { env: { B: 'op', C: 'op' } },
      global: { env: { A: 'global', B: 'global' } },
      want: [
        ['A', 'global'],
        ['B', 'op'],
        ['C', 'op'],
        ['NVIDIA_VISIBLE_DEVICES', 'void'],
        ['NOSANA_ID', JOB],
      ],
    },
    {
      reason: 'a definition cannot override NOSANA_ID, from the op or from global',
      args: { env: { NOSANA_ID: 'forged' } },
      global: { env: { NOSANA_ID: 'forged-too' } },
      want: [
        ['NVIDIA_VISIBLE_DEVICES', 'void'],
        ['NOSANA_ID', JOB],
      ],
    },
    {
      reason: 'a definition cannot choose GPUs through NVIDIA_VISIBLE_DEVICES',
      args: { env: { NVIDIA_VISIBLE_DEVICES: 'all', KEEP: '1' } },
      want: [
        ['KEEP', '1'],
        ['NVIDIA_VISIBLE_DEVICES', 'void'],
        ['NOSANA_ID', JOB],
      ],
    },
    {
      reason: 'a GPU op leaves device selection to the device plugin or DRA driver',
      args: { gpu: true, env: { NVIDIA_VISIBLE_DEVICES: '0' } },
      want: [['NOSANA_ID', JOB]],
    },
  ];
  for (const { reason, args, global, want } of rows) {
    test(reason, () => {
      assert.deepEqual(envOf(mainContainer(build(args, { definition: global === undefined ? {} : { global } }))), want);
    });
  }

  const workDirRows: { reason: string; op?: string; global?: string; want: string | undefined }[] = [
    { reason: "the op's work_dir", op: '/home/podman', global: '/home/', want: '/home/podman' },
    { reason: 'global.work_dir when the op has none', global: '/home/', want: '/home/' },
    { reason: "none: the image's", want: undefined },
  ];
  for (const { reason, op, global, want } of workDirRows) {
    test(`workingDir: ${reason}`, () => {
      const pod = build(op === undefined ? {} : { work_dir: op }, {
        definition: global === undefined ? {} : { global: { work_dir: global } },
      });
      assert.equal(mainContainer(pod).workingDir, want);
    });
  }

  test("the op's image; global.image only when the op has none", () => {
    assert.equal(mainContainer(build({ image: 'nginx' }, { definition: { global: { image: 'other' } } })).image, 'nginx');
    assert.equal(
      mainContainer(build({ image: '' }, { definition: { global: { image: 'mathworks/matlab:r2024b' } } })).image,
      'mathworks/matlab:r2024b',
    );
    assert.throws(() => build({ image: '' }), /no image/);
  });

  test('images are pulled only when absent, as on the node', () => {
    assert.equal(mainContainer(build({})).imagePullPolicy, 'IfNotPresent');
  });
});

describe('GPUs', () => {
  const rows: {
    reason: string;
    args: Partial<ContainerRunArgs>;
    global?: JobDefinition['global'];
    settings?: Partial<ExecutorSettings>;
    want: string | undefined;
  }[] = [
    { reason: 'gpu: true requests settings.gpusPerJob of settings.gpuResourceName', args: { gpu: true }, want: '1' },
    { reason: 'no gpu: no GPU request', args: {}, want: undefined },
    { reason: 'global.gpu applies to an op that says nothing', args: {}, global: { gpu: true }, want: '1' },
    {
      reason: "an op's gpu: false does not switch global.gpu off (op.gpu || global.gpu)",
      args: { gpu: false },
      global: { gpu: true },
      want: '1',
    },
    {
      reason: 'the count and resource name come from settings',
      args: { gpu: true },
      settings: { gpusPerJob: 4, gpuResourceName: 'amd.com/gpu' },
      want: '4',
    },
  ];
  for (const { reason, args, global, settings, want } of rows) {
    test(reason, () => {
      const name = settings?.gpuResourceName ?? 'nvidia.com/gpu';
      const resources = mainContainer(build(args, { definition: global === undefined ? {} : { global } }, settings)).resources;
      assert.equal(resources?.limits?.[name], want);
      assert.equal(resources?.requests?.[name], want, 'extended resources need requests equal to limits');
    });
  }

  test('DRA: the Pod references the job claim, the container uses it, and no extended resource is requested', () => {
    const pod = build({ gpu: true }, {}, { dra: { deviceClassName: 'gpu.nvidia.com', count: 8 } });
    assert.deepEqual(pod.spec?.resourceClaims, [{ name: 'gpu', resourceClaimName: resourceClaimName(JOB) }]);
    const resources = mainContainer(pod).resources;
    assert.deepEqual(resources?.claims, [{ name: 'gpu' }]);
    assert.equal(resources?.limits?.['nvidia.com/gpu'], undefined);
  });

  test('DRA: an op without GPUs does not reference the claim', () => {
    const pod = build({}, {}, { dra: { deviceClassName: 'gpu.nvidia.com', count: 8 } });
    assert.equal(pod.spec?.resourceClaims, undefined);
    assert.equal(mainContainer(pod).resources?.claims, undefined);
  });
});

describe('restart policy', () => {
  const rows: { reason: string; policy: ContainerRunArgs['restart_policy']; want: string; tries?: string }[] = [
    { reason: 'none: the container is not restarted', policy: undefined, want: 'Never' },
    { reason: '"no" ⇒ Never', policy: 'no', want: 'Never' },
    { reason: '"always" ⇒ Always', policy: 'always', want: 'Always' },
    { reason: '"unless-stopped" ⇒ Always (the op stops only when the runner stops it)', policy: 'unless-stopped', want: 'Always' },
    { reason: '"on-failure" ⇒ OnFailure', policy: 'on-failure', want: 'OnFailure' },
    {
      reason: 'on-failure with restart_tries ⇒ OnFailure, the tries left for the runner to count',
      policy: { policy: 'on-failure', restart_tries: 3 },
      want: 'OnFailure',
      tries: '3',
    },
  ];
  for (const { reason, policy, want, tries } of rows) {
    test(reason, () => {
      const pod = build(policy === undefined ? {} : { restart_policy: policy });
      assert.equal(pod.spec?.restartPolicy, want);
      assert.equal(pod.metadata?.annotations?.[RESTART_TRIES_ANNOTATION], tries);
    });
  }

  const check = (restartOnFailure: boolean) => ({
    port: 8000,
    health_checks: [
      {
        type: 'http' as const,
        path: '/health',
        method: 'GET' as const,
        expected_status: 200,
        continuous: true,
        restart_on_failure: restartOnFailure,
        max_restarts: 2,
      },
    ],
  });

  test('a restart_on_failure check becomes a livenessProbe, which needs a restarting policy: Never becomes OnFailure', () => {
    const pod = build({ expose: [check(true)] });
    assert.equal(pod.spec?.restartPolicy, 'OnFailure');
    assert.equal(mainContainer(pod).livenessProbe?.httpGet?.path, '/health');
    assert.equal(pod.metadata?.annotations?.[MAX_RESTARTS_ANNOTATION], '2');
  });

  test('without restart_on_failure there is no livenessProbe and the policy stays Never', () => {
    const pod = build({ expose: [check(false)] });
    assert.equal(pod.spec?.restartPolicy, 'Never');
    assert.equal(mainContainer(pod).livenessProbe, undefined);
    assert.equal(pod.metadata?.annotations?.[MAX_RESTARTS_ANNOTATION], undefined);
  });

  test('restart_on_failure keeps an "always" policy', () => {
    assert.equal(build({ expose: [check(true)], restart_policy: 'always' }).spec?.restartPolicy, 'Always');
  });
});

describe('volumes and resources', () => {
  test('job volumes mount their PVC read-write at dest', () => {
    const pod = build({ volumes: [{ name: 'random-id-volume', dest: '/nosana/outputs' }] });
    const volume = pod.spec?.volumes?.find(
      (entry) => entry.persistentVolumeClaim?.claimName === jobVolumeClaimName(JOB, 'random-id-volume'),
    );
    assert.ok(volume, 'the PVC is a volume of the Pod');
    const mount = mainContainer(pod).volumeMounts?.find((entry) => entry.name === volume.name);
    assert.equal(mount?.mountPath, '/nosana/outputs');
    assert.notEqual(mount?.readOnly, true);
  });

  test('a resource: an init container downloads into the cache, mounted read-only at target', () => {
    const resource = { type: 'S3' as const, url: 'https://models.nosana.io/flux/schnell', target: '/comfyui/models/checkpoints' };
    const pod = build({ resources: [resource] });
    const volume = pod.spec?.volumes?.find((entry) => entry.persistentVolumeClaim?.claimName === resourceCacheClaimName(resource));
    assert.ok(volume, 'the cache PVC is a volume of the Pod');
    const init = pod.spec?.initContainers?.[0];
    assert.equal(init?.image, SETTINGS.operatorImage);
    assert.deepEqual(init?.args?.slice(0, 4), ['download', 'S3', '--dest', RESOURCE_DOWNLOAD_PATH]);
    assert.deepEqual(JSON.parse(init?.args?.[5] ?? 'null'), { type: 'S3', url: 'https://models.nosana.io/flux/schnell' });
    assert.deepEqual(init?.volumeMounts, [{ name: volume.name, mountPath: RESOURCE_DOWNLOAD_PATH }]);
    const mount = mainContainer(pod).volumeMounts?.find((entry) => entry.name === volume.name);
    assert.deepEqual(mount, { name: volume.name, mountPath: '/comfyui/models/checkpoints', readOnly: true });
  });

  test('S3 allowWrite: a private PVC of the job, mounted read-write, never the shared cache', () => {
    const resource = { type: 'S3' as const, url: 'https://models.nosana.io/foldingAtHome', target: '/config/', allowWrite: true };
    const pod = build({ resources: [resource] });
    const claims = (pod.spec?.volumes ?? []).map((entry) => entry.persistentVolumeClaim?.claimName);
    assert.ok(claims.includes(privateResourceClaimName(JOB, 0, 0)));
    assert.ok(!claims.includes(resourceCacheClaimName(resource)));
    const mount = mainContainer(pod).volumeMounts?.find((entry) => entry.mountPath === '/config/');
    assert.equal(mount?.readOnly, false);
  });

  test('credentials reach the init container only through a Secret, and appear nowhere in the Pod', () => {
    const s3 = {
      type: 'S3' as const,
      url: 'https://ai.r2.cloudflarestorage.com/ai-model/entrypoint',
      bucket: 'ai-model',
      target: '/data-models/',
      IAM: { REGION: 'region-secret', ACCESS_KEY_ID: 'key-id-secret', SECRET_ACCESS_KEY: 'access-key-secret' },
    };
    const hf = { type: 'HF' as const, repo: 'org/model', target: '/models', accessToken: 'hf-token-secret' };
    const pod = build({ resources: [s3, hf] });
    const text = JSON.stringify(pod);
    for (const secret of ['region-secret', 'key-id-secret', 'access-key-secret', 'hf-token-secret'])
      assert.ok(!text.includes(secret), secret);
    const [s3Init, hfInit] = pod.spec?.initContainers ?? [];
    assert.deepEqual(
      s3Init?.env?.map((entry) => [entry.name, entry.valueFrom?.secretKeyRef?.name, entry.valueFrom?.secretKeyRef?.key]),
      ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'].map((key) => [key, resourceCredentialSecretName(JOB, 0, 0), key]),
    );
    assert.deepEqual(
      hfInit?.env?.map((entry) => [entry.name, entry.valueFrom?.secretKeyRef?.name]),
      [['HF_TOKEN', resourceCredentialSecretName(JOB, 0, 1)]],
    );
    assert.ok(
      mainContainer(pod).env?.every((entry) => entry.valueFrom === undefined),
      'the job container gets no credential',
    );
  });

  test('Ollama without target mounts at /root/.ollama/models', () => {
    const pod = build({ resources: [{ type: 'Ollama', model: 'gpt-oss:20b' }] });
    assert.ok(mainContainer(pod).volumeMounts?.some((entry) => entry.mountPath === '/root/.ollama/models' && entry.readOnly === true));
  });

  test('markers left in resources are skipped; resource names keep the position in the list', () => {
    const pod = build({
      resources: ['__remove-if-empty__', { __spread__: '%%ops.a.results.r%%' }, { type: 'Ollama', model: 'm', target: '/m' }],
    });
    assert.equal(pod.spec?.initContainers?.length, 1);
    assert.equal(pod.spec?.initContainers?.[0]?.name, 'resource-2');
  });

  test('/dev/shm is a 4 GiB memory-backed emptyDir, as podman gives the node its 4 GiB shm', () => {
    const pod = build({});
    const shm = pod.spec?.volumes?.find((entry) => entry.emptyDir !== undefined);
    assert.deepEqual(shm?.emptyDir, { medium: 'Memory', sizeLimit: '4Gi' });
    assert.ok(mainContainer(pod).volumeMounts?.some((entry) => entry.name === shm?.name && entry.mountPath === '/dev/shm'));
  });
});

describe('pull secret, aliases, placement, settings', () => {
  test('authentication.docker names the op pull Secret; no authentication, no pull Secret', () => {
    assert.deepEqual(build({ authentication: { docker: { username: 'u', password: 'p' } } }).spec?.imagePullSecrets, [
      { name: pullSecretName(JOB, 0) },
    ]);
    assert.equal(build({}).spec?.imagePullSecrets, undefined);
  });

  test('hostAliases are taken as given', () => {
    const pod = build({}, { hostAliases: [{ ip: '10.0.0.7', hostnames: ['db', 'nos-x-1'] }] });
    assert.deepEqual(pod.spec?.hostAliases, [{ ip: '10.0.0.7', hostnames: ['db', 'nos-x-1'] }]);
  });

  test('aliases: a comma-separated string or a list', () => {
    assert.deepEqual(opAliases({ aliases: 'db, cache ,' }), ['db', 'cache']);
    assert.deepEqual(opAliases({ aliases: ['db'] }), ['db']);
    assert.deepEqual(opAliases({}), []);
  });

  test("pinToNode: a required affinity on the node's name", () => {
    const terms = build({}, { pinToNode: 'gpu-node-3' }).spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
      ?.nodeSelectorTerms;
    assert.deepEqual(terms, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['gpu-node-3'] }] }]);
    assert.equal(build({}).spec?.affinity?.nodeAffinity, undefined, 'nothing pins the first Pod');
  });

  test("every Pod requires the job's own Pods on its node: Pods launched together land together", () => {
    const terms = build({}).spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    assert.deepEqual(terms, [{ labelSelector: jobSelector(JOB), topologyKey: 'kubernetes.io/hostname' }]);
  });

  const vramRows: { reason: string; gpu: boolean; requirements: Record<string, number>; want: string | undefined }[] = [
    {
      reason: 'required_vram is GB: 44 GB prefers nodes with more than 45055 MiB',
      gpu: true,
      requirements: { required_vram: 44 },
      want: '45055',
    },
    {
      reason: 'vram_total_mb is MiB as GFD counts it: 12288 prefers more than 12287',
      gpu: true,
      requirements: { vram_total_mb: 12288 },
      want: '12287',
    },
    { reason: 'both: the larger', gpu: true, requirements: { required_vram: 8, vram_total_mb: 12288 }, want: '12287' },
    { reason: 'an op without GPUs ignores GPU memory', gpu: false, requirements: { required_vram: 44 }, want: undefined },
  ];
  for (const { reason, gpu, requirements, want } of vramRows) {
    test(`system_requirements: ${reason}`, () => {
      const pod = build({ gpu }, { definition: { meta: { system_requirements: requirements } } });
      const preferred = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
      assert.equal(pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, undefined, 'never required');
      if (want === undefined) assert.equal(preferred, undefined);
      else assert.deepEqual(preferred?.[0]?.preference.matchExpressions, [{ key: GPU_MEMORY_LABEL, operator: 'Gt', values: [want] }]);
    });
  }

  test('runtimeClassName, nodeSelector and tolerations come from settings, and only when set', () => {
    const tolerations = [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }];
    const pod = build({}, {}, { runtimeClassName: 'gvisor', nodeSelector: { pool: 'gpu' }, tolerations });
    assert.equal(pod.spec?.runtimeClassName, 'gvisor');
    assert.deepEqual(pod.spec?.nodeSelector, { pool: 'gpu' });
    assert.deepEqual(pod.spec?.tolerations, tolerations);
    const plain = build({}).spec ?? {};
    for (const key of ['runtimeClassName', 'nodeSelector', 'tolerations']) assert.equal(Object.hasOwn(plain, key), false, key);
  });

  test('metadata: the op Pod name in the settings namespace, labelled for its Service, owned by the run', () => {
    const owner = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'run', uid: 'u' }];
    const pod = buildOpPod({ ...context({}, 3), ownerReferences: owner }, { args: { image: 'ubuntu' }, definition: {} });
    assert.equal(pod.metadata?.name, opPodName(JOB, 3));
    assert.equal(pod.metadata?.namespace, 'nosana-jobs');
    assert.equal(pod.metadata?.labels?.[JOB_LABEL], JOB);
    assert.equal(pod.metadata?.labels?.[OP_INDEX_LABEL], '3');
    assert.deepEqual(pod.metadata?.ownerReferences, owner);
  });

  test('exposed ports become container ports (never host ports) and health checks become probes', () => {
    const container = mainContainer(
      build({
        expose: [{ port: 80, health_checks: [{ type: 'http', path: '/', method: 'GET', expected_status: 200, continuous: true }] }, 3000],
      }),
    );
    assert.deepEqual(container.ports, [
      { containerPort: 80, protocol: 'TCP' },
      { containerPort: 3000, protocol: 'TCP' },
    ]);
    assert.equal(container.startupProbe?.httpGet?.port, 80);
    assert.equal(container.readinessProbe?.httpGet?.port, 80);
  });

  test('stopped with the node’s 10 s grace', () => {
    assert.equal(build({}).spec?.terminationGracePeriodSeconds, 10);
  });
});

describe('hardening, whatever the definition asks for', () => {
  const rows: { reason: string; args: Partial<ContainerRunArgs>; settings?: Partial<ExecutorSettings> }[] = [
    { reason: 'a bare op', args: {} },
    {
      reason: 'a GPU op with resources, volumes and a private registry',
      args: {
        gpu: true,
        volumes: [{ name: 'v', dest: '/v' }],
        resources: [{ type: 'HF', repo: 'r', target: '/r', accessToken: 't' }],
        authentication: { docker: { username: 'u', password: 'p' } },
      },
    },
    { reason: 'an op asking for root-ish things through env and cmd', args: { env: { SYS_ADMIN: '1' }, cmd: 'mount -t proc proc /proc' } },
    {
      reason: 'DRA and a sandboxed runtime',
      args: { gpu: true },
      settings: { dra: { deviceClassName: 'gpu.nvidia.com', count: 1 }, runtimeClassName: 'kata' },
    },
  ];
  for (const { reason, args, settings } of rows) {
    test(reason, () => {
      assertHardened(build(args, {}, settings), { ...SETTINGS, ...settings }, reason);
    });
  }
});

// ---------------------------------------------------------------------------------------------

function expectedCommand(args: ContainerRunArgs, definition: JobDefinition): string[] | undefined {
  // NODE.md §2.3: Entrypoint = args.entrypoint if set else global.entrypoint; a string is one token.
  const entrypoint = args.entrypoint ?? definition.global?.entrypoint;
  if (entrypoint === undefined) return undefined;
  const list = typeof entrypoint === 'string' ? [entrypoint] : entrypoint;
  return list.length === 0 ? undefined : list;
}

function expectedArgs(args: ContainerRunArgs): string[] | undefined {
  // NODE.md §2.3: a string cmd ⇒ ["/bin/sh", "-c", cmd]; an array ⇒ verbatim; empty ⇒ image CMD.
  if (args.cmd === undefined) return undefined;
  if (typeof args.cmd === 'string') return ['/bin/sh', '-c', args.cmd];
  return args.cmd.length === 0 ? undefined : args.cmd;
}

describe('every real job definition', { skip: sharedMissingReason ?? false }, () => {
  test('each container/run op of job-examples and the seed documents builds a hardened Pod with the node mapping', () => {
    const references = [...jobExamples(), ...seedDefinitions()];
    let built = 0;
    for (const { name, definition: raw } of references) {
      const validation = validateJobDefinition(raw, { strictness: 'lenient' });
      assert.ok(validation.ok && validation.definition !== undefined, `${name} validates`);
      const definition = validation.definition;
      definition.ops.forEach((op, opIndex) => {
        if (op.type !== 'container/run') return;
        const where = `${name} ops[${opIndex}] (${op.id ?? 'no id'})`;
        const pod = buildOpPod({ jobId: JOB, opIndex, opId: op.id, settings: SETTINGS }, { args: op.args, definition });
        built += 1;
        assertHardened(pod, SETTINGS, where);
        const container = mainContainer(pod);
        assert.equal(container.image, op.args.image, `${where}: image`);
        assert.deepEqual(container.command, expectedCommand(op.args, definition), `${where}: command`);
        assert.deepEqual(container.args, expectedArgs(op.args), `${where}: args`);
        const env = envOf(container);
        assert.deepEqual(env.at(-1), ['NOSANA_ID', JOB], `${where}: NOSANA_ID last`);
        const merged = { ...definition.global?.env, ...op.args.env };
        for (const [key, value] of Object.entries(merged)) {
          if (key === 'NOSANA_ID' || key === 'NVIDIA_VISIBLE_DEVICES') continue;
          assert.deepEqual(
            env.filter(([envName]) => envName === key),
            [[key, value]],
            `${where}: env ${key} once, the op's value over global's`,
          );
        }
        const gpu = op.args.gpu === true || definition.global?.gpu === true;
        assert.equal(container.resources?.limits?.['nvidia.com/gpu'], gpu ? '1' : undefined, `${where}: GPU request`);
        const workingDir = op.args.work_dir ?? definition.global?.work_dir;
        assert.equal(container.workingDir, workingDir, `${where}: workingDir`);
      });
    }
    const written = references.flatMap(({ definition }) =>
      (definition as { ops: { type?: unknown }[] }).ops.filter((op) => op.type === 'container/run'),
    );
    assert.equal(built, written.length, 'a Pod for every container/run op');
    assert.ok(built >= 20, `the references hold over 20 container/run ops, found ${built}`);
  });
});
