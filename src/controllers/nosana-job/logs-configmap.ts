// The full logs of a finished job, kept in a ConfigMap `<name>-logs` owned by the NosanaJob (so
// Kubernetes deletes it with the job). A ConfigMap must stay well under etcd's object limit, so
// the logs are capped: every op keeps the end of its log (where the failure usually is) within a
// fair share of the cap, and a cut log starts with a line saying how much was dropped.
import { createHash } from 'node:crypto';
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { NosanaJobObject } from '../../api/crds/nosana-job.ts';

export const LOGS_TRUNCATED_ANNOTATION = 'nosana.io/logs-truncated';
/**
 * The API server refuses a ConfigMap whose values add up to more than 1 MiB, and a refused write
 * would keep the job from ever finishing: a larger configured cap is held to this.
 */
export const CONFIGMAP_DATA_MAX_BYTES = 1024 * 1024;
const MAX_NAME_LENGTH = 253;
const CONFIGMAP_KEY_INVALID = /[^-._a-zA-Z0-9]/g;

export interface OpLog {
  id: string;
  logs: string;
}

/**
 * The last `maxBytes` bytes of UTF-8 `text`, starting at a line boundary when the cut falls inside
 * a line (unless the last line alone is longer), and never inside a character.
 */
export function tailWithin(text: string, maxBytes: number): { text: string; droppedBytes: number } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return { text, droppedBytes: 0 };
  let start = bytes.length - Math.max(0, maxBytes);
  while (start < bytes.length && ((bytes[start] ?? 0) & 0xc0) === 0x80) start += 1;
  if (start > 0 && bytes[start - 1] !== 0x0a) {
    const newline = bytes.indexOf(0x0a, start);
    if (newline >= 0 && newline + 1 < bytes.length) start = newline + 1;
  }
  return { text: bytes.subarray(start).toString('utf8'), droppedBytes: start };
}

function truncationMarker(droppedBytes: number): string {
  return `[nosana-operator: the first ${droppedBytes} bytes of this log were dropped to fit the ConfigMap]\n`;
}

/** ConfigMap names are DNS subdomains of at most 253 characters; long job names get a hash. */
export function logsConfigMapName(jobName: string): string {
  const name = `${jobName}-logs`;
  if (name.length <= MAX_NAME_LENGTH) return name;
  const hash = createHash('sha256').update(jobName).digest('hex').slice(0, 10);
  return `${jobName.slice(0, MAX_NAME_LENGTH - '-logs'.length - hash.length - 1)}-${hash}-logs`;
}

/**
 * The data key of each op's log, in op order: `<op id>.log` with characters a ConfigMap key cannot
 * hold made `_`, and `-<index>` added where that would be empty or taken. Readers of the ConfigMap
 * (the kubectl plugin) map keys back to ops with it.
 */
export function opLogKeys(opIds: readonly string[]): string[] {
  const used = new Set<string>();
  return opIds.map((id, index) => {
    let base = id.replace(CONFIGMAP_KEY_INVALID, '_').slice(0, 200);
    if (base === '' || base === '.' || base === '..' || used.has(`${base}.log`)) base = `${base}-${index}`;
    const key = `${base}.log`;
    used.add(key);
    return key;
  });
}

/**
 * Shares `maxBytes` between the logs: short logs are kept whole and what they leave is split
 * among the longer ones (water-filling), so one noisy op cannot crowd out the others.
 */
function fitLogs(logs: readonly string[], maxBytes: number): { texts: string[]; truncated: boolean[] } {
  const sizes = logs.map((text) => Buffer.byteLength(text, 'utf8'));
  const order = sizes.map((_, index) => index).sort((a, b) => (sizes[a] ?? 0) - (sizes[b] ?? 0));
  const texts = [...logs];
  const truncated = logs.map(() => false);
  let remaining = maxBytes;
  order.forEach((index, position) => {
    const share = Math.floor(remaining / (order.length - position));
    const size = sizes[index] ?? 0;
    if (size <= share) {
      remaining -= size;
      return;
    }
    // The marker's own length depends on the count it prints; a count with the digits of the whole size is never short.
    const room = Math.max(0, share - Buffer.byteLength(truncationMarker(size), 'utf8'));
    const tail = tailWithin(logs[index] ?? '', room);
    const text = `${truncationMarker(tail.droppedBytes)}${tail.text}`;
    texts[index] = Buffer.byteLength(text, 'utf8') <= share ? text : '';
    truncated[index] = true;
    remaining -= Buffer.byteLength(texts[index] ?? '', 'utf8');
  });
  return { texts, truncated };
}

/** The ConfigMap holding every op's log, owned (controller=true) by the NosanaJob. */
export function buildLogsConfigMap(owner: NosanaJobObject, ops: readonly OpLog[], maxBytes: number): V1ConfigMap {
  const name = owner.metadata?.name ?? '';
  const keys = opLogKeys(ops.map((op) => op.id));
  const { texts, truncated } = fitLogs(
    ops.map((op) => op.logs),
    Math.min(maxBytes, CONFIGMAP_DATA_MAX_BYTES),
  );
  const truncatedKeys = keys.filter((_, index) => truncated[index]);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: logsConfigMapName(name),
      ...(owner.metadata?.namespace === undefined ? {} : { namespace: owner.metadata.namespace }),
      labels: { 'app.kubernetes.io/managed-by': 'nosana-operator' },
      ...(truncatedKeys.length === 0 ? {} : { annotations: { [LOGS_TRUNCATED_ANNOTATION]: truncatedKeys.join(',') } }),
      ownerReferences: [
        {
          apiVersion: owner.apiVersion ?? '',
          kind: owner.kind ?? '',
          name,
          uid: owner.metadata?.uid ?? '',
          controller: true,
        },
      ],
    },
    data: Object.fromEntries(keys.map((key, index) => [key, texts[index] ?? ''])),
  };
}
