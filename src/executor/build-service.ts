// An op's exposed ports (NODE.md §1.5, §2.9): a ClusterIP Service in front of the op's Pod, an
// Ingress or a Gateway API HTTPRoute per port at the host Nosana would give it, and the health
// checks the kubelet can run as probes.
//
// Hosts. Nosana's public host of a port is `<exposeId(job, opIndex, port)>.<domain>`, computable
// by anyone from the job address (expose-id.ts). Ingress and HTTPRoute hosts must be lowercase
// DNS names while the id is base58 (mixed case), so the host is the id lowercased: DNS and HTTP
// hosts are case-insensitive, so Nosana's URL, as printed, reaches it. A private op (`private:
// true`) must not get a predictable host: the caller passes a random seed (kept in the run
// ConfigMap, so a restarted runner rebuilds the same hosts) and the id is computed from the seed
// in place of the job address.
//
// Health checks → probes. The reference node polls a port's checks every 5 s until one passes
// (startup success, which releases dependents), then re-runs the `continuous` ones every 30 s, and
// with `restart_on_failure` restarts the container when one fails (§2.9). Mapped as:
//   startupProbe    the first non-continuous check, or else the first continuous one (so startup is
//                   noticed at the node's 5 s pace, not the 30 s of readiness); it never gives up on
//                   its own (the job's timeout bounds startup, as on the node);
//   readinessProbe  the first continuous check, every 30 s, unready on the first failure (the
//                   node marks the endpoint OFFLINE on one failure);
//   livenessProbe   the first continuous check with `restart_on_failure`, restarting on one failure.
// A probe passes on any status 200–399 and sends GET without a body, so only GET checks expecting
// 2xx/3xx become probes; a container has one probe of each kind, so further checks cannot. Those
// come back in `runnerChecks` for the runner to perform itself.
import type { V1HTTPGetAction, V1Ingress, V1ObjectMeta, V1Probe, V1Service } from '@kubernetes/client-node';
import type { ContainerRunArgs, Expose, HealthCheck, ServiceType } from '../api/job-definition/index.ts';
import { exposeId } from '../api/job-definition/expose-id.ts';
import { opObjectMeta, opSelectorLabels } from './labels.ts';
import type { OpContext } from './labels.ts';
import { exposureRouteName, opServiceName } from './names.ts';

/** Annotation on an Ingress/HTTPRoute: the exposed port it publishes. */
export const EXPOSED_PORT_ANNOTATION = 'nosana.io/exposed-port';

export interface ExposedPortSpec {
  port: number;
  type?: ServiceType;
  healthChecks: HealthCheck[];
}

/**
 * The ports of `expose` that are known: numbers and {port} objects, first occurrence of a port
 * only. Literal strings and spread markers are skipped; once literals are resolved (before an op
 * launches) none are left.
 */
export function exposedPorts(expose: Expose | undefined): ExposedPortSpec[] {
  const entries: unknown[] = expose === undefined ? [] : Array.isArray(expose) ? expose : [expose];
  const ports: ExposedPortSpec[] = [];
  for (const entry of entries) {
    const spec = toPortSpec(entry);
    if (spec !== undefined && !ports.some((known) => known.port === spec.port)) ports.push(spec);
  }
  return ports;
}

function toPortSpec(entry: unknown): ExposedPortSpec | undefined {
  if (typeof entry === 'number') return { port: entry, healthChecks: [] };
  if (typeof entry !== 'object' || entry === null || !('port' in entry) || typeof entry.port !== 'number') return undefined;
  const object = entry as { port: number; type?: ServiceType; health_checks?: HealthCheck[] };
  return { port: object.port, ...(object.type === undefined ? {} : { type: object.type }), healthChecks: object.health_checks ?? [] };
}

function servicePortName(port: number): string {
  return `p${port}`;
}

// ---------------------------------------------------------------------------------------------
// Service

