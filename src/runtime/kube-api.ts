// The one HTTP path from the runtime to the API server: plain JSON in and out, authenticated by
// the KubeConfig (client certificates, tokens, exec plugins) through client-node's own request
// machinery. WHY not the generated typed clients: they turn timestamps into Date objects and drop
// microseconds (Lease and Event times are MicroTime), and watch events arrive as plain JSON, so
// mixing both would give the cache objects of two shapes. WHY not client-node's Watch: it aborts
// any watch that is silent for 30 s, shorter than the API server's ~60 s bookmark period, so a
// quiet watch would never see a bookmark (see informer.ts).
import type { KubeConfig } from '@kubernetes/client-node';
import { HttpMethod, IsomorphicFetchHttpLibrary, RequestContext } from '@kubernetes/client-node';
import { authenticate, resetConnections } from './kube-connections.ts';

/** An API server answer other than 2xx, with the Status it sent (if any). */
export class KubeApiError extends Error {
  readonly statusCode: number;
  /** The Status reason (NotFound, Conflict, Expired, ...), when the server sent a Status. */
  readonly reason: string | undefined;
  constructor(method: string, path: string, statusCode: number, reason: string | undefined, message: string) {
    super(`${method} ${path}: HTTP ${statusCode}${reason === undefined ? '' : ` ${reason}`}: ${message}`);
    this.name = 'KubeApiError';
    this.statusCode = statusCode;
    this.reason = reason;
  }
}

export function hasStatus(err: unknown, statusCode: number): boolean {
  return err instanceof KubeApiError && err.statusCode === statusCode;
}

/** A short description for logs: the message plus the network cause (ECONNREFUSED) when there is one. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (${(err.cause as NodeJS.ErrnoException).code ?? err.cause.message})` : '';
  return `${err.message}${cause}`;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  /** Serialised as JSON (also for apply patches: JSON is YAML). */
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Bounds the whole exchange; default 30 s. A half-open connection must not hang a caller forever. */
  timeoutMs?: number;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

const DEFAULT_TIMEOUT_MS = 30_000;

interface ResourceInfo {
  plural: string;
  namespaced: boolean;
}

interface ApiResourceList {
  resources: { name: string; kind: string; namespaced: boolean }[];
}

/** Where an object lives: enough to build its URL. */
export interface ResourceRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name?: string;
}

export class KubeApi {
  private readonly kubeConfig: KubeConfig;
  private readonly http = new IsomorphicFetchHttpLibrary();
  // one discovery request per apiVersion for the life of the process; kinds do not move
  private readonly discovery = new Map<string, Promise<Map<string, ResourceInfo>>>();

  constructor(kubeConfig: KubeConfig) {
    this.kubeConfig = kubeConfig;
  }

