// A NosanaDeployment's replicas as the decision sees them: how a replica NosanaJob is rendered
// from the template (what the deployment owns and a template may not set), how one reads back,
// what its probed endpoints say, and the crash-loop fail-safe that counts replicas ending too soon.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nosanaDeploymentSpec } from '../../../src/api/crds/nosana-deployment.ts';
import type { DeploymentEndpoint, NosanaDeploymentObject, NosanaDeploymentStatus } from '../../../src/api/crds/nosana-deployment.ts';
import type { NosanaJobObject, NosanaJobStatus } from '../../../src/api/crds/nosana-job.ts';
import { viewEndpoints } from '../../../src/controllers/nosana-deployment/endpoints.ts';
import type { EndpointProbe } from '../../../src/controllers/nosana-deployment/endpoints.ts';
import {
  RESET_FAILURES_ANNOTATION,
  countFailures,
  isRapidFailure,
  nextPostAt,
} from '../../../src/controllers/nosana-deployment/fail-safe.ts';
import {
  DEPLOYMENT_LABEL,
  REPLICA_NUMBER_LABEL,
  REVISION_LABEL,
  ROUND_LABEL,
  highestReplicaNumber,
  isReplicaOf,
  renderReplica,
  replicaName,
  selectorOf,
  templateRevision,
  viewReplica,
} from '../../../src/controllers/nosana-deployment/replicas.ts';
import type { ReplicaView } from '../../../src/controllers/nosana-deployment/replicas.ts';
import { nosanaJobSpec } from '../../../src/api/crds/nosana-job.ts';

const DEFINITION = { version: '0.1', type: 'container', ops: [{ id: 'web', type: 'container/run', args: { image: 'nginx', expose: 80 } }] };
const now = new Date('2026-06-01T12:00:00Z');
const minutesAgo = (minutes: number): Date => new Date(now.getTime() - minutes * 60_000);
const iso = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

function deployment(template: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): NosanaDeploymentObject {
  return {
    apiVersion: 'nosana.io/v1alpha1',
    kind: 'NosanaDeployment',
    metadata: { namespace: 'team-a', name: 'web', uid: 'uid-web' },
    spec: nosanaDeploymentSpec.parse({ template: { metadata, spec: { market: 'gpu', definition: DEFINITION, ...template } } }),
  };
}

describe('templateRevision', () => {
  test('the same content in another key order is the same revision; any change of content is another', () => {
    const a = deployment({ timeout: '1h', maxCost: 2 }, { labels: { tier: 'web', team: 'a' } }).spec.template;
    const reordered = {
      spec: { maxCost: 2, timeout: '1h', ...a.spec },
      metadata: { labels: { team: 'a', tier: 'web' } },
    };
    const revision = templateRevision(a);
    assert.match(revision, /^[0-9a-f]{10}$/, 'short enough for a name and a label value');
    assert.equal(templateRevision(reordered), revision);
    const changes = [
      deployment({ timeout: '2h', maxCost: 2 }, { labels: { tier: 'web', team: 'a' } }).spec.template,
      deployment({ timeout: '1h', maxCost: 2 }, { labels: { tier: 'web', team: 'b' } }).spec.template,
      deployment({ timeout: '1h', maxCost: 2 }, { labels: { tier: 'web', team: 'a' }, annotations: { restartedAt: 'now' } }).spec.template,
    ];
    for (const changed of changes) assert.notEqual(templateRevision(changed), revision, JSON.stringify(changed));
  });

  test('replica names and the selector', () => {
    assert.equal(replicaName('web', 'abcdef0123', 7), 'web-abcdef0123-7');
    assert.equal(selectorOf('web'), 'nosana.io/deployment=web');
  });
});

