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
// The kept pool also keeps an idle connection longer than undici's default (4 s), which is
// shorter than a node's 5 s poll: nearly every periodic reconcile paid a new TLS handshake, on our
// side and the API server's.
import { statSync } from 'node:fs';
import type { AgentOptions, RequestOptions } from 'node:https';
import type { KubeConfig, RequestContext } from '@kubernetes/client-node';
import { Agent } from 'undici';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

interface Pool {
  identity: string;
  dispatcher: Dispatcher;
}

const pools = new WeakMap<KubeConfig, Pool>();

/**
 * How long an idle connection stays open for the next request: past a 5 s poll and a 30 s resync,
 * well inside the 90 s kube-apiserver keeps an idle connection (so the server never closes one
 * under a request we are sending).
 */
export const IDLE_CONNECTION_KEEP_MS = 30_000;

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
  const dispatcher = await keptAliveLonger(kubeConfig, fresh);
  // requests that arrived together (informers at startup) each built one: the first kept wins
  const kept = pools.get(kubeConfig);
  if (kept !== undefined && kept !== pool && kept.identity === identity) {
    retire(dispatcher);
    context.setDispatcher(kept.dispatcher);
    return kept.dispatcher;
  }
  context.setDispatcher(dispatcher);
  pools.set(kubeConfig, { identity, dispatcher });
  if (pool !== undefined) retire(pool.dispatcher);
  return dispatcher;
}

/**
 * A pool with the same TLS options as `fresh` (client-node's own mapping of the KubeConfig) that
 * keeps idle connections for IDLE_CONNECTION_KEEP_MS. Through a proxy, `fresh` is kept as it is.
 */
async function keptAliveLonger(kubeConfig: KubeConfig, fresh: Dispatcher): Promise<Dispatcher> {
  const https: RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(https);
  const tls: AgentOptions = { ca: https.ca, cert: https.cert, key: https.key, pfx: https.pfx, passphrase: https.passphrase };
  if (https.rejectUnauthorized !== undefined) tls.rejectUnauthorized = https.rejectUnauthorized;
  if (https.servername !== undefined) tls.servername = https.servername;
  const options = kubeConfig.createDispatcherOptions(kubeConfig.getCurrentCluster(), tls);
  if (options.type !== 'agent') return fresh;
  retire(fresh);
  return new Agent({ connect: options.connect, keepAliveTimeout: IDLE_CONNECTION_KEEP_MS });
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