  async request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(options.timeoutMs ?? DEFAULT_TIMEOUT_MS)));
    const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
    const { response, pool } = await this.send(method, path, { ...options, signal });
    const text = await this.reading(signal, pool, () => response.body.text());
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) throw apiError(method, path, response.httpStatusCode, text);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** A GET of a text body (a container log), bounded like `request`. */
  async text(path: string, options: Pick<RequestOptions, 'query' | 'signal' | 'timeoutMs'> = {}): Promise<string> {
    const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(options.timeoutMs ?? DEFAULT_TIMEOUT_MS)));
    const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
    const { response, pool } = await this.send('GET', path, { ...options, signal });
    const text = await this.reading(signal, pool, () => response.body.text());
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) throw apiError('GET', path, response.httpStatusCode, text);
    return text;
  }

  /**
   * A streaming GET (a watch): yields the response body line by line until the server ends it or
   * `signal` aborts (then it throws the abort reason). No overall timeout: the caller bounds it,
   * with a SilentConnectionError as the reason when the stream went silent.
   */
  async *lines(path: string, options: { query?: Query; signal: AbortSignal }): AsyncGenerator<string> {
    const { response, pool } = await this.send('GET', path, { query: options.query, signal: options.signal });
    if (response.httpStatusCode !== 200) {
      throw apiError('GET', path, response.httpStatusCode, await this.reading(options.signal, pool, () => response.body.text()));
    }
    const stream = response.body.stream();
    if (stream === null) return;
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of stream) {
        buffered += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (line.trim() !== '') yield line;
        }
      }
    } catch (err) {
      throw this.failed(options.signal, pool, err);
    }
  }

  /** The URL path of an object (or of its collection when `name` is absent), found by discovery. */
  async resourcePath(ref: ResourceRef): Promise<string> {
    const resource = await this.resource(ref.apiVersion, ref.kind);
    const root = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
    const parts = [root];
    if (resource.namespaced) {
      if (!ref.namespace) throw new Error(`${ref.kind} ${ref.name ?? ''} is namespaced but has no namespace`);
      parts.push('namespaces', encodeURIComponent(ref.namespace));
    }
    parts.push(resource.plural);
    if (ref.name !== undefined) parts.push(encodeURIComponent(ref.name));
    return parts.join('/');
  }

  private async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    let kinds = this.discovery.get(apiVersion);
    if (kinds === undefined) {
      kinds = this.discover(apiVersion);
      this.discovery.set(apiVersion, kinds);
      // a failed discovery (API server down, CRD not installed yet) must be retried next time
      kinds.catch(() => this.discovery.delete(apiVersion));
    }
    const resource = (await kinds).get(kind);
    if (resource === undefined) {
      // a CRD installed after the first lookup: look again next time
      this.discovery.delete(apiVersion);
      throw new Error(`the API server does not serve kind ${kind} in ${apiVersion}`);
    }
    return resource;
  }

  private async discover(apiVersion: string): Promise<Map<string, ResourceInfo>> {
    const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const list = await this.request<ApiResourceList>('GET', path);
    const kinds = new Map<string, ResourceInfo>();
    for (const resource of list.resources) {
      // subresources (nosanajobs/status) share the kind of their parent
      if (!resource.name.includes('/')) kinds.set(resource.kind, { plural: resource.name, namespaced: resource.namespaced });
    }
    return kinds;
  }

  private async send(method: Method, path: string, options: RequestOptions & { signal: AbortSignal }) {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (cluster === null) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(cluster.server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const context = new RequestContext(url.toString(), HttpMethod[method]);
    context.setHeaderParam('Accept', 'application/json');
    if (options.body !== undefined) {
      context.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
      context.setBody(JSON.stringify(options.body));
    }
    context.setSignal(options.signal);
    for (let attempt = 1; ; attempt++) {
      const pool = await authenticate(this.kubeConfig, context);
      try {
        return { response: await this.http.send(context).toPromise(), pool };
      } catch (err) {
        // a pool retired between handing it out and sending (another request's reset): nothing
        // was sent, so sending again on the fresh pool is safe for any method
        if (attempt === 1 && !options.signal.aborted && isClosedPool(err)) continue;
        throw this.failed(options.signal, pool, err);
      }
    }
  }

  /** Reads a response body; a failure there is judged like a failure to send. */
  private async reading<T>(signal: AbortSignal, pool: ConnectionPool, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      throw this.failed(signal, pool, err);
    }
  }

  /**
   * What a failed request throws: the abort reason when `signal` ended it. When silence ended it
   * (a timeout, or a caller's stall bound), the connection it used is suspect: its pool is reset.
   */
  private failed(signal: AbortSignal, pool: ConnectionPool, err: unknown): unknown {
    if (!signal.aborted) return err;
    if (endedBySilence(signal.reason)) resetConnections(this.kubeConfig, pool);
    return signal.reason;
  }
}

type ConnectionPool = Awaited<ReturnType<typeof authenticate>>;

/**
 * The abort reason of a request that stopped hearing from the API server: a caller's bound on
 * silence (a watch that brought nothing for too long) extends it, and a timeout counts as one.
 */
export class SilentConnectionError extends Error {}

function endedBySilence(reason: unknown): boolean {
  return reason instanceof SilentConnectionError || (reason as { name?: unknown } | undefined)?.name === 'TimeoutError';
}

function isClosedPool(err: unknown): boolean {
  for (let cause: unknown = err; cause !== undefined && cause !== null; cause = (cause as { cause?: unknown }).cause) {
    const name = (cause as { name?: unknown }).name;
    if (name === 'ClientClosedError' || name === 'ClientDestroyedError') return true;
    if (typeof cause !== 'object') break;
  }
  return false;
}

function apiError(method: string, path: string, statusCode: number, body: string): KubeApiError {
  let reason: string | undefined;
  let message = body.slice(0, 500);
  try {
    const status = JSON.parse(body) as { kind?: string; reason?: string; message?: string };
    if (status.kind === 'Status') {
      reason = status.reason;
      message = status.message ?? message;
    }
  } catch {
    // not JSON (a proxy's error page): the raw text is the best description there is
  }
  return new KubeApiError(method, path, statusCode, reason, message);
}

/**
 * A MicroTime (RFC 3339 with exactly six fractional digits), which Lease and events.k8s.io Event
 * times require. `epochMs` may carry a fraction (performance.timeOrigin + performance.now()).
 */
export function formatMicroTime(epochMs: number): string {
  const wholeMs = Math.floor(epochMs);
  const micros = Math.floor((epochMs - wholeMs) * 1000);
  const iso = new Date(wholeMs).toISOString(); // 2024-01-02T03:04:05.678Z
  return `${iso.slice(0, 23)}${String(micros).padStart(3, '0')}Z`;
}

/** Wall-clock time with sub-millisecond precision. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}
