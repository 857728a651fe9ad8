// Following nosana.io objects as they change, for `get -w`, `wait` and `post --wait`: the
// operator's own supervised informer (list + watch, resumed after a dropped connection, relisted
// after a 410), so a phase that comes and goes while the connection is down is still seen. The
// first read of each command is a plain request that fails fast with a clear message; a watch that
// breaks later is resumed, with a note on stderr.
import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { SupervisedInformer } from '../runtime/informer.ts';
import type { Cluster } from './cluster.ts';
import type { PluginIo } from './command.ts';
import { collectionPath } from './kinds.ts';
import type { PluginKind } from './kinds.ts';

export interface WatchScope {
  /** One namespace; undefined: all of them. */
  namespace?: string | undefined;
  /** One object of that name. */
  name?: string | undefined;
}

/** An informer over the kind in `scope`; not started. */
export function watchKind<T extends KubernetesObject>(
  cluster: Cluster,
  kind: PluginKind,
  scope: WatchScope,
  io: PluginIo,
): SupervisedInformer<T> {
  return new SupervisedInformer<T>(cluster.kubeConfig, collectionPath(kind, undefined), pino({ level: 'silent' }), {
    ...(scope.namespace === undefined ? {} : { namespaces: [scope.namespace] }),
    ...(scope.name === undefined ? {} : { fieldSelector: `metadata.name=${scope.name}` }),
    backoff: { initialMs: 500, maxMs: 5_000 },
    onRestart: (reason) => {
      if (reason !== 'expired') io.stderr.write(`kubectl nosana: the watch of ${kind.crd.plural} broke off (${reason}); resuming\n`);
    },
  });
}

export type WaitOutcome<V> = { verdict: V } | { timedOut: true } | { interrupted: true };

/**
 * Watches one object until `judge` returns a verdict for it (given undefined once it is gone),
 * `timeoutMs` passes or `signal` aborts. The informer is started and stopped here.
 */
export async function waitForObject<T extends KubernetesObject, V>(
  informer: SupervisedInformer<T>,
  key: { namespace: string; name: string },
  judge: (object: T | undefined) => V | undefined,
  options: { timeoutMs: number; signal: AbortSignal },
): Promise<WaitOutcome<V>> {
  const done = Promise.withResolvers<WaitOutcome<V>>();
  let synced = false;
  const check = (): void => {
    if (!synced) return;
    const verdict = judge(informer.get(key));
    if (verdict !== undefined) done.resolve({ verdict });
  };
  const unsubscribe = informer.on(check);
  const timer = Number.isFinite(options.timeoutMs) ? setTimeout(() => done.resolve({ timedOut: true }), options.timeoutMs) : undefined;
  const onAbort = (): void => done.resolve({ interrupted: true });
  options.signal.addEventListener('abort', onAbort, { once: true });
  if (options.signal.aborted) onAbort();
  informer.start().then(
    () => {
      synced = true;
      check();
    },
    () => undefined, // stopped before its first list: the outcome is already decided
  );
  try {
    return await done.promise;
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener('abort', onAbort);
    unsubscribe();
    await informer.stop();
  }
}
