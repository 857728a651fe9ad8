// Exposed ports (NODE.md §1.5, §2.9): which ports are exposed, the Service in front of an op's Pod,
// the public route per port at Nosana's host, and which health checks the kubelet can run.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Ingress } from '@kubernetes/client-node';
import type { ContainerRunArgs, Expose, HealthCheck } from '../../../src/api/job-definition/index.ts';
import { exposeId } from '../../../src/api/job-definition/expose-id.ts';
import {
  STARTUP_FAILURE_THRESHOLD,
  buildExposureRoutes,
  buildOpService,
  exposedPorts,
  healthCheckProbes,
} from '../../../src/executor/build-service.ts';
import type { HttpRoute } from '../../../src/executor/build-service.ts';
import { JOB_LABEL, OP_INDEX_LABEL } from '../../../src/executor/labels.ts';
import type { OpContext } from '../../../src/executor/labels.ts';
import { exposureRouteName, isDnsLabel, opServiceName } from '../../../src/executor/names.ts';
import { DEFAULT_EXECUTOR_SETTINGS } from '../../../src/executor/settings.ts';
import type { ExecutorSettings, ExposureSettings } from '../../../src/executor/settings.ts';

const JOB = '7Uq9yCqnYbTTLfqVv5rZ3gYjNpJZRsqZJ7m2iYVQmAbW';
const INGRESS: ExposureSettings = { baseDomain: 'node.example.com', kind: 'Ingress', ingressClass: 'nginx' };
const SETTINGS: ExecutorSettings = { ...DEFAULT_EXECUTOR_SETTINGS, namespace: 'jobs', operatorImage: 'op:1', exposure: INGRESS };

function context(settings: Partial<ExecutorSettings> = {}, opIndex = 1): OpContext {
  return { jobId: JOB, opIndex, opId: 'serve', settings: { ...SETTINGS, ...settings } };
}

const get = (path: string, continuous: boolean, extra: Partial<Extract<HealthCheck, { type: 'http' }>> = {}): HealthCheck => ({
  type: 'http',
  path,
  method: 'GET',
  expected_status: 200,
  continuous,
  ...extra,
});

describe('exposed ports (§1.5 forms)', () => {
  const rows: { reason: string; expose: Expose | undefined; want: number[] }[] = [
    { reason: 'nothing exposed', expose: undefined, want: [] },
    { reason: 'a bare number', expose: 8188, want: [8188] },
    { reason: 'an object', expose: { port: 8000, type: 'api' }, want: [8000] },
    { reason: 'an array mixing numbers and objects, in order', expose: [3000, { port: 2333 }], want: [3000, 2333] },
    { reason: 'a literal string is known only at launch: skipped', expose: '%%ops.a.results.port%%', want: [] },
    {
      reason: 'a spread marker in an array: skipped, the rest kept',
      expose: [1000, { __spread__: '%%ops.a.results.expose%%' }],
      want: [1000],
    },
    { reason: 'a repeated port counts once', expose: [80, { port: 80, type: 'web' }], want: [80] },
  ];
  for (const { reason, expose, want } of rows) {
    test(reason, () => {
      assert.deepEqual(
        exposedPorts(expose).map(({ port }) => port),
        want,
      );
    });
  }

  test('health checks travel with their port', () => {
    const [spec] = exposedPorts([{ port: 80, health_checks: [get('/', true)] }]);
    assert.deepEqual(spec?.healthChecks, [get('/', true)]);
  });
});

describe('Service', () => {
  test('one ClusterIP Service per op, selecting the op Pod, a port per exposed port', () => {
    const service = buildOpService(context(), { expose: [3000, { port: 2333 }] });
    assert.equal(service?.metadata?.name, opServiceName(JOB, 1));
    assert.equal(service?.metadata?.namespace, 'jobs');
    assert.equal(service?.spec?.type, 'ClusterIP');
    assert.deepEqual(service?.spec?.selector, {
      'app.kubernetes.io/managed-by': 'nosana-operator',
      [JOB_LABEL]: JOB,
      [OP_INDEX_LABEL]: '1',
    });
    assert.deepEqual(
      service?.spec?.ports?.map(({ port, targetPort, protocol }) => [port, targetPort, protocol]),
      [
        [3000, 3000, 'TCP'],
        [2333, 2333, 'TCP'],
      ],
    );
    for (const port of service?.spec?.ports ?? [])
      assert.ok(port.name !== undefined && isDnsLabel(port.name) && port.name.length <= 15, port.name);
  });

  test('nothing exposed: no Service', () => {
    assert.equal(buildOpService(context(), {}), undefined);
  });
});