/** The ClusterIP Service of an op's exposed ports, selecting the op's Pod; none when nothing is exposed. */
export function buildOpService(context: OpContext, args: Pick<ContainerRunArgs, 'expose'>): V1Service | undefined {
  const ports = exposedPorts(args.expose);
  if (ports.length === 0) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: opObjectMeta(context, opServiceName(context.jobId, context.opIndex)),
    spec: {
      type: 'ClusterIP',
      selector: opSelectorLabels(context.jobId, context.opIndex),
      ports: ports.map(({ port }) => ({ name: servicePortName(port), protocol: 'TCP', port, targetPort: port })),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Ingress / HTTPRoute

/** gateway.networking.k8s.io/v1 HTTPRoute, the fields used here (the client library has no type for it). */
export interface HttpRoute {
  apiVersion: 'gateway.networking.k8s.io/v1';
  kind: 'HTTPRoute';
  metadata: V1ObjectMeta;
  spec: {
    parentRefs: { group: string; kind: string; namespace: string; name: string }[];
    hostnames: string[];
    rules: {
      matches: { path: { type: 'PathPrefix'; value: string } }[];
      backendRefs: { name: string; port: number }[];
    }[];
  };
}

/** Where hosts come from: the job address (Nosana's public URLs), or a caller's random seed. */
export type UrlMode = { mode: 'public' } | { mode: 'private'; seed: string };

export interface ExposureRoute {
  port: number;
  /** The public host, without scheme. */
  host: string;
  route: V1Ingress | HttpRoute;
}

/** The host of one exposed port: the expose id (lowercased) under the base domain. */
export function exposedHost(jobId: string, opIndex: number, port: number, baseDomain: string, urls: UrlMode): string {
  const source = urls.mode === 'private' ? urls.seed : jobId;
  return `${exposeId(source, opIndex, port).toLowerCase()}.${baseDomain}`;
}

/**
 * One Ingress or HTTPRoute per exposed port, as settings.exposure says; none when the settings
 * publish nothing. A private op with public URLs is refused: its host would be guessable.
 */
export function buildExposureRoutes(
  context: OpContext,
  args: Pick<ContainerRunArgs, 'expose' | 'private'>,
  urls: UrlMode,
): ExposureRoute[] {
  const exposure = context.settings.exposure;
  if (exposure === undefined) return [];
  if (args.private === true && urls.mode === 'public') {
    throw new Error(`op ${context.opIndex} is private: its hosts need a random seed (UrlMode private), never the job address`);
  }
  const service = opServiceName(context.jobId, context.opIndex);
  return exposedPorts(args.expose).map(({ port }) => {
    const host = exposedHost(context.jobId, context.opIndex, port, exposure.baseDomain, urls);
    const metadata = opObjectMeta(context, exposureRouteName(context.jobId, context.opIndex, port), {
      [EXPOSED_PORT_ANNOTATION]: String(port),
    });
    if (exposure.kind === 'Ingress') {
      const ingress: V1Ingress = {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata,
        spec: {
          ...(exposure.ingressClass === undefined ? {} : { ingressClassName: exposure.ingressClass }),
          rules: [
            {
              host,
              http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: port } } } }] },
            },
          ],
        },
      };
      return { port, host, route: ingress };
    }
    if (exposure.gateway === undefined) throw new Error('settings.exposure.kind is HTTPRoute but settings.exposure.gateway is unset');
    const route: HttpRoute = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata,
      spec: {
        parentRefs: [
          { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: exposure.gateway.namespace, name: exposure.gateway.name },
        ],
        hostnames: [host],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: service, port }] }],
      },
    };
    return { port, host, route };
  });
}

// ---------------------------------------------------------------------------------------------
// Probes

/** The node's startup pace and per-check limits (§2.9: every 5 s, 60 s per startup check, 20 s per continuous one). */
const STARTUP_PERIOD_SECONDS = 5;
const STARTUP_TIMEOUT_SECONDS = 60;
const CONTINUOUS_PERIOD_SECONDS = 30;
const CONTINUOUS_TIMEOUT_SECONDS = 20;
/**
 * The node polls startup until the job ends; a startupProbe must have a threshold. This one is
 * 58 days at 5 s, longer than any job runs, so in practice only the job's timeout ends startup.
 */
