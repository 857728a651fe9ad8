// One connection pool per KubeConfig and TLS identity. WHY: client-node's
// applySecurityAuthentication builds a new undici Agent for every request it authenticates, so
// every API call opened its own TLS connection and left its buffers to the allocator; at a few
// hundred NosanaJobs that was over 100 MiB of resident memory the process never gave back. The
// headers (tokens from exec plugins and rotated service-account files) are still applied per
// request; only the connection pool is kept, and replaced when the TLS material it was built from
// changes (a rotated client certificate or CA file), so a rotation is honoured on the next request.
// A kept pool can also keep a dead connection: one that stays open and carries nothing (a NAT or
// proxy that lost its state), which the pool would hand to the next request again (a kept-alive
// socket, or the one session HTTP/2 multiplexes every request over). When a request ends because
// it went silent, the pool it used is reset, so the next request opens a fresh connection.
import { statSync } from 'node:fs';
import type { KubeConfig, RequestContext } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

interface Pool {
  identity: string;
  dispatcher: Dispatcher;
}

const pools = new WeakMap<KubeConfig, Pool>();

/**
 * Authenticates `context` for `kubeConfig` (headers and TLS), with the connection pool shared by
 * every request made with the same KubeConfig while its TLS material stays the same.
 */
export async function authenticate(kubeConfig: KubeConfig, context: RequestContext): Promise<Dispatcher | undefined> {
  await kubeConfig.applySecurityAuthentication(context);
  const fresh = context.getDispatcher();
  // no dispatcher: plain HTTP without TLS options, served by undici's global pool already
  if (fresh === undefined) return undefined;
  const identity = tlsIdentity(kubeConfig);
  const pool = pools.get(kubeConfig);
  if (pool !== undefined && pool.identity === identity) {
    context.setDispatcher(pool.dispatcher);
    // the Agent built for this request never connected: nothing to close
    return pool.dispatcher;
  }
  pools.set(kubeConfig, { identity, dispatcher: fresh });
  if (pool !== undefined) retire(pool.dispatcher);
  return fresh;
}

/**
 * Forgets the connection pool `used` (as authenticate returned it) if `kubeConfig` still has it:
 * the next request opens new connections. For a request that went silent, which suggests its
 * connection is dead rather than the server. A pool already replaced is left alone, so a burst of
 * timeouts from one dead connection replaces the pool once, not once per request.
 */
export function resetConnections(kubeConfig: KubeConfig, used: Dispatcher | undefined): void {
  const pool = pools.get(kubeConfig);
  if (pool === undefined || used === undefined || pool.dispatcher !== used) return;
  pools.delete(kubeConfig);
  retire(pool.dispatcher);
}

/**
 * Requests in flight finish and idle connections close at once. Nothing is cut: every request
 * this process makes is bounded (its timeout, or a watch's timeoutSeconds and stall bound), so the
 * retired pool ends by itself, and healthy watches on it run to their natural end.
 */
function retire(dispatcher: Dispatcher): void {
  void dispatcher.close().catch(() => undefined);
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