describe('Ingress and HTTPRoute', () => {
  const hostOf = (source: string, port: number) => `${exposeId(source, 1, port).toLowerCase()}.node.example.com`;

  test("an Ingress per port at Nosana's host (expose id of op index, port and job; lowercased), to the op Service", () => {
    const routes = buildExposureRoutes(context(), { expose: [3000, 2333] }, { mode: 'public' });
    assert.deepEqual(
      routes.map(({ port, host }) => [port, host]),
      [
        [3000, hostOf(JOB, 3000)],
        [2333, hostOf(JOB, 2333)],
      ],
    );
    const ingress = routes[0]?.route as V1Ingress;
    assert.equal(ingress.kind, 'Ingress');
    assert.equal(ingress.apiVersion, 'networking.k8s.io/v1');
    assert.equal(ingress.metadata?.name, exposureRouteName(JOB, 1, 3000));
    assert.equal(ingress.spec?.ingressClassName, 'nginx');
    const rule = ingress.spec?.rules?.[0];
    assert.equal(rule?.host, hostOf(JOB, 3000));
    assert.deepEqual(rule?.http?.paths, [
      { path: '/', pathType: 'Prefix', backend: { service: { name: opServiceName(JOB, 1), port: { number: 3000 } } } },
    ]);
  });

  test('the host is a lowercase DNS name that matches Nosana’s URL case-insensitively', () => {
    const [route] = buildExposureRoutes(context(), { expose: 80 }, { mode: 'public' });
    const nosanaHost = `${exposeId(JOB, 1, 80)}.node.example.com`;
    assert.equal(route?.host, nosanaHost.toLowerCase());
    assert.match(route?.host ?? '', /^[a-z0-9.-]+$/);
  });

  test('without ingressClass the field is left out (the cluster default class)', () => {
    const [route] = buildExposureRoutes(context({ exposure: { baseDomain: 'd', kind: 'Ingress' } }), { expose: 80 }, { mode: 'public' });
    assert.equal(Object.hasOwn((route?.route as V1Ingress).spec ?? {}, 'ingressClassName'), false);
  });

  test('an HTTPRoute attached to the settings Gateway', () => {
    const exposure: ExposureSettings = { baseDomain: 'node.example.com', kind: 'HTTPRoute', gateway: { namespace: 'gw', name: 'public' } };
    const [route] = buildExposureRoutes(context({ exposure }), { expose: 8000 }, { mode: 'public' });
    const httpRoute = route?.route as HttpRoute;
    assert.equal(httpRoute.apiVersion, 'gateway.networking.k8s.io/v1');
    assert.equal(httpRoute.kind, 'HTTPRoute');
    assert.deepEqual(httpRoute.spec.parentRefs, [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'gw', name: 'public' }]);
    assert.deepEqual(httpRoute.spec.hostnames, [hostOf(JOB, 8000)]);
    assert.deepEqual(httpRoute.spec.rules[0]?.backendRefs, [{ name: opServiceName(JOB, 1), port: 8000 }]);
  });

  test('HTTPRoute without a Gateway in settings is a configuration error', () => {
    assert.throws(
      () => buildExposureRoutes(context({ exposure: { baseDomain: 'd', kind: 'HTTPRoute' } }), { expose: 80 }, { mode: 'public' }),
      /gateway/,
    );
  });

  test('private: hosts come from the caller’s seed, never from the job address', () => {
    const routes = buildExposureRoutes(context(), { expose: 80, private: true }, { mode: 'private', seed: 'random-seed-1' });
    assert.equal(routes[0]?.host, hostOf('random-seed-1', 80));
    assert.notEqual(routes[0]?.host, hostOf(JOB, 80));
  });

  test('a private op asked for public hosts is refused', () => {
    assert.throws(() => buildExposureRoutes(context(), { expose: 80, private: true }, { mode: 'public' }), /private/);
  });

  test('no exposure settings: no routes', () => {
    const { exposure: _none, ...unexposed } = SETTINGS;
    assert.deepEqual(buildExposureRoutes({ ...context(), settings: unexposed }, { expose: 80 }, { mode: 'public' }), []);
  });
});