describe('renderReplica', () => {
  const plan = { name: 'web-abcdef0123-7', number: 7, revision: 'abcdef0123', timeoutSeconds: 3600n };

  test('owned by the deployment as its controller, labelled with deployment, revision and number', () => {
    const job = renderReplica(deployment({}, { labels: { tier: 'web' } }), plan);
    assert.equal(job.apiVersion, 'nosana.io/v1alpha1');
    assert.equal(job.kind, 'NosanaJob');
    assert.equal(job.metadata?.name, 'web-abcdef0123-7');
    assert.equal(job.metadata?.namespace, 'team-a');
    assert.deepEqual(job.metadata?.ownerReferences, [
      {
        apiVersion: 'nosana.io/v1alpha1',
        kind: 'NosanaDeployment',
        name: 'web',
        uid: 'uid-web',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.deepEqual(job.metadata?.labels, {
      tier: 'web',
      [DEPLOYMENT_LABEL]: 'web',
      [REVISION_LABEL]: 'abcdef0123',
      [REPLICA_NUMBER_LABEL]: '7',
    });
    assert.equal(job.metadata?.annotations, undefined);
  });

  test("a scheduled replica carries its round; a template's labels cannot claim another deployment or number", () => {
    const labels = { [DEPLOYMENT_LABEL]: 'other', [REVISION_LABEL]: 'forged', [REPLICA_NUMBER_LABEL]: '1' };
    const job = renderReplica(deployment({}, { labels }), { ...plan, round: 1_780_000_000 });
    assert.deepEqual(job.metadata?.labels, {
      [DEPLOYMENT_LABEL]: 'web',
      [REVISION_LABEL]: 'abcdef0123',
      [REPLICA_NUMBER_LABEL]: '7',
      [ROUND_LABEL]: '1780000000',
    });
  });

  test("the operator's own annotations are stripped from the template (they would say the job was posted already)", () => {
    const annotations = {
      'nosana.io/job-address': 'Job1111111111111111111111111111111111111111',
      'nosana.io/pending-post': '{}',
      'nosana.io/confirm-post': 'not-landed',
      'example.com/nosana.io': 'kept',
      'team.nosana.io/owner': 'kept too: not the operator prefix',
      note: 'kept',
    };
    const job = renderReplica(deployment({}, { annotations }), plan);
    assert.deepEqual(job.metadata?.annotations, {
      'example.com/nosana.io': 'kept',
      'team.nosana.io/owner': 'kept too: not the operator prefix',
      note: 'kept',
    });
  });

  test('the spec is the template with no retries, cancel on deletion and an explicit timeout', () => {
    const template = { timeout: '30m', queueTimeout: '2h', node: 'Node111111111111111111111111111111111111111' };
    const job = renderReplica(deployment(template), plan);
    assert.deepEqual(job.spec, {
      ...deployment(template).spec.template.spec,
      timeout: 3600,
      deletionPolicy: 'Cancel',
      retries: 0,
    });
    assert.equal(nosanaJobSpec.safeParse(job.spec).success, true, 'a valid NosanaJob spec');
  });

  test("maxCost is the planned reservation when there is one; otherwise the template's own, if any", () => {
    assert.equal(renderReplica(deployment({ maxCost: 5 }), { ...plan, maxCostBaseUnits: 1_250_000n }).spec.maxCost, '1.25');
    assert.equal(renderReplica(deployment(), { ...plan, maxCostBaseUnits: 3_000_000n }).spec.maxCost, '3');
    assert.equal(renderReplica(deployment({ maxCost: 5 }), plan).spec.maxCost, 5);
    assert.equal('maxCost' in renderReplica(deployment(), plan).spec, false);
  });
});

// ---- reading a replica back ---------------------------------------------------------------------

function replicaJob(
  status: NosanaJobStatus | undefined,
  fields: { ready?: [string, string]; stalled?: boolean; timeout?: string | number } = {},
): NosanaJobObject {
  const job = renderReplica(deployment(fields.timeout === undefined ? {} : { timeout: fields.timeout }), {
    name: 'web-abcdef0123-7',
    number: 7,
    revision: 'abcdef0123',
    timeoutSeconds: 3600n,
  });
  const conditions = [
    ...(fields.ready === undefined
      ? []
      : [
          {
            type: 'Ready',
            status: 'False' as const,
            reason: fields.ready[1],
            message: `it is ${fields.ready[0]}`,
            lastTransitionTime: iso(now),
          },
        ]),
    ...(fields.stalled === true
      ? [{ type: 'Stalled', status: 'True' as const, reason: 'OverBudget', message: 'stalled', lastTransitionTime: iso(now) }]
      : []),
  ];
  return {
    ...job,
    metadata: { ...job.metadata, uid: 'uid-job', creationTimestamp: minutesAgo(90) },
    ...(fields.timeout === undefined ? {} : { spec: { ...job.spec, timeout: fields.timeout } }),
    ...(status === undefined ? {} : { status: { ...status, conditions } }),
  };
}

describe('viewReplica', () => {
  test('a running replica: its number, revision, start, paid end and service URLs', () => {
    const serviceUrls = [{ op: 'web', port: 80, url: 'https://abc.node.k8s.example' }];
    const view = viewReplica(
      replicaJob(
        { phase: 'Running', timeStart: iso(minutesAgo(30)), costBaseUnits: '1234', serviceUrls },
        { ready: ['Running', 'ServiceRunning'] },
      ),
    );
    assert.deepEqual(view, {
      name: 'web-abcdef0123-7',
      uid: 'uid-job',
      number: 7,
      revision: 'abcdef0123',
      createdAt: minutesAgo(90),
      deleting: false,
      phase: 'Running',
      reason: 'ServiceRunning',
      message: 'it is Running',
      ended: false,
      succeeded: false,
      stalled: false,
      running: true,
      startedAt: minutesAgo(30),
      endsAt: new Date(minutesAgo(30).getTime() + 3_600_000),
      timeoutSeconds: 3600n,
      costBaseUnits: 1234n,
      serviceUrls,
    } satisfies ReplicaView);
  });

  const phases: { reason: string; phase: NosanaJobStatus['phase']; ready: [string, string]; want: Partial<ReplicaView> }[] = [
    {
      reason: 'succeeded: ended, not running',
      phase: 'Succeeded',
      ready: ['Succeeded', 'Succeeded'],
      want: { ended: true, succeeded: true, running: false },
    },
    {
      reason: 'an op failed: ended',
      phase: 'Failed',
      ready: ['Failed', 'OpFailed'],
      want: { ended: true, succeeded: false, running: false },
    },
    {
      reason: 'cancelled: ended',
      phase: 'Stopped',
      ready: ['Stopped', 'Cancelled'],
      want: { ended: true, succeeded: false, running: false },
    },
    { reason: 'its node quit: ended', phase: 'Stopped', ready: ['Stopped', 'NodeQuit'], want: { ended: true, running: false } },
    { reason: 'queued: neither running nor ended', phase: 'Queued', ready: ['Queued', 'Queued'], want: { ended: false, running: false } },
  ];
  for (const { reason, phase, ready, want } of phases) {
    test(`phase ${phase}, reason ${ready[1]}: ${reason}`, () => {
      const view = viewReplica(replicaJob({ phase, timeStart: iso(minutesAgo(30)), timeEnd: iso(minutesAgo(5)) }, { ready }));
      for (const [field, value] of Object.entries(want)) assert.equal(view[field as keyof ReplicaView], value, field);
      assert.deepEqual(view.endedAt, minutesAgo(5));
    });
  }

  test('a replica waiting for a change of its spec is stalled; one with no status has not started', () => {
    assert.equal(viewReplica(replicaJob({ phase: 'Pending' }, { ready: ['Pending', 'OverBudget'], stalled: true })).stalled, true);
    const fresh = viewReplica(replicaJob(undefined));
    assert.equal(fresh.ended, false);
    assert.equal(fresh.running, false);
    assert.equal(fresh.startedAt, undefined);
    assert.equal(fresh.endsAt, undefined);
    assert.deepEqual(fresh.serviceUrls, []);
  });

  test('a duration timeout is read in seconds; an unreadable one leaves the end unknown', () => {
    const started = { phase: 'Running' as const, timeStart: iso(minutesAgo(10)) };
    assert.deepEqual(
      viewReplica(replicaJob(started, { ready: ['Running', 'Running'], timeout: '1h30m' })).endsAt,
      new Date(minutesAgo(10).getTime() + 5_400_000),
    );
    const unreadable = viewReplica(replicaJob(started, { ready: ['Running', 'Running'], timeout: 'whenever' }));
    assert.equal(unreadable.timeoutSeconds, undefined);
    assert.equal(unreadable.endsAt, undefined);
  });

  test('the round comes from its label; a label that is no number is no round', () => {
    const job = replicaJob(undefined);
    const labelled = (round: string) =>
      viewReplica({ ...job, metadata: { ...job.metadata, labels: { ...job.metadata?.labels, [ROUND_LABEL]: round } } });
    assert.equal(labelled('1780000000').round, 1_780_000_000);
    assert.equal('round' in labelled('soon'), false);
    assert.equal('round' in viewReplica(job), false);
  });

  test('a replica being deleted says so', () => {
    const job = replicaJob(undefined);
    assert.equal(viewReplica({ ...job, metadata: { ...job.metadata, deletionTimestamp: now } }).deleting, true);
  });
});

describe('isReplicaOf', () => {
  const owner = deployment();
  const job = replicaJob(undefined);
  const withOwners = (ownerReferences: NonNullable<NonNullable<NosanaJobObject['metadata']>['ownerReferences']>) => ({
    ...job,
    metadata: { ...job.metadata, ownerReferences },
  });
  const reference = { apiVersion: 'nosana.io/v1alpha1', kind: 'NosanaDeployment', name: 'web', uid: 'uid-web', controller: true };

  test('its controller owner reference names the deployment by uid', () => assert.equal(isReplicaOf(withOwners([reference]), owner), true));
  test('not when the reference is no controller', () =>
    assert.equal(isReplicaOf(withOwners([{ ...reference, controller: false }]), owner), false));
  test('not for an earlier deployment of the same name (another uid)', () =>
    assert.equal(isReplicaOf(withOwners([{ ...reference, uid: 'uid-old' }]), owner), false));
  test('not for another kind with that uid', () =>
    assert.equal(isReplicaOf(withOwners([{ ...reference, kind: 'ReplicaSet' }]), owner), false));
  test('not by its labels alone', () => assert.equal(isReplicaOf(withOwners([]), owner), false));
  test('not a NosanaJob adopting a job (spec.jobAddress), whatever owner it claims: a replica always posts its own', () =>
    assert.equal(
      isReplicaOf({ ...withOwners([reference]), spec: { ...job.spec, jobAddress: '11111111111111111111111111111111' } }, owner),
      false,
    ));
});

describe('highestReplicaNumber', () => {
  const named = (name: string) => ({ ...replicaJob(undefined), metadata: { name, namespace: 'team-a' } });
  test('the highest number among NosanaJobs named like the deployment’s replicas, owned or not', () =>
    assert.equal(highestReplicaNumber([named('web-0123456789-3'), named('web-abcdef0123-12'), named('web-0123456789-7')], 'web'), 12));
  test('not another deployment’s whose name starts alike, nor other names', () =>
    assert.equal(
      highestReplicaNumber(
        [named('web-api-0123456789-40'), named('web-0123456789-40-x'), named('web-logs'), named('webx-0123456789-9')],
        'web',
      ),
      undefined,
    ));
});

// ---- endpoints ---------------------------------------------------------------------------------

function running(name: string, ports: number[], fields: Partial<ReplicaView> = {}): ReplicaView {
  return {
    name,
    uid: `uid-${name}`,
    number: 1,
    revision: 'abcdef0123',
    createdAt: minutesAgo(60),
    deleting: false,
    ended: false,
    succeeded: false,
    stalled: false,
    running: true,
    startedAt: minutesAgo(50),
    serviceUrls: ports.map((port) => ({ op: 'web', port, url: `https://${name}-${port}.node.example` })),
    ...fields,
  };
}

const probe = (replica: string, port: number, ok: boolean): EndpointProbe => ({
  replica,
  op: 'web',
  port,
  url: `https://${replica}-${port}.node.example`,
  ok,
  detail: ok ? 'GET /health: answered 200' : 'GET /health: answered 503, expected 200',
});

describe('viewEndpoints', () => {
  const MINUTE = 60_000;

  test('ready: running and passing every probe made; a port without health checks counts as passing', () => {
    const live = [running('a', [80, 81]), running('b', [80, 81]), running('c', [80]), running('q', [80], { running: false })];
    const view = viewEndpoints(
      live,
      [probe('a', 80, true), probe('a', 81, true), probe('b', 80, true), probe('b', 81, false)],
      undefined,
      MINUTE,
      now,
    );
    assert.deepEqual([...view.ready].sort(), ['a', 'c']);
    assert.deepEqual(
      view.endpoints.map(({ replica, port, ready }) => `${replica}/${port}:${ready}`),
      ['a/80:true', 'a/81:true', 'b/80:true', 'b/81:false', 'c/80:true', 'q/80:false'],
    );
    assert.equal(view.endpoints[3]?.lastProbe, 'GET /health: answered 503, expected 200');
    assert.equal(view.endpoints[3]?.failingSince, iso(now));
    assert.deepEqual(view.unreachable, []);
    assert.deepEqual(view.nextUnreachableAt, new Date(now.getTime() + MINUTE));
  });

  test('failingSince is kept across looks; once it is unreachableAfter old the replica is unreachable; a pass clears it', () => {
    const live = [running('a', [80]), running('b', [80])];
    const first = viewEndpoints(live, [probe('a', 80, false), probe('b', 80, true)], undefined, 5 * MINUTE, minutesAgo(6));
    const previous: DeploymentEndpoint[] = first.endpoints;
    const soon = viewEndpoints(live, [probe('a', 80, false), probe('b', 80, true)], previous, 5 * MINUTE, minutesAgo(2));
    assert.equal(soon.endpoints[0]?.failingSince, iso(minutesAgo(6)));
    assert.deepEqual(soon.unreachable, []);
    assert.deepEqual(soon.nextUnreachableAt, minutesAgo(1));
    const late = viewEndpoints(live, [probe('a', 80, false), probe('b', 80, true)], soon.endpoints, 5 * MINUTE, now);
    assert.deepEqual(
      late.unreachable.map(({ replica, endpoint }) => [replica, endpoint.port, endpoint.failingSince]),
      [['a', 80, iso(minutesAgo(6))]],
    );
    assert.equal(late.nextUnreachableAt, undefined);
    const recovered = viewEndpoints(live, [probe('a', 80, true), probe('b', 80, true)], late.endpoints, 5 * MINUTE, now);
    assert.equal(recovered.endpoints[0]?.failingSince, undefined);
    const failingAgain = viewEndpoints(live, [probe('a', 80, false), probe('b', 80, true)], recovered.endpoints, 5 * MINUTE, now);
    assert.equal(failingAgain.endpoints[0]?.failingSince, iso(now), 'a new failure counts from now');
  });

  test('allFailing only when two or more probed replicas all fail', () => {
    const two = [running('a', [80]), running('b', [80])];
    assert.equal(viewEndpoints(two, [probe('a', 80, false), probe('b', 80, false)], undefined, MINUTE, now).allFailing, true);
    assert.equal(viewEndpoints(two, [probe('a', 80, false), probe('b', 80, true)], undefined, MINUTE, now).allFailing, false);
    assert.equal(
      viewEndpoints(two.slice(0, 1), [probe('a', 80, false)], undefined, MINUTE, now).allFailing,
      false,
      'one replica proves nothing',
    );
    const oneProbed = [running('a', [80]), running('b', [80], { running: false })];
    assert.equal(
      viewEndpoints(oneProbed, [probe('a', 80, false), probe('b', 80, false)], undefined, MINUTE, now).allFailing,
      false,
      'a replica not running is not probed',
    );
    assert.equal(viewEndpoints(two, [], undefined, MINUTE, now).allFailing, false);
  });
});

// ---- the fail-safe -----------------------------------------------------------------------------

function ended(name: string, number: number, lived: number, fields: Partial<ReplicaView> = {}): ReplicaView {
  const endedAt = minutesAgo(number);
  return running(name, [], {
    number,
    createdAt: new Date(endedAt.getTime() - lived * 60_000),
    running: false,
    ended: true,
    endedAt,
    phase: 'Stopped',
    ...fields,
  });
}

describe('the fail-safe', () => {
  const settings = { mode: 'Continuous' as const, rapidFailureWindowMs: 5 * 60_000 };
  const none: NosanaDeploymentStatus = {};

  test('replicas ending within the window count, in order; one that ran longer resets the count', () => {
    const replicas = [ended('r3', 3, 1), ended('r2', 2, 4), ended('r1', 1, 30), ended('r4', 4, 2)];
    const state = countFailures(none, replicas, new Set(), settings, undefined, now);
    // By number: r1 (30 min, resets), r2 (rapid), r3 (rapid), r4 (rapid).
    assert.equal(state.rapidFailures, 3);
    assert.deepEqual(
      state.newlyFailed.map((replica) => replica.name),
      ['r2', 'r3', 'r4'],
    );
    assert.equal(state.lastRapidFailure, iso(minutesAgo(4)));
    assert.deepEqual([...state.countedEnded].sort(), ['r1', 'r2', 'r3', 'r4']);
    const rapidThenLong = countFailures(none, [ended('r1', 1, 1), ended('r2', 2, 30)], new Set(), settings, undefined, now);
    assert.equal(rapidThenLong.rapidFailures, 0);
    assert.equal(rapidThenLong.lastRapidFailure, undefined);
  });

  test('a replica counted once is not counted again; one the deployment is deleting is never a failure', () => {
    const replicas = [ended('r1', 1, 1)];
    const first = countFailures(none, replicas, new Set(), settings, undefined, now);
    const again = countFailures(
      { rapidFailures: first.rapidFailures, lastRapidFailure: first.lastRapidFailure, countedEnded: first.countedEnded },
      replicas,
      new Set(),
      settings,
      undefined,
      now,
    );
    assert.equal(again.rapidFailures, 1);
    assert.deepEqual(again.newlyFailed, []);
    const removed = countFailures(none, [ended('r1', 1, 1, { deleting: true })], new Set(), settings, undefined, now);
    assert.equal(removed.rapidFailures, 0);
    assert.deepEqual(removed.countedEnded, []);
  });

  test('a quick success is a failure for a service, not for a run-once or scheduled job', () => {
    const quick = ended('r1', 1, 1, { succeeded: true, phase: 'Succeeded' });
    assert.equal(isRapidFailure(quick, 'Continuous', settings.rapidFailureWindowMs, now), true);
    assert.equal(isRapidFailure(quick, 'Extend', settings.rapidFailureWindowMs, now), true);
    assert.equal(isRapidFailure(quick, 'Once', settings.rapidFailureWindowMs, now), false);
    assert.equal(isRapidFailure(quick, 'Scheduled', settings.rapidFailureWindowMs, now), false);
    assert.equal(isRapidFailure(ended('r2', 1, 1, { succeeded: false }), 'Once', settings.rapidFailureWindowMs, now), true);
  });

  test('a replica ready for a whole window clears the count; one ready for less does not', () => {
    const previous: NosanaDeploymentStatus = { rapidFailures: 4, lastRapidFailure: iso(minutesAgo(20)), countedEnded: [] };
    const up = (minutes: number) => running('up', [80], { startedAt: minutesAgo(minutes) });
    assert.equal(countFailures(previous, [up(6)], new Set(['up']), settings, undefined, now).rapidFailures, 0);
    assert.equal(countFailures(previous, [up(4)], new Set(['up']), settings, undefined, now).rapidFailures, 4);
    assert.equal(
      countFailures(previous, [up(6)], new Set(), settings, undefined, now).rapidFailures,
      4,
      'running but not ready proves nothing',
    );
  });

  test(`the ${RESET_FAILURES_ANNOTATION} annotation clears the count once per new value`, () => {
    const previous: NosanaDeploymentStatus = { rapidFailures: 8, lastRapidFailure: iso(minutesAgo(1)), countedEnded: ['r1'] };
    const reset = countFailures(previous, [ended('r1', 1, 1)], new Set(), settings, 'one', now);
    assert.equal(reset.rapidFailures, 0);
    assert.equal(reset.failuresResetBy, 'one');
    assert.equal(reset.lastRapidFailure, undefined);
    const sameToken = countFailures({ ...previous, failuresResetBy: 'one' }, [ended('r1', 1, 1)], new Set(), settings, 'one', now);
    assert.equal(sameToken.rapidFailures, 8, 'a value acted on already resets nothing');
    const counting = countFailures(
      { rapidFailures: 0, failuresResetBy: 'one', countedEnded: ['r1'] },
      [ended('r1', 1, 1), ended('r2', 2, 1)],
      new Set(),
      settings,
      'one',
      now,
    );
    assert.equal(counting.rapidFailures, 1, 'counting starts again after a reset');
  });

  test('the wait after rapid failures doubles from initialBackoff up to maxBackoff', () => {
    const backoff = { initialBackoffMs: 30_000, maxBackoffMs: 3_600_000 };
    const last = iso(now);
    const wait = (rapidFailures: number) => {
      const at = nextPostAt({ rapidFailures, lastRapidFailure: last }, backoff);
      return at === undefined ? undefined : at.getTime() - now.getTime();
    };
    assert.equal(wait(0), undefined);
    assert.deepEqual([1, 2, 3, 4, 8].map(wait), [30_000, 60_000, 120_000, 240_000, 3_600_000]);
    assert.equal(wait(1_000), 3_600_000, 'capped, however many');
    assert.equal(nextPostAt({ rapidFailures: 3 }, backoff), undefined, 'no time to count from');
  });
});
