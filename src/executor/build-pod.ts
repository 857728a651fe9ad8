// The Pod of one `container/run` op: the reference node's container (NODE.md §2.3) expressed as a
// Pod, and hardened so that nothing in a definition — a stranger's input — can weaken it.
//
// Mapping (args already have their literals resolved):
//   entrypoint → command   a string is one element (no word splitting); falls back to global.entrypoint
//   cmd        → args      a string runs as ["/bin/sh", "-c", cmd], even when empty (it still
//                          overrides the image's CMD); an array is taken verbatim
//   env        = global.env, then op.env over it, then NOSANA_ID=<job id>, last and not overridable
//   work_dir   → workingDir (op, else global); image from the op (global.image only if it has none)
//   gpu        = op.gpu || global.gpu (the node's rule: an op's `false` does not switch global off)
//                device plugin: limits and requests of settings.gpuResourceName = gpusPerJob
//                DRA: the job's one ResourceClaim (build-resource-claim.ts), shared by its Pods
//   restart_policy → restartPolicy: no ⇒ Never, always / unless-stopped ⇒ Always, on-failure ⇒
//                OnFailure. A Pod cannot count `restart_tries`: it goes into an annotation for the
//                runner. A livenessProbe (a check with `restart_on_failure`) needs a policy that
//                restarts, so Never becomes OnFailure then; the runner counts `max_restarts` from
//                an annotation too. (Under OnFailure a crashing app is restarted as well, which
//                `no` would not do: the runner sees every restart in restartCount.)
//   volumes    → the job volumes' PVCs, read-write
//   resources  → an init container per resource running the operator's `download` subcommand
//                into the resource's cache PVC, mounted read-only at `target`; S3 `allowWrite`
//                gets a private PVC instead (build-volume.ts says why), mounted read-write. The
//                credential is read from a Secret (build-secret.ts), never written into the spec.
//   authentication.docker → imagePullSecrets naming the op's pull Secret
//   expose     → container ports and probes (build-service.ts)
//
// Podman gives the reference containers a 4 GiB /dev/shm (§2.3); Kubernetes' default of 64 MiB
// breaks the PyTorch and vLLM images Nosana runs, so /dev/shm is a 4 GiB memory-backed emptyDir
// (it counts against the memory limit). The node stops containers with Docker's 10 s grace.
//
// Hardening, whatever the definition says (Pod Security "baseline" passes; "restricted" cannot,
// since images may run as root, as on Nosana): no privileged containers, no host namespaces,
// host paths or host ports, no privilege escalation, NET_RAW dropped and no capability added,
// RuntimeDefault seccomp, no service-account token, no service links, the caller's CPU, memory
// and ephemeral-storage limits. Device selection is the executor's too: NVIDIA_VISIBLE_DEVICES
// from the definition is dropped, and an op without GPUs gets "void", so an image that asks for
// "all" GPUs (CUDA images do) cannot take a node's GPUs without requesting them.
//
// One node per job: ops share volumes and a Nosana job owns its node, so every Pod after the first
// is pinned (pinToNode, a required affinity on the node's name, not on its hostname label, which
// need not equal the name), and Pods launched at the same moment hold together by a required Pod
// affinity to the job's Pods (affinity() says how). `meta.system_requirements` is a hint the dashboard uses to choose a
// market, which the node never reads (§1.2): here it is a *preferred* affinity for nodes whose GPU
// memory (GPU feature discovery's `nvidia.com/gpu.memory`, MiB) is at least the requirement; a
// required one could leave a job this node already accepted unschedulable.
import type {
  V1Affinity,
  V1Container,
  V1EnvVar,
  V1HostAlias,
  V1Pod,
  V1ResourceRequirements,
  V1SecurityContext,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import type { ContainerRunArgs, JobDefinition, Resource } from '../api/job-definition/index.ts';
import { GPU_REQUEST_NAME } from './build-resource-claim.ts';
import { resourceCredentialEnv } from './build-secret.ts';
import { healthCheckProbes, exposedPorts } from './build-service.ts';
import { jobSelector, opObjectMeta } from './labels.ts';
import type { OpContext } from './labels.ts';
import {
  jobVolumeClaimName,
  opPodName,
  pullSecretName,
  resourceClaimName,
  resourceCredentialSecretName,
  resourceIdentity,
} from './names.ts';
import { SHM_MOUNT_PATH, resourceMounts } from './resource-mounts.ts';
import type { ResourceMount } from './resource-mounts.ts';
import type { ExecutorSettings } from './settings.ts';

/** The op's container (logs and exit codes are read from it). */
export const OP_CONTAINER_NAME = 'op';
/** Where a download init container sees the volume it fills. */
export const RESOURCE_DOWNLOAD_PATH = '/nosana/resource';
/** `restart_policy.restart_tries`, for the runner to count (a Pod has no such limit). */
export const RESTART_TRIES_ANNOTATION = 'nosana.io/restart-tries';
/** `max_restarts` of the health check the livenessProbe performs, for the runner to count. */
export const MAX_RESTARTS_ANNOTATION = 'nosana.io/max-restarts';
/** GPU feature discovery's label: memory of each GPU of a node, in MiB. */
export const GPU_MEMORY_LABEL = 'nvidia.com/gpu.memory';
/** One value per node on every cluster (the kubelet sets it), so "same hostname" is "same node". */
const HOSTNAME_LABEL = 'kubernetes.io/hostname';
export const SHM_SIZE = '4Gi';
export const TERMINATION_GRACE_PERIOD_SECONDS = 10;
/** The env var the node always sets to the job id. */
export const NOSANA_ID_ENV = 'NOSANA_ID';
/** The NVIDIA container runtime's device selection; the executor's to set, never the definition's. */
export const NVIDIA_VISIBLE_DEVICES_ENV = 'NVIDIA_VISIBLE_DEVICES';

const RESERVED_ENV = new Set([NOSANA_ID_ENV, NVIDIA_VISIBLE_DEVICES_ENV]);
const SHM_VOLUME = 'shm';
const MIB_PER_GB = 1024;

export interface PodInput {
  /** The op's args, literals resolved. */
  args: ContainerRunArgs;
  /** Where `global` (fallbacks for env, entrypoint, work_dir, gpu, image) and `meta` come from. */
  definition: Pick<JobDefinition, 'global' | 'meta'>;
  /** The node the job's first Pod runs on: every later Pod must run there too. */
  pinToNode?: string;
  /** Other ops' names (`aliases`, op hosts) → their Service or Pod IPs, known once those exist. */
  hostAliases?: { ip: string; hostnames: string[] }[];
}

// ---------------------------------------------------------------------------------------------
// Command, env, restarts

/** `entrypoint` → container command; a string is a single element. */
export function toCommand(entrypoint: ContainerRunArgs['entrypoint']): string[] | undefined {
  if (entrypoint === undefined) return undefined;
  return typeof entrypoint === 'string' ? [entrypoint] : [...entrypoint];
}

/** `cmd` → container args; a string runs under /bin/sh -c, even an empty one. */
export function toArgs(cmd: ContainerRunArgs['cmd']): string[] | undefined {
  if (cmd === undefined) return undefined;
  return typeof cmd === 'string' ? ['/bin/sh', '-c', cmd] : [...cmd];
}

/** Whether the op gets GPUs: `op.gpu || global.gpu`. */
export function opUsesGpu(args: Pick<ContainerRunArgs, 'gpu'>, definition: Pick<JobDefinition, 'global'>): boolean {
  return args.gpu === true || definition.global?.gpu === true;
}

/** global.env, op.env over it, the executor's own variables last. */
export function containerEnv(
  jobId: string,
  args: Pick<ContainerRunArgs, 'env'>,
  definition: Pick<JobDefinition, 'global'>,
  gpu: boolean,
): V1EnvVar[] {
  const merged = { ...definition.global?.env, ...args.env };
  return [
    ...Object.entries(merged)
      .filter(([name]) => !RESERVED_ENV.has(name))
      .map(([name, value]) => ({ name, value })),
    ...(gpu ? [] : [{ name: NVIDIA_VISIBLE_DEVICES_ENV, value: 'void' }]),
    { name: NOSANA_ID_ENV, value: jobId },
  ];
}

export type PodRestartPolicy = 'Never' | 'Always' | 'OnFailure';

export function podRestartPolicy(policy: ContainerRunArgs['restart_policy']): PodRestartPolicy {
  if (policy === undefined || policy === 'no') return 'Never';
  if (policy === 'always' || policy === 'unless-stopped') return 'Always';
  return 'OnFailure';
}

/** `aliases` as a list: a string is comma-separated (for the caller building other Pods' hostAliases). */
export function opAliases(args: Pick<ContainerRunArgs, 'aliases'>): string[] {
  const aliases = args.aliases;
  if (aliases === undefined) return [];
  const list = typeof aliases === 'string' ? aliases.split(',') : aliases;
  return list.map((alias) => alias.trim()).filter((alias) => alias !== '');
}

// ---------------------------------------------------------------------------------------------
// Hardening and limits

/** Every container of a job Pod gets exactly this. */
export function hardenedSecurityContext(): V1SecurityContext {
  return {
    privileged: false,
    allowPrivilegeEscalation: false,
    // The reference node (podman) adds NET_ADMIN; we add nothing: NET_ADMIN would let a job
    // rewrite its Pod's routes and firewall rules, which the NetworkPolicy relies on.
    capabilities: { drop: ['NET_RAW'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

function baseLimits(settings: ExecutorSettings): Record<string, string> {
  return { cpu: settings.limits.cpu, memory: settings.limits.memory, 'ephemeral-storage': settings.limits.ephemeralStorage };
}

/** Requests equal limits: the scheduler places a job only where all it may use is free. */
function containerResources(settings: ExecutorSettings, gpu: boolean): V1ResourceRequirements {
  const limits = baseLimits(settings);
  if (gpu && settings.dra === undefined) limits[settings.gpuResourceName] = String(settings.gpusPerJob);
  return {
    limits,
    requests: { ...limits },
    ...(gpu && settings.dra !== undefined ? { claims: [{ name: GPU_REQUEST_NAME }] } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Resources

/**
 * What `download` fetches: exactly the fields the cache is keyed by (names.ts, resourceIdentity),
 * so a cache never holds more or other than its name says; no mount path, write flag or credential.
 */
export function downloadSpec(resource: Resource): Record<string, unknown> {
  return Object.fromEntries(Object.entries(resourceIdentity(resource)).filter(([, value]) => value !== null));
}

/** The argv of a download init container (the operator image's entrypoint is its CLI). */
export function downloadArgs(resource: Resource): string[] {
  return ['download', resource.type, '--dest', RESOURCE_DOWNLOAD_PATH, '--resource', JSON.stringify(downloadSpec(resource))];
}

interface ResourceParts {
  volume: V1Volume;
  initContainers: V1Container[];
  mount: V1VolumeMount;
}

function downloadContainer(context: OpContext, volumeName: string, resource: Resource, resourceIndex: number): V1Container {
  const secretName = resourceCredentialSecretName(context.jobId, context.opIndex, resourceIndex);
  const env = Object.keys(resourceCredentialEnv(resource)).map((key) => ({
    name: key,
    valueFrom: { secretKeyRef: { name: secretName, key } },
  }));
  return {
    name: `resource-${resourceIndex}`,
    image: context.settings.operatorImage,
    imagePullPolicy: 'IfNotPresent',
    args: downloadArgs(resource),
    ...(env.length === 0 ? {} : { env }),
    volumeMounts: [{ name: volumeName, mountPath: RESOURCE_DOWNLOAD_PATH }],
    resources: { limits: baseLimits(context.settings), requests: baseLimits(context.settings) },
    securityContext: hardenedSecurityContext(),
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

function resourceParts(context: OpContext, mount: ResourceMount): ResourceParts {
  const volumeName = `resource-${mount.resources[0]?.index ?? 0}`;
  return {
    volume: { name: volumeName, persistentVolumeClaim: { claimName: mount.claimName } },
    initContainers: mount.resources.map(({ resource, index }) => downloadContainer(context, volumeName, resource, index)),
    mount: { name: volumeName, mountPath: mount.target, readOnly: !mount.privateCopy },
  };
}

// ---------------------------------------------------------------------------------------------
// Placement

/** The GPU memory a definition asks for, in MiB (`required_vram` is GB, `vram_total_mb` MB), or undefined. */
export function requiredGpuMemoryMiB(definition: Pick<JobDefinition, 'meta'>): number | undefined {
  const requirements = definition.meta?.system_requirements;
  const wanted = [
    requirements?.required_vram === undefined ? undefined : requirements.required_vram * MIB_PER_GB,
    requirements?.vram_total_mb,
  ].filter((value): value is number => value !== undefined && Number.isFinite(value) && value > 0);
  return wanted.length === 0 ? undefined : Math.ceil(Math.max(...wanted));
}

/**
 * Pods of one job go to one node. Pinning to the first Pod's node covers Pods launched after it
 * was scheduled; Pods launched together (a group without depends_on) are held together by a
 * required affinity to the job's own Pods on one hostname: the scheduler lets the first of them go
 * anywhere (a Pod matching its own affinity term may start the set) and puts the rest beside it.
 */
function affinity(jobId: string, pinToNode: string | undefined, gpuMemoryMiB: number | undefined): V1Affinity {
  return {
    podAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: jobSelector(jobId), topologyKey: HOSTNAME_LABEL }],
    },
    ...(pinToNode === undefined && gpuMemoryMiB === undefined
      ? {}
      : {
          nodeAffinity: {
            ...(pinToNode === undefined
              ? {}
              : {
                  requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [pinToNode] }] }],
                  },
                }),
            ...(gpuMemoryMiB === undefined
              ? {}
              : {
                  preferredDuringSchedulingIgnoredDuringExecution: [
                    // Gt is strict: at least N MiB is more than N - 1.
                    {
                      weight: 100,
                      preference: { matchExpressions: [{ key: GPU_MEMORY_LABEL, operator: 'Gt', values: [String(gpuMemoryMiB - 1)] }] },
                    },
                  ],
                }),
          },
        }),
  };
}

// ---------------------------------------------------------------------------------------------
// The Pod

export function buildOpPod(context: OpContext, input: PodInput): V1Pod {
  const { args, definition } = input;
  const { settings } = context;
  const image = args.image !== '' ? args.image : definition.global?.image;
  if (image === undefined || image === '') throw new Error(`op ${context.opIndex} has no image (args.image or global.image)`);
  const gpu = opUsesGpu(args, definition);
  const command = toCommand(args.entrypoint ?? definition.global?.entrypoint);
  const commandArgs = toArgs(args.cmd);
  const workingDir = args.work_dir ?? definition.global?.work_dir;
  const probes = healthCheckProbes(args);
  const ports = exposedPorts(args.expose);

  const mounts = resourceMounts(context.jobId, context.opIndex, args);
  if ('error' in mounts) throw new Error(`op ${context.opIndex}: ${mounts.error}`);
  const resources = mounts.map((mount) => resourceParts(context, mount));
  const jobVolumes = (args.volumes ?? []).map((volume, index) => ({
    volume: { name: `volume-${index}`, persistentVolumeClaim: { claimName: jobVolumeClaimName(context.jobId, volume.name) } },
    mount: { name: `volume-${index}`, mountPath: volume.dest },
  }));

  let restartPolicy = podRestartPolicy(args.restart_policy);
  if (probes.livenessProbe !== undefined && restartPolicy === 'Never') restartPolicy = 'OnFailure';
  const restartTries = typeof args.restart_policy === 'object' ? args.restart_policy.restart_tries : undefined;
  const annotations = {
    ...(restartTries === undefined ? {} : { [RESTART_TRIES_ANNOTATION]: String(restartTries) }),
    ...(probes.maxRestarts === undefined ? {} : { [MAX_RESTARTS_ANNOTATION]: String(probes.maxRestarts) }),
  };

  const container: V1Container = {
    name: OP_CONTAINER_NAME,
    image,
    // As on the node: pulled only when absent. A private image pulled for one job stays on the
    // node, where another job naming it could run it without credentials, unless the kubelet
    // verifies credentials for cached images (KEP-2535, imagePullCredentialsVerificationPolicy).
    imagePullPolicy: 'IfNotPresent',
    // An empty list means "the image's own", as an unset one does: left out.
    ...(command === undefined || command.length === 0 ? {} : { command }),
    ...(commandArgs === undefined || commandArgs.length === 0 ? {} : { args: commandArgs }),
    ...(workingDir === undefined ? {} : { workingDir }),
    env: containerEnv(context.jobId, args, definition, gpu),
    ...(ports.length === 0 ? {} : { ports: ports.map(({ port }) => ({ containerPort: port, protocol: 'TCP' })) }),
    resources: containerResources(settings, gpu),
    volumeMounts: [
      { name: SHM_VOLUME, mountPath: SHM_MOUNT_PATH },
      ...jobVolumes.map(({ mount }) => mount),
      ...resources.map(({ mount }) => mount),
    ],
    securityContext: hardenedSecurityContext(),
    ...(probes.startupProbe === undefined ? {} : { startupProbe: probes.startupProbe }),
    ...(probes.readinessProbe === undefined ? {} : { readinessProbe: probes.readinessProbe }),
    ...(probes.livenessProbe === undefined ? {} : { livenessProbe: probes.livenessProbe }),
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };

  const hostAliases: V1HostAlias[] = (input.hostAliases ?? []).map(({ ip, hostnames }) => ({ ip, hostnames: [...hostnames] }));
  const podAffinity = affinity(context.jobId, input.pinToNode, gpu ? requiredGpuMemoryMiB(definition) : undefined);
  const dra = gpu && settings.dra !== undefined;

  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: opObjectMeta(context, opPodName(context.jobId, context.opIndex), annotations),
    spec: {
      restartPolicy,
      enableServiceLinks: false,
      automountServiceAccountToken: false,
      hostNetwork: false,
      hostPID: false,
      hostIPC: false,
      terminationGracePeriodSeconds: TERMINATION_GRACE_PERIOD_SECONDS,
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      ...(resources.length === 0 ? {} : { initContainers: resources.flatMap(({ initContainers }) => initContainers) }),
      containers: [container],
      volumes: [
        { name: SHM_VOLUME, emptyDir: { medium: 'Memory', sizeLimit: SHM_SIZE } },
        ...jobVolumes.map(({ volume }) => volume),
        ...resources.map(({ volume }) => volume),
      ],
      ...(args.authentication?.docker === undefined
        ? {}
        : { imagePullSecrets: [{ name: pullSecretName(context.jobId, context.opIndex) }] }),
      ...(hostAliases.length === 0 ? {} : { hostAliases }),
      ...(settings.nodeSelector === undefined ? {} : { nodeSelector: { ...settings.nodeSelector } }),
      affinity: podAffinity,
      ...(settings.tolerations === undefined ? {} : { tolerations: settings.tolerations.map((toleration) => ({ ...toleration })) }),
      ...(settings.runtimeClassName === undefined ? {} : { runtimeClassName: settings.runtimeClassName }),
      ...(dra ? { resourceClaims: [{ name: GPU_REQUEST_NAME, resourceClaimName: resourceClaimName(context.jobId) }] } : {}),
    },
  };
}
