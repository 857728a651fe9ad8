// The cluster a `kubectl nosana` command talks to, as kubectl would pick it (--kubeconfig, else
// $KUBECONFIG, else ~/.kube/config, else the in-cluster config; the namespace from -n, else the
// context's), and every request to it made through the project's KubeApi with its failures turned
// into what a user can act on: "not found" and "cannot reach the cluster" exit 3, naming the
// object or the server; a request the API server refused exits 1 with its own explanation.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { API_VERSION } from '../api/crds/common.ts';
import { loadKubeConfig } from '../cli/kube-config.ts';
import { KubeApi, KubeApiError, describeError } from '../runtime/kube-api.ts';
import type { Method, RequestOptions } from '../runtime/kube-api.ts';
import { EXIT_FAILED, EXIT_UNAVAILABLE, PluginError } from './errors.ts';
import { collectionPath, objectPath } from './kinds.ts';
import type { PluginKind } from './kinds.ts';

export interface ClusterFlags {
  kubeconfig?: string | undefined;
  namespace?: string | undefined;
}

interface ObjectList<T> {
  items: T[];
  metadata?: { continue?: string };
}

const LIST_PAGE_SIZE = 500;

/** kubectl's order: --kubeconfig, $KUBECONFIG, then ~/.kube/config when it exists. */
export function kubeconfigPath(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (flag !== undefined) return flag;
  if (env['KUBECONFIG'] !== undefined && env['KUBECONFIG'] !== '') return undefined;
  const home = env['HOME'] ?? homedir();
  const standard = join(home, '.kube', 'config');
  return existsSync(standard) ? standard : undefined;
}

/** The text of an API server refusal without the method and path KubeApiError puts first. */
function serverMessage(error: KubeApiError): string {
  return error.message.replace(/^\S+ \S+: HTTP \d+( \w+)?: /, '');
}

export class Cluster {
  readonly kubeConfig: KubeConfig;
  readonly api: KubeApi;
  /** -n, else the kubeconfig context's namespace, else "default". */
  readonly namespace: string;
  readonly server: string;
  readonly signal: AbortSignal;

  constructor(kubeConfig: KubeConfig, namespace: string | undefined, signal: AbortSignal) {
    this.kubeConfig = kubeConfig;
    this.api = new KubeApi(kubeConfig);
    const context = kubeConfig.getContextObject(kubeConfig.getCurrentContext());
    this.namespace = namespace ?? (context?.namespace || 'default');
    this.server = kubeConfig.getCurrentCluster()?.server ?? '(no server)';
    this.signal = signal;
  }

  static open(flags: ClusterFlags, env: NodeJS.ProcessEnv, signal: AbortSignal): Cluster {
    let kubeConfig: KubeConfig;
    try {
      kubeConfig = loadKubeConfig(kubeconfigPath(flags.kubeconfig, env), env);
    } catch (error) {
      throw new PluginError(`cannot load the kubeconfig: ${(error as Error).message}`, EXIT_UNAVAILABLE);
    }
    if (kubeConfig.getCurrentCluster() === null) {
      throw new PluginError(
        'the kubeconfig has no current context with a cluster: set one with kubectl config use-context',
        EXIT_UNAVAILABLE,
      );
    }
    return new Cluster(kubeConfig, flags.namespace, signal);
  }

  /** A request; `what` says what it was for in the message of a failure ("get NosanaJob x/y"). */
  async request<T>(what: string, method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    try {
      return await this.api.request<T>(method, path, { ...options, signal: options.signal ?? this.signal });
    } catch (error) {
      throw this.failure(what, error);
    }
  }

  /** A text GET (a container log). */
  async text(what: string, path: string, query: RequestOptions['query']): Promise<string> {
    try {
      return await this.api.text(path, { ...(query === undefined ? {} : { query }), signal: this.signal });
    } catch (error) {
      throw this.failure(what, error);
    }
  }

  /** The object, or a "not found" failure naming it (exit 3). */
  async get<T extends KubernetesObject>(kind: PluginKind, namespace: string, name: string): Promise<T> {
    const found = await this.find<T>(kind, namespace, name);
    if (found === undefined) throw new PluginError(`${kind.kind} "${name}" not found in namespace "${namespace}"`, EXIT_UNAVAILABLE);
    return found;
  }

  /** The object, or undefined when there is none of that name. */
  async find<T extends KubernetesObject>(kind: PluginKind, namespace: string, name: string): Promise<T | undefined> {
    try {
      return await this.api.request<T>('GET', objectPath(kind, namespace, name), { signal: this.signal });
    } catch (error) {
      if (error instanceof KubeApiError && error.statusCode === 404) return undefined;
      throw this.failure(`get ${kind.kind} ${namespace}/${name}`, error);
    }
  }

  /** Every object of a kind in `namespace` (all namespaces when undefined), page by page. */
  async list<T extends KubernetesObject>(kind: PluginKind, namespace: string | undefined): Promise<T[]> {
    const path = collectionPath(kind, namespace);
    const items: T[] = [];
    let continueToken: string | undefined;
    do {
      let page: ObjectList<T>;
      try {
        page = await this.api.request<ObjectList<T>>('GET', path, {
          query: { limit: LIST_PAGE_SIZE, continue: continueToken },
          signal: this.signal,
        });
      } catch (error) {
        if (error instanceof KubeApiError && error.statusCode === 404) {
          throw new PluginError(
            `the cluster at ${this.server} does not serve ${kind.crd.plural}.nosana.io: the nosana-operator CRDs are not installed`,
            EXIT_UNAVAILABLE,
          );
        }
        throw this.failure(`list ${kind.crd.plural}${namespace === undefined ? '' : ` in namespace "${namespace}"`}`, error);
      }
      // list items carry no kind of their own; what is printed as JSON should
      items.push(...page.items.map((item) => ({ ...item, apiVersion: item.apiVersion ?? API_VERSION, kind: item.kind ?? kind.kind })));
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken !== undefined);
    return items;
  }

  /** What a failed request means to the user; an interruption (Ctrl-C) is passed on as it is. */
  failure(what: string, error: unknown): unknown {
    if (error instanceof PluginError || this.signal.aborted) return error;
    if (error instanceof KubeApiError) {
      switch (error.statusCode) {
        case 401:
          return new PluginError(`${what}: the cluster at ${this.server} did not accept the kubeconfig's credentials`, EXIT_UNAVAILABLE);
        case 403:
          return new PluginError(`${what}: not allowed: ${serverMessage(error)}`, EXIT_UNAVAILABLE);
        case 404:
          return new PluginError(`${what}: not found: ${serverMessage(error)}`, EXIT_UNAVAILABLE);
        default:
          return new PluginError(`${what}: the API server refused (HTTP ${error.statusCode}): ${serverMessage(error)}`, EXIT_FAILED);
      }
    }
    return new PluginError(`cannot reach the cluster at ${this.server}: ${describeError(error)}`, EXIT_UNAVAILABLE);
  }
}