describe('health checks → probes (§2.9)', () => {
  const expose = (checks: HealthCheck[], port = 8000): Pick<ContainerRunArgs, 'expose'> => ({ expose: [{ port, health_checks: checks }] });

  test('a continuous GET check: startup at the node pace (5 s, never giving up) and readiness every 30 s, unready on one failure', () => {
    const probes = healthCheckProbes(expose([get('/v1/models', true)]));
    assert.deepEqual(probes.startupProbe?.httpGet, { path: '/v1/models', port: 8000, scheme: 'HTTP' });
    assert.equal(probes.startupProbe?.periodSeconds, 5);
    assert.equal(probes.startupProbe?.failureThreshold, STARTUP_FAILURE_THRESHOLD);
    assert.ok((probes.startupProbe?.periodSeconds ?? 0) * STARTUP_FAILURE_THRESHOLD > 30 * 24 * 3600, 'longer than any job runs');
    assert.deepEqual(probes.readinessProbe?.httpGet, { path: '/v1/models', port: 8000, scheme: 'HTTP' });
    assert.equal(probes.readinessProbe?.periodSeconds, 30);
    assert.equal(probes.readinessProbe?.failureThreshold, 1);
    assert.equal(probes.livenessProbe, undefined);
    assert.deepEqual(probes.runnerChecks, []);
  });

  test('a non-continuous check is the startup probe; a continuous one the readiness probe', () => {
    const probes = healthCheckProbes(expose([get('/ready', true), get('/started', false)]));
    assert.equal(probes.startupProbe?.httpGet?.path, '/started');
    assert.equal(probes.readinessProbe?.httpGet?.path, '/ready');
  });

  test('only a non-continuous check: startup probe only', () => {
    const probes = healthCheckProbes(expose([get('/started', false)]));
    assert.equal(probes.startupProbe?.httpGet?.path, '/started');
    assert.equal(probes.readinessProbe, undefined);
  });

  test('restart_on_failure: a liveness probe restarting on one failure, and max_restarts for the runner', () => {
    const probes = healthCheckProbes(expose([get('/health', true, { restart_on_failure: true, max_restarts: 2 })]));
    assert.equal(probes.livenessProbe?.httpGet?.path, '/health');
    assert.equal(probes.livenessProbe?.failureThreshold, 1);
    assert.equal(probes.maxRestarts, 2);
  });

  test('headers are sent by the probe', () => {
    const probes = healthCheckProbes(expose([get('/', true, { headers: { Authorization: 'Bearer x', 'X-Probe': '1' } })]));
    assert.deepEqual(probes.readinessProbe?.httpGet?.httpHeaders, [
      { name: 'Authorization', value: 'Bearer x' },
      { name: 'X-Probe', value: '1' },
    ]);
  });

  const runnerRows: { reason: string; check: HealthCheck; because: RegExp }[] = [
    {
      reason: 'a POST check (with a body, as the vLLM templates send)',
      check: get('/v1/chat/completions', false, { method: 'POST', body: '{}' }),
      because: /POST/,
    },
    { reason: 'a GET with a body', check: get('/', false, { body: 'x' }), because: /body/ },
    { reason: 'expected_status outside 200–399', check: get('/', true, { expected_status: 404 }), because: /404/ },
    {
      reason: 'an informational expected_status (101 Switching Protocols)',
      check: get('/', true, { expected_status: 101 }),
      because: /101/,
    },
    { reason: 'a websocket check', check: { type: 'websocket', expected_response: 'pong', continuous: false }, because: /websocket/ },
    { reason: 'a header name a probe cannot send', check: get('/', true, { headers: { 'Bad Header': 'x' } }), because: /header/ },
    { reason: 'a path without a leading slash', check: get('health', true), because: /path/ },
  ];
  for (const { reason, check, because } of runnerRows) {
    test(`left to the runner: ${reason}`, () => {
      const probes = healthCheckProbes(expose([check]));
      assert.equal(probes.startupProbe, undefined);
      assert.equal(probes.readinessProbe, undefined);
      assert.equal(probes.runnerChecks.length, 1);
      assert.equal(probes.runnerChecks[0]?.port, 8000);
      assert.deepEqual(probes.runnerChecks[0]?.check, check);
      assert.match(probes.runnerChecks[0]?.reason ?? '', because);
    });
  }

  test('expected_status 2xx and 3xx are probes (a probe passes on 200–399)', () => {
    for (const status of [200, 204, 301, 399]) {
      assert.notEqual(healthCheckProbes(expose([get('/', true, { expected_status: status })])).readinessProbe, undefined, String(status));
    }
  });

  test('a container has one probe of each kind: further checks go to the runner', () => {
    const probes = healthCheckProbes({
      expose: [
        { port: 3000, health_checks: [get('/a', true)] },
        { port: 2333, health_checks: [get('/b', true)] },
      ],
    });
    assert.equal(probes.readinessProbe?.httpGet?.port, 3000);
    assert.deepEqual(
      probes.runnerChecks.map(({ port, check }) => [port, check.type === 'http' ? check.path : '']),
      [[2333, '/b']],
    );
  });

  test('a probe-able check behind one that is not still becomes the probe', () => {
    const post = get('/v1/chat/completions', false, { method: 'POST' });
    const probes = healthCheckProbes(expose([post, get('/health', true)]));
    assert.equal(probes.startupProbe?.httpGet?.path, '/health');
    assert.deepEqual(
      probes.runnerChecks.map(({ check }) => check),
      [post],
    );
  });

  test('no health checks: no probes (ready once running, as the operator should treat the node’s gap, §2.2)', () => {
    assert.deepEqual(healthCheckProbes({ expose: 80 }), { runnerChecks: [] });
  });
});
