// Kubernetes Events (events.k8s.io/v1) for what happens to an object, as `kubectl describe`
// and `kubectl events` show them.
//
// - De-duplicated: a repeat of the same (object, type, reason, note) within the window does not
//   create another Event; it raises the first one's series.count and lastObservedTime. A
//   reconcile that hits the same problem every few seconds yields one Event, not hundreds.
// - Fire and forget: an Event is a courtesy to people; failing to write one must never fail or
//   slow the reconcile that reported it. Failures are logged at debug level.
// - Bounded: the repeats remembered (and the per-object budgets) are LRU maps of fixed size, and
//   each object has a token bucket of writes, so a flood from one object cannot swamp the API
//   server. Repeats that arrive while a write is in flight, or while the budget is spent, are
//   counted and carried by the next write of that series.
// - Redacted: notes often quote an error, and errors quote URLs; credentials in them (http/redact.ts)
//   are replaced before the note is stored where anyone who can read Events sees it.
import { randomBytes } from 'node:crypto';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { PatchStrategy } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { redactSecrets } from '../http/redact.ts';
import { KubeApi, describeError, formatMicroTime, hasStatus, preciseNow } from './kube-api.ts';
import type { EventRecorder, EventType } from './types.ts';

export const REPORTING_CONTROLLER = 'nosana.io/operator';
const NOTE_MAX_BYTES = 1024;
const FIELD_MAX_LENGTH = 128;

export interface EventRecorderOptions {
  /** Which replica reports (the leader election identity or the pod name). */
  reportingInstance: string;
  /** Repeats within this window join one Event's series. Default 10 min. */
  dedupWindowMs?: number;
  /** How many distinct series and objects are remembered. Default 1024. */
  cacheSize?: number;
  /** Writes an object may make at once before it has to wait for tokens. Default 25. */
  burst?: number;
  /** One more write is allowed per object every this many ms. Default 10 s. */
  refillIntervalMs?: number;
}

interface Series {
  namespace: string;
  objectName: string;
  /** The Event's name once created. */
  name: string | undefined;
  budgetKey: string;
  event: Record<string, unknown>;
  count: number;
  written: number;
  lastObserved: number;
  writing: boolean;
}

export class ApiEventRecorder implements EventRecorder {
  private readonly api: KubeApi;
  private readonly log: Logger;
  private readonly reportingInstance: string;
  private readonly dedupWindowMs: number;
  private readonly series: LruMap<string, Series>;
  private readonly budgets: LruMap<string, TokenBucket>;
  private readonly burst: number;
  private readonly refillIntervalMs: number;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(kubeConfig: KubeConfig, log: Logger, options: EventRecorderOptions) {
    this.api = new KubeApi(kubeConfig);
    this.log = log.child({ component: 'events' });
    this.reportingInstance = truncate(options.reportingInstance, FIELD_MAX_LENGTH);
    this.dedupWindowMs = options.dedupWindowMs ?? 10 * 60_000;
    this.series = new LruMap(options.cacheSize ?? 1024);
    this.budgets = new LruMap(options.cacheSize ?? 1024);
    this.burst = options.burst ?? 25;
    this.refillIntervalMs = options.refillIntervalMs ?? 10_000;
  }

  record(regarding: KubernetesObject, type: EventType, reason: string, action: string, note: string): void {
    try {
      this.observe(regarding, type, reason, action, truncateBytes(redactSecrets(note), NOTE_MAX_BYTES));
    } catch (err) {
      this.log.debug({ err: describeError(err), reason }, 'could not record an event');
    }
  }

  /** Waits for the writes under way (at shutdown, so the last Events are not lost; and in tests). */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  private observe(regarding: KubernetesObject, type: EventType, reason: string, action: string, note: string): void {
    const metadata = regarding.metadata ?? {};
    const objectKey = metadata.uid ?? `${regarding.kind}/${metadata.namespace}/${metadata.name}`;
    const key = [objectKey, type, reason, note].join('\u0000');
    const now = preciseNow();
    const known = this.series.get(key);
    if (known !== undefined && now - known.lastObserved <= this.dedupWindowMs) {
      known.count += 1;
      known.lastObserved = now;
      this.sync(known);
      return;
    }
    // Events live in the regarding object's namespace (cluster-scoped objects: default)
    const namespace = metadata.namespace || 'default';
    const fresh: Series = {
      namespace,
      objectName: metadata.name ?? 'object',
      name: undefined,
      budgetKey: objectKey,
      count: 1,
      written: 0,
      lastObserved: now,
      writing: false,
      event: {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        eventTime: formatMicroTime(now),
        reportingController: REPORTING_CONTROLLER,
        reportingInstance: this.reportingInstance,
        action: truncate(action, FIELD_MAX_LENGTH),
        reason: truncate(reason, FIELD_MAX_LENGTH),
        note,
        type,
        regarding: {
          apiVersion: regarding.apiVersion,
          kind: regarding.kind,
          namespace: metadata.namespace,
          name: metadata.name,
          uid: metadata.uid,
          resourceVersion: metadata.resourceVersion,
        },
      },
    };
    this.series.set(key, fresh);
    this.sync(fresh);
  }