export const STARTUP_FAILURE_THRESHOLD = 1_000_000;
/** What the httpGet probe accepts as a header name (the API server refuses others). */
const HTTP_HEADER_NAME = /^[-A-Za-z0-9]+$/;

export interface RunnerHealthCheck {
  port: number;
  check: HealthCheck;
  /** Why no probe performs it. */
  reason: string;
}

export interface OpProbes {
  startupProbe?: V1Probe;
  readinessProbe?: V1Probe;
  livenessProbe?: V1Probe;
  /** `max_restarts` of the liveness check, for the runner to count restarts against. */
  maxRestarts?: number;
  /** The checks no probe performs. */
  runnerChecks: RunnerHealthCheck[];
}

/** Why a check cannot be a probe, or undefined when it can. */
export function probeLimitation(check: HealthCheck): string | undefined {
  if (check.type === 'websocket') return 'a websocket check: probes speak plain HTTP';
  if (check.method !== 'GET') return `method ${check.method}: probes only send GET`;
  if (check.body !== undefined) return 'has a body: probes send none';
  if (check.expected_status < 200 || check.expected_status > 399) {
    return `expects status ${check.expected_status}: a probe passes on 200–399 only`;
  }
  if (!check.path.startsWith('/')) return `path ${JSON.stringify(check.path)} does not start with "/"`;
  const badHeader = Object.keys(check.headers ?? {}).find((name) => !HTTP_HEADER_NAME.test(name));
  if (badHeader !== undefined) return `header name ${JSON.stringify(badHeader)} is not one a probe can send`;
  return undefined;
}

interface PortCheck {
  port: number;
  check: HealthCheck;
}

function httpGet(entry: PortCheck): V1HTTPGetAction {
  const check = entry.check;
  const headers = check.type === 'http' ? Object.entries(check.headers ?? {}) : [];
  return {
    path: check.type === 'http' ? check.path : '/',
    port: entry.port,
    scheme: 'HTTP',
    ...(headers.length === 0 ? {} : { httpHeaders: headers.map(([name, value]) => ({ name, value })) }),
  };
}

/** The probes an op's health checks become, and the checks left to the runner. */
export function healthCheckProbes(args: Pick<ContainerRunArgs, 'expose'>): OpProbes {
  const all: PortCheck[] = exposedPorts(args.expose).flatMap(({ port, healthChecks }) => healthChecks.map((check) => ({ port, check })));
  const expressible = all.filter(({ check }) => probeLimitation(check) === undefined);
  const startup = expressible.find(({ check }) => !check.continuous) ?? expressible.find(({ check }) => check.continuous);
  const readiness = expressible.find(({ check }) => check.continuous);
  const liveness = expressible.find(({ check }) => check.continuous && check.restart_on_failure === true);
  const used = new Set([startup, readiness, liveness]);
  const runnerChecks = all
    .filter((entry) => !used.has(entry))
    .map(({ port, check }) => ({ port, check, reason: probeLimitation(check) ?? 'the container already has a probe of this kind' }));
  const maxRestarts = liveness?.check.max_restarts;
  return {
    ...(startup === undefined
      ? {}
      : {
          startupProbe: {
            httpGet: httpGet(startup),
            periodSeconds: STARTUP_PERIOD_SECONDS,
            timeoutSeconds: STARTUP_TIMEOUT_SECONDS,
            failureThreshold: STARTUP_FAILURE_THRESHOLD,
            successThreshold: 1,
          },
        }),
    ...(readiness === undefined ? {} : { readinessProbe: continuousProbe(readiness) }),
    ...(liveness === undefined ? {} : { livenessProbe: continuousProbe(liveness) }),
    ...(maxRestarts === undefined ? {} : { maxRestarts }),
    runnerChecks,
  };
}

function continuousProbe(entry: PortCheck): V1Probe {
  return {
    httpGet: httpGet(entry),
    periodSeconds: CONTINUOUS_PERIOD_SECONDS,
    timeoutSeconds: CONTINUOUS_TIMEOUT_SECONDS,
    failureThreshold: 1,
    successThreshold: 1,
  };
}
