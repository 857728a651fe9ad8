// Live logs of a job a NosanaNode of this cluster runs: its op Pods are found by the executor's job
// label (the job address, as a label value), cluster-wide when the user may list Pods everywhere,
// else in the job namespaces of the NosanaNodes beside the job; each op's container log is read
// once or followed as it grows.
import { Writable } from 'node:stream';
import type { V1Pod, V1PodList } from '@kubernetes/client-node';
import { Log } from '@kubernetes/client-node';
import type { NosanaNodeObject } from '../api/crds/nosana-node.ts';
import { OP_CONTAINER_NAME } from '../executor/build-pod.ts';
import {
  JOB_ID_ANNOTATION,
  JOB_LABEL,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  OP_ID_ANNOTATION,
  OP_INDEX_LABEL,
  OP_LABEL,
  labelValue,
} from '../executor/labels.ts';
import { KubeApiError } from '../runtime/kube-api.ts';
import type { Cluster } from './cluster.ts';
import { NODES } from './kinds.ts';

export interface JobPod {
  namespace: string;
  name: string;
  uid: string;
  /** The op id the Pod runs (its annotation), else its op label. */
  op: string;
  opIndex: number;
  /** The op container has started (or ended): it has a log to read. */
  started: boolean;
  /** Why the op container has not started yet (ContainerCreating, ErrImagePull), when it has not. */
  waitingReason?: string;
}

/** The label selector of a job's op Pods, of one op when `op` is given. */
export function jobPodSelector(jobAddress: string, op?: string): string {
  const parts = [`${MANAGED_BY_LABEL}=${MANAGED_BY}`, `${JOB_LABEL}=${labelValue(jobAddress)}`];
  if (op !== undefined) parts.push(`${OP_LABEL}=${labelValue(op)}`);
  return parts.join(',');
}

/** The op Pods of job `jobAddress` among `pods`, in op order (a replaced Pod after the one it replaced). */
export function jobPodsOf(pods: readonly V1Pod[], jobAddress: string): JobPod[] {
  return (
    pods
      .filter((pod) => pod.metadata?.deletionTimestamp === undefined && pod.metadata?.labels?.[OP_INDEX_LABEL] !== undefined)
      // a label value may be a hash of the address: the annotation holds the address itself
      .filter((pod) => (pod.metadata?.annotations?.[JOB_ID_ANNOTATION] ?? jobAddress) === jobAddress)
      .map((pod) => {
        const container = pod.status?.containerStatuses?.find((status) => status.name === OP_CONTAINER_NAME);
        const waitingReason = container?.state?.waiting?.reason;
        const labels = pod.metadata?.labels ?? {};
        return {
          namespace: pod.metadata?.namespace ?? '',
          name: pod.metadata?.name ?? '',
          uid: pod.metadata?.uid ?? '',
          op: pod.metadata?.annotations?.[OP_ID_ANNOTATION] ?? labels[OP_LABEL] ?? `op ${labels[OP_INDEX_LABEL] ?? '?'}`,
          opIndex: Number(labels[OP_INDEX_LABEL] ?? 0),
          started: container?.state?.running !== undefined || container?.state?.terminated !== undefined,
          created: pod.metadata?.creationTimestamp === undefined ? '' : String(pod.metadata.creationTimestamp),
          ...(waitingReason === undefined ? {} : { waitingReason }),
        };
      })
      .sort((a, b) => a.opIndex - b.opIndex || (a.created < b.created ? -1 : a.created > b.created ? 1 : 0))
      .map(({ created: _created, ...pod }) => pod)
  );
}

async function listPods(cluster: Cluster, namespace: string | undefined, selector: string): Promise<V1Pod[]> {
  const path = namespace === undefined ? '/api/v1/pods' : `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
  const list = await cluster.api.request<V1PodList>('GET', path, { query: { labelSelector: selector }, signal: cluster.signal });
  return list.items;
}

/** Where the NosanaNodes of `namespace` run their job Pods: the only namespaces worth a look without cluster-wide access. */
async function jobNamespaces(cluster: Cluster, namespace: string): Promise<string[]> {
  const nodes = await cluster.list<NosanaNodeObject>(NODES, namespace).catch(() => []);
  return [...new Set(nodes.map((node) => node.spec.pods?.namespace ?? namespace))];
}

/**
 * The op Pods of a job on this cluster, of one op when `op` is given: found cluster-wide, or when
 * that is forbidden, in the job namespaces of the NosanaNodes in `jobNamespace`.
 */
export async function findJobPods(cluster: Cluster, jobAddress: string, jobNamespace: string, op?: string): Promise<JobPod[]> {
  const selector = jobPodSelector(jobAddress, op);
  try {
    return jobPodsOf(await listPods(cluster, undefined, selector), jobAddress);
  } catch (error) {
    if (!(error instanceof KubeApiError && error.statusCode === 403)) throw cluster.failure('list Pods', error);
  }
  const pods: V1Pod[] = [];
  for (const namespace of await jobNamespaces(cluster, jobNamespace)) {
    pods.push(...(await listPods(cluster, namespace, selector).catch(() => [])));
  }
  return jobPodsOf(pods, jobAddress);
}

function logPath(pod: JobPod): string {
  return `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}/log`;
}

/** The op container's log so far. */
export function readPodLog(cluster: Cluster, pod: JobPod): Promise<string> {
  return cluster.text(`read the log of Pod ${pod.namespace}/${pod.name}`, logPath(pod), { container: OP_CONTAINER_NAME });
}

/** Hands on whole lines, each with `prefix`; a last line without a newline is handed on at the end. */
class LineWriter extends Writable {
  readonly #write: (text: string) => void;
  readonly #prefix: string;
  #partial = '';

  constructor(write: (text: string) => void, prefix: string) {
    super({ decodeStrings: false });
    this.#write = write;
    this.#prefix = prefix;
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const lines = (this.#partial + chunk.toString()).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.#write(`${this.#prefix}${line}\n`);
    done();
  }

  override _final(done: (error?: Error | null) => void): void {
    if (this.#partial !== '') this.#write(`${this.#prefix}${this.#partial}\n`);
    done();
  }
}

/** How following a log ended: read to its end, never opened (the Pod is not ready to serve it), or cut off by the signal. */
export type FollowEnd = 'ended' | 'unopened' | 'cut';

/**
 * Follows the op container's log until it ends (the container exited and its log was read to the
 * end) or `signal` aborts.
 */
export async function followPodLog(
  cluster: Cluster,
  pod: JobPod,
  write: (text: string) => void,
  prefix: string,
  signal: AbortSignal,
): Promise<FollowEnd> {
  if (signal.aborted) return 'cut';
  const sink = new LineWriter(write, prefix);
  // client-node pipes the response into the sink and leaves the response's own errors unhandled:
  // cutting the stream off (below) would otherwise end the process with an AbortError
  sink.on('pipe', (source: NodeJS.ReadableStream) => source.on('error', () => undefined));
  const ended = new Promise<FollowEnd>((resolve) => {
    sink.on('finish', () => resolve('ended'));
    signal.addEventListener('abort', () => resolve('cut'), { once: true });
  });
  let stream: AbortController;
  try {
    stream = await new Log(cluster.kubeConfig).log(pod.namespace, pod.name, OP_CONTAINER_NAME, sink, { follow: true });
  } catch {
    return 'unopened';
  }
  const stop = (): void => stream.abort();
  signal.addEventListener('abort', stop, { once: true });
  try {
    return await ended;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}