  /** Starts a write if the series has unwritten occurrences, none is under way and the object has budget. */
  private sync(series: Series): void {
    if (series.writing || series.written >= series.count) return;
    let budget = this.budgets.get(series.budgetKey);
    if (budget === undefined) {
      budget = new TokenBucket(this.burst, this.refillIntervalMs);
      this.budgets.set(series.budgetKey, budget);
    }
    if (!budget.take()) {
      this.log.debug(
        { reason: series.event.reason, count: series.count },
        'event rate limit reached for this object; the count is carried by its next write',
      );
      return;
    }
    series.writing = true;
    const write = this.write(series).finally(() => {
      series.writing = false;
      this.inFlight.delete(write);
      this.sync(series);
    });
    this.inFlight.add(write);
  }

  private async write(series: Series): Promise<void> {
    const count = series.count;
    const seriesField = count > 1 ? { series: { count, lastObservedTime: formatMicroTime(series.lastObserved) } } : {};
    const collection = `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(series.namespace)}/events`;
    try {
      if (series.name === undefined) {
        const metadata = { name: eventName(series.objectName), namespace: series.namespace };
        const created = await this.api.request<{ metadata: { name: string } }>('POST', collection, {
          body: { ...series.event, metadata, ...seriesField },
        });
        series.name = created.metadata.name;
      } else {
        await this.api.request('PATCH', `${collection}/${encodeURIComponent(series.name)}`, {
          contentType: PatchStrategy.MergePatch,
          body: seriesField,
        });
      }
      series.written = count;
    } catch (err) {
      // the Event expired (the API server keeps them ~1 h) or was deleted: the next write creates
      // it anew; any other failure gives these occurrences up rather than retrying in a loop
      if (hasStatus(err, 404)) series.name = undefined;
      else series.written = count;
      this.log.debug({ err: describeError(err), reason: series.event.reason }, 'could not write an event');
    }
  }
}

/** `<object>.<random>`, like client-go: unique, and still says whose Event it is. */
function eventName(objectName: string): string {
  return `${objectName.slice(0, 253 - 17)}.${randomBytes(8).toString('hex')}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max);
}

/** Cuts to at most `maxBytes` of UTF-8 at a character boundary; marks the cut. */
function truncateBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const marker = '…';
  let bytes = Buffer.byteLength(marker);
  let cut = '';
  // for..of walks code points, so a surrogate pair is never split
  for (const char of text) {
    bytes += Buffer.byteLength(char);
    if (bytes > maxBytes) break;
    cut += char;
  }
  return cut + marker;
}

/** A Map that forgets its least recently used entries beyond `capacity`. */
class LruMap<K, V> {
  private readonly entries = new Map<K, V>();
  private readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      // Map iterates in insertion order: re-inserting marks the entry most recent
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
  }
}

/** `burst` writes at once, then one per `refillIntervalMs`. */
class TokenBucket {
  private tokens: number;
  private refilledAt = performance.now();
  private readonly burst: number;
  private readonly refillIntervalMs: number;

  constructor(burst: number, refillIntervalMs: number) {
    this.burst = burst;
    this.tokens = burst;
    this.refillIntervalMs = refillIntervalMs;
  }

  take(): boolean {
    const now = performance.now();
    const earned = Math.floor((now - this.refilledAt) / this.refillIntervalMs);
    if (earned > 0) {
      this.tokens = Math.min(this.burst, this.tokens + earned);
      this.refilledAt += earned * this.refillIntervalMs;
    }
    if (this.tokens === 0) return false;
    this.tokens -= 1;
    return true;
  }
}
