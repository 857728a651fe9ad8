// The localnet's IPFS service: one loopback HTTP server that is at once a Pinata-compatible
// pinning API, a Kubo-compatible `add`, and a gateway, backed by a ContentStore with real CIDv0s.
// It never talks to the internet. Every response carries `x-nosana-network: localnet` so nobody
// mistakes it for the real thing.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ContentStore } from './content-store.ts';
import { FaultSettings, type GatewayFaults } from './faults.ts';
import { serveContent } from './gateway-api.ts';
import { HttpProblem, sendJson, sendText } from './http-io.ts';
import { kuboAdd, pinFileToIpfs, pinJsonToIpfs } from './pinning-api.ts';

export interface IpfsServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  faults?: Partial<GatewayFaults>;
  /** Default: a fresh in-memory store. Pass a persistent one to keep content across restarts. */
  store?: ContentStore;
  /** When set, pinning endpoints require `Authorization: Bearer <requireJwt>`. */
  requireJwt?: string;
}

export interface IpfsServer {
  /** Pinata-compatible API base, e.g. http://127.0.0.1:PORT. */
  apiUrl: string;
  /** Kubo RPC base: the same server, with /api/v0 under it. */
  kuboApiUrl: string;
  /** Gateway base, http://127.0.0.1:PORT/ipfs/. */
  gatewayUrl: string;
  /** Mutable at run time; writes are validated. */
  faults: GatewayFaults;
  store: ContentStore;
  close(): Promise<void>;
}

type Api = 'pinata' | 'kubo' | 'gateway' | 'service';

interface RouteRequest {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
}

interface Route {
  api: Api;
  methods: readonly string[];
  authenticated: boolean;
  handle(routed: RouteRequest): Promise<void> | void;
}

const NETWORK_HEADER = 'x-nosana-network';

export async function createIpfsServer(options: IpfsServerOptions = {}): Promise<IpfsServer> {
  if (options.requireJwt !== undefined && options.requireJwt.trim() === '') throw new TypeError('requireJwt must not be empty');
  const store = options.store ?? (await ContentStore.open());
  const faults = new FaultSettings(options.faults);
  const closing = new AbortController();
  const routes = defineRoutes({ store, faults, closing: closing.signal });
  const expectedAuthorization = options.requireJwt === undefined ? undefined : `Bearer ${options.requireJwt}`;

  const server = createServer((request, response) => {
    void dispatch(request, response);
  });

  async function dispatch(request: IncomingMessage, response: ServerResponse): Promise<void> {
    response.setHeader(NETWORK_HEADER, 'localnet');
    const url = new URL(request.url ?? '/', 'http://localnet.invalid');
    const route = findRoute(routes, url.pathname);
    try {
      if (route === undefined) throw new HttpProblem(404, 'NOT_FOUND', `no localnet IPFS endpoint at ${url.pathname}`);
      if (!route.methods.includes(request.method ?? '')) {
        response.setHeader('allow', route.methods.join(', '));
        throw new HttpProblem(405, 'METHOD_NOT_ALLOWED', `${url.pathname} accepts ${route.methods.join(', ')}, not ${request.method}`);
      }
      if (route.authenticated && expectedAuthorization !== undefined && request.headers.authorization !== expectedAuthorization) {
        throw new HttpProblem(401, 'INVALID_CREDENTIALS', 'a valid "Authorization: Bearer <JWT>" header is required');
      }
      await route.handle({ request, response, url });
    } catch (error) {
      if (closing.signal.aborted || response.headersSent) {
        response.destroy();
        return;
      }
      const problem = error instanceof HttpProblem ? error : new HttpProblem(500, 'INTERNAL_ERROR', (error as Error).message);
      // Whatever the client is still uploading is read and dropped, so it gets this answer.
      request.resume();
      sendProblem(response, route?.api ?? 'service', problem);
    }
  }

  const { port, address } = await listen(server, options.host ?? '127.0.0.1', options.port ?? 0);
  const origin = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  return {
    apiUrl: origin,
    kuboApiUrl: origin,
    gatewayUrl: `${origin}/ipfs/`,
    faults,
    store,
    close: async () => {
      closing.abort();
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      server.closeAllConnections();
      await closed;
    },
  };
}

function defineRoutes(context: { store: ContentStore; faults: FaultSettings; closing: AbortSignal }): Map<string, Route> {
  return new Map<string, Route>([
    [
      '/health',
      {
        api: 'service',
        methods: ['GET'],
        authenticated: false,
        handle: ({ response }) =>
          sendJson(response, 200, {
            status: 'ok',
            network: 'localnet',
            service: 'ipfs',
            objects: context.store.objectCount,
            bytes: context.store.totalBytes,
          }),
      },
    ],
    [
      '/data/testAuthentication',
      {
        api: 'pinata',
        methods: ['GET'],
        authenticated: true,
        handle: ({ response }) => sendJson(response, 200, { message: 'Authenticated with the localnet pinning API' }),
      },
    ],
    [
      '/pinning/pinFileToIPFS',
      {
        api: 'pinata',
        methods: ['POST'],
        authenticated: true,
        handle: ({ request, response }) => pinFileToIpfs(context, request, response),
      },
    ],
    [
      '/pinning/pinJSONToIPFS',
      {
        api: 'pinata',
        methods: ['POST'],
        authenticated: true,
        handle: ({ request, response }) => pinJsonToIpfs(context, request, response),
      },
    ],
    [
      '/api/v0/add',
      {
        api: 'kubo',
        methods: ['POST'],
        authenticated: true,
        handle: ({ request, response, url }) => kuboAdd(context, request, response, url.searchParams),
      },
    ],
    [
      '/ipfs/',
      {
        api: 'gateway',
        methods: ['GET', 'HEAD'],
        authenticated: false,
        handle: ({ request, response, url }) => serveContent(context, request, response, url.pathname.slice('/ipfs/'.length)),
      },
    ],
  ]);
}

function findRoute(routes: Map<string, Route>, pathname: string): Route | undefined {
  return routes.get(pathname) ?? (pathname.startsWith('/ipfs/') ? routes.get('/ipfs/') : undefined);
}

/** The error in the shape each API's clients expect: Pinata's `{error}`, Kubo's `{Message}`, text for the gateway. */
function sendProblem(response: ServerResponse, api: Api, problem: HttpProblem): void {
  switch (api) {
    case 'kubo':
      sendJson(response, problem.status, { Message: problem.message, Code: 0, Type: 'error' });
      return;
    case 'gateway':
      sendText(response, problem.status, problem.message);
      return;
    case 'pinata':
    case 'service':
      sendJson(response, problem.status, { error: { reason: problem.reason, details: problem.message } });
  }
}

async function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}
