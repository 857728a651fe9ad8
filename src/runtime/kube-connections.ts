// One connection pool per KubeConfig and TLS identity. WHY: client-node's
// applySecurityAuthentication builds a new undici Agent for every request it authenticates, so
// every API call opened its own TLS connection and left its buffers to the allocator; at a few
// hundred NosanaJobs that was over 100 MiB of resident memory the process never gave back. The
// headers (tokens from exec plugins and rotated service-account files) are still applied per
// request; only the connection pool is kept, and replaced when the TLS material it was built from
// changes (a rotated client certificate or CA file), so a rotation is honoured on the next request.
// A kept pool can also keep a dead connection: one that stays open and carries nothing (a NAT or
// proxy that lost its state). Callers that see a request go silent call resetConnections, so the
// next request opens a fresh connection instead of queueing behind the silent one.
import { statSync } from 'node:fs';
import type { KubeConfig, RequestContext } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

interface Pool {
  identity: string;
  dispatcher: Dispatcher;
}

const pools = new WeakMap<KubeConfig, Pool>();

// how long requests still running on a replaced pool may take before its connections are cut
const RETIRE_GRACE_MS = 30_000;

/**
 * Authenticates `context` for `kubeConfig` (headers and TLS), with the connection pool shared by
 * every request made with the same KubeConfig while its TLS material stays the same.
 */
export async function authenticate(kubeConfig: KubeConfig, context: RequestContext): Promise<void> {
  await kubeConfig.applySecurityAuthentication(context);
  const fresh = context.getDispatcher();
  // no dispatcher: plain HTTP without TLS options, served by undici's global pool already
  if (fresh === undefined) return;
  const identity = tlsIdentity(kubeConfig);
  const pool = pools.get(kubeConfig);
  if (pool !== undefined && pool.identity === identity) {
    context.setDispatcher(pool.dispatcher);
    // the Agent built for this request never connected: nothing to close
    return;
  }
  pools.set(kubeConfig, { identity, dispatcher: fresh });
  if (pool !== undefined) retire(pool.dispatcher);
}

/**
 * Forgets the connection pool of `kubeConfig`: the next request opens new connections. For a
 * caller whose request went silent, which suggests its connection is dead rather than the server.
 */
export function resetConnections(kubeConfig: KubeConfig): void {
  const pool = pools.get(kubeConfig);
  if (pool === undefined) return;
  pools.delete(kubeConfig);
  retire(pool.dispatcher);
}

/** Requests in flight finish (idle connections close at once); whatever still hangs after the grace is cut. */
function retire(dispatcher: Dispatcher): void {
  void dispatcher.close().catch(() => undefined);
  setTimeout(() => void dispatcher.destroy().catch(() => undefined), RETIRE_GRACE_MS).unref();
}

/**
 * Everything the TLS side of a connection is built from. Files are named by path, size and
 * modification time rather than read: cheap on every request, and a rewritten file differs.
 */
export function tlsIdentity(kubeConfig: KubeConfig): string {
  const cluster = kubeConfig.getCurrentCluster();
  const user = kubeConfig.getCurrentUser();
  return JSON.stringify([
    cluster?.server,
    cluster?.proxyUrl,
    cluster?.skipTLSVerify,
    cluster?.tlsServerName,
    cluster?.caData,
    fileStamp(cluster?.caFile),
    user?.certData,
    fileStamp(user?.certFile),
    user?.keyData,
    fileStamp(user?.keyFile),
  ]);
}

function fileStamp(path: string | undefined): string | undefined {
  if (path === undefined || path === '') return undefined;
  try {
    const stats = statSync(path);
    return `${path}:${stats.size}:${stats.mtimeMs}`;
  } catch {
    // unreadable: client-node reports it when it reads the file; the stamp just has to differ
    return `${path}:missing`;
  }
}
