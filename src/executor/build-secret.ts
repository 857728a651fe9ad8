// Secrets: a job's credentials never appear in clear in a Pod spec (readable by anyone who may
// list Pods, and copied into events and status dumps). A registry login becomes a
// kubernetes.io/dockerconfigjson Secret named in the op's imagePullSecrets; a resource's S3 keys
// or Hugging Face token become an Opaque Secret the download init container reads through
// secretKeyRef. Both are per op and owned by the run, so they go when the run goes (the reference
// node deletes an authenticated image after the op for the same reason, NODE.md §2.3).
import type { V1Secret } from '@kubernetes/client-node';
import type { ContainerRunArgs, Resource } from '../api/job-definition/index.ts';
import { opObjectMeta } from './labels.ts';
import type { OpContext } from './labels.ts';
import { pullSecretName, resourceCredentialSecretName } from './names.ts';

type DockerAuthentication = NonNullable<NonNullable<ContainerRunArgs['authentication']>['docker']>;

/** The key the Docker CLI, and so the kubelet, uses for Docker Hub. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/**
 * The registry an image is pulled from, by Docker's rule: the first path component is a registry
 * when it has a '.' or a ':' or is "localhost"; otherwise the image is on Docker Hub.
 */
export function registryOf(image: string): string {
  const slash = image.indexOf('/');
  const first = slash === -1 ? '' : image.slice(0, slash);
  const isRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  if (!isRegistry || DOCKER_HUB_HOSTS.has(first)) return DOCKER_HUB_KEY;
  return first;
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/**
 * The op's pull Secret. `server` as given when the definition names one, else the image's
 * registry: the kubelet only offers credentials to the registry they are filed under.
 */
export function buildPullSecret(context: OpContext, image: string, docker: DockerAuthentication): V1Secret {
  const username = docker.username ?? '';
  const password = docker.password ?? '';
  const entry = {
    username,
    password,
    auth: base64(`${username}:${password}`),
    ...(docker.email === undefined ? {} : { email: docker.email }),
  };
  const config = { auths: { [docker.server ?? registryOf(image)]: entry } };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: opObjectMeta(context, pullSecretName(context.jobId, context.opIndex)),
    type: 'kubernetes.io/dockerconfigjson',
    immutable: true,
    data: { '.dockerconfigjson': base64(JSON.stringify(config)) },
  };
}

/**
 * The credential of a resource as environment variables of the download init container (also the
 * Secret's keys): the names S3 and Hugging Face clients read on their own. Empty for a public one.
 */
export function resourceCredentialEnv(resource: Resource): Record<string, string> {
  if (resource.type === 'S3' && resource.IAM !== undefined) {
    return {
      AWS_REGION: resource.IAM.REGION,
      AWS_ACCESS_KEY_ID: resource.IAM.ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: resource.IAM.SECRET_ACCESS_KEY,
    };
  }
  if (resource.type === 'HF' && resource.accessToken !== undefined) return { HF_TOKEN: resource.accessToken };
  return {};
}

/** The Secret holding one resource's credential, or undefined when the resource has none. */
export function buildResourceCredentialSecret(context: OpContext, resourceIndex: number, resource: Resource): V1Secret | undefined {
  const env = resourceCredentialEnv(resource);
  if (Object.keys(env).length === 0) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: opObjectMeta(context, resourceCredentialSecretName(context.jobId, context.opIndex, resourceIndex)),
    type: 'Opaque',
    immutable: true,
    data: Object.fromEntries(Object.entries(env).map(([key, value]) => [key, base64(value)])),
  };
}
