// The two HTTP endpoints a Kubernetes operator exposes: /metrics for Prometheus, and the kubelet's
// probes /healthz (restart me when failing) and /readyz (send me no traffic / I am not in
// service). They listen on separate addresses by default so the metrics port can be firewalled
// or authenticated without touching the probes; the same HOST:PORT for both means one server
// (port 0 asks for a free port for each, so it never means "the same").
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** Returns whether the component is healthy; throwing or rejecting counts as unhealthy. */
export type HealthCheck = () => boolean | Promise<boolean>;

export interface HealthServerOptions {
  /** "HOST:PORT" or ":PORT" (every interface); port 0 picks a free one. Equal non-zero addresses share a server. */
  metricsAddress: string;
  probeAddress: string;
  registry: Registry;
  /** Named checks per endpoint; a failing response names the checks that failed. */
  checks: { healthz: Record<string, HealthCheck>; readyz: Record<string, HealthCheck> };
}

export interface BoundAddress {
  /** The listening host as Node reports it ("::" or "0.0.0.0" for every interface). */
  host: string;
  port: number;
}

export interface HealthServers {
  metrics: BoundAddress;
  probe: BoundAddress;
  close(): Promise<void>;
}

export interface BindAddress {
  /** undefined: every interface. */
  host: string | undefined;
  port: number;
}

/** Parses a bind address flag; `flag` names it in errors (e.g. "--metrics-bind-address"). */
export function parseBindAddress(address: string, flag: string): BindAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(address);
  const port = Number(match?.[3]);
  if (match === null || !Number.isInteger(port) || port > 65535) {
    throw new Error(`${flag} must be HOST:PORT or :PORT with a port from 0 to 65535, got "${address}"`);
  }
  const host = match[1] ?? match[2];
  return { host: host === '' ? undefined : host, port };
}

type Route = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

export async function startHealthServers(options: HealthServerOptions): Promise<HealthServers> {
  const metricsBind = parseBindAddress(options.metricsAddress, 'metrics address');
  const probeBind = parseBindAddress(options.probeAddress, 'health probe address');
  const routes: Record<string, Route> = {
    '/metrics': (_request, response) => serveMetrics(options.registry, response),
    '/healthz': (request, response) => serveChecks('healthz', options.checks.healthz, request, response),
    '/readyz': (request, response) => serveChecks('readyz', options.checks.readyz, request, response),
  };
  const pick = (...paths: string[]): Record<string, Route> => Object.fromEntries(paths.map((path) => [path, routes[path] as Route]));

  if (options.metricsAddress === options.probeAddress && metricsBind.port !== 0) {
    const server = await listen(routes, metricsBind, 'metrics and health probe address');
    const address = boundAddress(server);
    return { metrics: address, probe: address, close: once(() => closeServer(server)) };
  }
  const metricsServer = await listen(pick('/metrics'), metricsBind, 'metrics address');
  let probeServer: Server;
  try {
    probeServer = await listen(pick('/healthz', '/readyz'), probeBind, 'health probe address');
  } catch (error) {
    await closeServer(metricsServer);
    throw error;
  }
  return {
    metrics: boundAddress(metricsServer),
    probe: boundAddress(probeServer),
    close: once(async () => {
      await Promise.all([closeServer(metricsServer), closeServer(probeServer)]);
    }),
  };
}

async function serveMetrics(registry: Registry, response: ServerResponse): Promise<void> {
  let body: string;
  try {
    body = await registry.metrics();
  } catch {
    // A failing collect callback; its error may name internals, so the scrape just fails.
    reply(response, 500, 'collecting metrics failed\n');
    return;
  }
  response.writeHead(200, { 'content-type': registry.contentType });
  response.end(body);
}

/**
 * Kubernetes-style probe output: "ok" when every check passes, otherwise 500 with one
 * "[-]name failed" line per failing check. `?verbose` lists passing checks too. Check errors
 * are not echoed: the endpoints are often reachable by anything in the cluster.
 */
async function serveChecks(
  endpoint: string,
  checks: Record<string, HealthCheck>,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const names = Object.keys(checks);
  const results = await Promise.all(
    names.map(async (name) => {
      try {
        return (await (checks[name] as HealthCheck)()) === true;
      } catch {
        return false;
      }
    }),
  );
  const healthy = results.every((passed) => passed);
  const verbose = new URL(request.url ?? '/', 'http://probe').searchParams.has('verbose');
  if (healthy && !verbose) {
    reply(response, 200, 'ok');
    return;
  }
  const lines = names
    .map((name, index) => (results[index] ? (verbose ? `[+]${name} ok` : undefined) : `[-]${name} failed`))
    .filter((line) => line !== undefined);
  lines.push(`${endpoint} check ${healthy ? 'passed' : 'failed'}`);
  reply(response, healthy ? 200 : 500, `${lines.join('\n')}\n`);
}

function reply(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(body);
}

function listen(routes: Record<string, Route>, bind: BindAddress, what: string): Promise<Server> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://probe').pathname;
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (route === undefined) {
      reply(response, 404, `not found; this address serves ${Object.keys(routes).join(', ')}\n`);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      reply(response, 405, 'method not allowed\n');
      return;
    }
    route(request, response).catch(() => {
      if (!response.headersSent) reply(response, 500, 'internal error\n');
      else response.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(new Error(`cannot listen on the ${what} ${bind.host ?? ''}:${bind.port}: ${error.code ?? error.message}`, { cause: error }));
    });
    server.listen(bind.port, bind.host, () => resolve(server));
  });
}

function boundAddress(server: Server): BoundAddress {
  const address = server.address() as AddressInfo;
  return { host: address.address, port: address.port };
}

/** close() may be called from several shutdown paths; the second call waits for the first. */
function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

function closeServer(server: Server): Promise<void> {
  // Prometheus and the kubelet keep connections alive; without this close() would wait for them.
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}
