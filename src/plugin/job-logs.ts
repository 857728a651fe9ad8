// A job's logs as the cluster keeps them once it ended: the ConfigMap `<name>-logs` holding every
// op's full log (capped), else the log tails in status.ops. Maps the ConfigMap's data keys back to
// op ids, and prints logs as `kubectl logs --prefix` does when several ops are shown.
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { NosanaJobObject } from '../api/crds/nosana-job.ts';
import { opLogKeys, type OpLog } from '../controllers/nosana-job/logs-configmap.ts';
import type { Cluster } from './cluster.ts';
import { EXIT_UNAVAILABLE, PluginError } from './errors.ts';

export type { OpLog };

/** Where the logs came from, for the note that says so. */
export type LogSource = { configMap: string } | { statusTails: true };

export interface StoredLogs {
  logs: OpLog[];
  source: LogSource;
}

/** Each op's log from the ConfigMap's data, in the status' op order; keys of no known op follow, named by key. */
export function logsFromConfigMap(data: Readonly<Record<string, string>>, opIds: readonly string[]): OpLog[] {
  const keys = opLogKeys(opIds);
  const known = opIds.flatMap((id, index) => {
    const key = keys[index] ?? '';
    return Object.hasOwn(data, key) ? [{ id, logs: data[key] ?? '' }] : [];
  });
  const others = Object.keys(data)
    .filter((key) => !keys.includes(key))
    .sort()
    .map((key) => ({ id: key.replace(/\.log$/, ''), logs: data[key] ?? '' }));
  return [...known, ...others];
}

/** The log tails the status keeps of each op. */
export function logsFromStatus(job: NosanaJobObject): OpLog[] {
  return (job.status?.ops ?? []).flatMap((op) => (op.logTail === undefined ? [] : [{ id: op.id, logs: op.logTail }]));
}

/** Only the op asked for (exit 3 naming the ops there are when it has none). */
export function selectOp(logs: readonly OpLog[], op: string | undefined, jobName: string): OpLog[] {
  if (op === undefined) return [...logs];
  const selected = logs.filter((log) => log.id === op);
  if (selected.length === 0) {
    const known = logs.map((log) => log.id);
    throw new PluginError(
      `job "${jobName}" has no logs of op "${op}"${known.length === 0 ? '' : `: its ops with logs are ${known.join(', ')}`}`,
      EXIT_UNAVAILABLE,
    );
  }
  return selected;
}

/** A log's lines, each prefixed with `[op] ` when `prefix` is set; ends in a newline when not empty. */
export function formatLog(log: OpLog, prefix: boolean): string {
  if (log.logs === '') return '';
  const lines = log.logs.replace(/\n$/, '').split('\n');
  return `${lines.map((line) => (prefix ? `[${log.id}] ${line}` : line)).join('\n')}\n`;
}

/** The logs of an ended job: the ConfigMap when it is there, else the status tails. */
export async function storedLogs(cluster: Cluster, job: NosanaJobObject): Promise<StoredLogs> {
  const name = job.status?.logsConfigMap;
  const namespace = job.metadata?.namespace ?? cluster.namespace;
  if (name !== undefined) {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(name)}`;
    const configMap = await cluster
      .request<V1ConfigMap>(`read the logs ConfigMap ${namespace}/${name}`, 'GET', path)
      .catch(() => undefined);
    if (configMap?.data !== undefined) {
      const opIds = (job.status?.ops ?? []).map((op) => op.id);
      return { logs: logsFromConfigMap(configMap.data, opIds), source: { configMap: name } };
    }
  }
  return { logs: logsFromStatus(job), source: { statusTails: true } };
}
