// The NosanaDeployment's pure parts that turn what a person wrote into numbers the decision
// trusts: the spec's settings (defaults, Deployment-style rounding, cron and time zone), the
// budget's rolling day and its ledger, and the terms of a replica (timeout and reservation) read
// from the template and its NosanaMarket. Every refusal must name the field to fix.
import assert from 'node:assert/strict';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { describe, test } from 'node:test';
import { nosanaDeploymentSpec } from '../../../src/api/crds/nosana-deployment.ts';
import type { NosanaDeploymentObject } from '../../../src/api/crds/nosana-deployment.ts';
import { nosanaMarketSpec } from '../../../src/api/crds/nosana-market.ts';
import type { NosanaMarketObject } from '../../../src/api/crds/nosana-market.ts';
import {
  BUDGET_LEDGER_LABEL,
  budgetLedgerName,
  budgetLedgerObject,
  entriesOf,
  extensionKey,
  fitsAt,
  parseBudgetLedger,
  spentInWindow,
} from '../../../src/controllers/nosana-deployment/budget.ts';
import {
  probeReplicas,
  readBudget,
  replicaTerms,
  MAX_CHECKS_PER_PORT,
  MAX_PROBED_ENDPOINTS,
} from '../../../src/controllers/nosana-deployment/read.ts';
import { SpecError, deploymentSettings } from '../../../src/controllers/nosana-deployment/settings.ts';
import type { DeploymentSettings } from '../../../src/controllers/nosana-deployment/settings.ts';
import { SPEND_LEDGER_DATA_KEY } from '../../../src/controllers/nosana-job/spend-ledger.ts';
import type { LedgerEntry } from '../../../src/controllers/nosana-job/spend-ledger.ts';
import type { ObjectCache, ObjectKey } from '../../../src/runtime/types.ts';

const DEFINITION = { version: '0.1', type: 'container', ops: [] };
const NOS = 1_000_000n;
const now = new Date('2026-06-01T12:00:00Z');
const hoursAgo = (hours: number): Date => new Date(now.getTime() - hours * 3_600_000);
const hoursLater = (hours: number): Date => new Date(now.getTime() + hours * 3_600_000);

/** A spec as the API server stores it: what was written, with the schema's defaults applied. */
function spec(fields: Record<string, unknown> = {}, template: Record<string, unknown> = {}) {
  return nosanaDeploymentSpec.parse({ template: { spec: { market: 'gpu', definition: DEFINITION, ...template } }, ...fields });
}

function deployment(
  fields: Record<string, unknown> = {},
  template: Record<string, unknown> = {},
  namespace = 'team-a',
): NosanaDeploymentObject {
  return {
    apiVersion: 'nosana.io/v1alpha1',
    kind: 'NosanaDeployment',
    metadata: { namespace, name: 'web', uid: 'uid-web' },
    spec: spec(fields, template),
  };
}

describe('deploymentSettings', () => {
  test('the least spec: one replica, surge 1, none unavailable, Continuous, and every documented default', () => {
    assert.deepEqual(deploymentSettings(spec()), {
      replicas: 1,
      mode: 'Continuous',
      recreate: false,
      maxSurge: 1,
      maxUnavailable: 0,
      rotateBeforeMs: 10 * 60_000,
      extendBySeconds: 3600n,
      unreachableAfterMs: 60_000,
      probeIntervalMs: 10_000,
      maxReplacementsPerHour: 6,
      rapidFailureWindowMs: 5 * 60_000,
      initialBackoffMs: 30_000,
      maxBackoffMs: 3_600_000,
      maxRapidFailures: 8,
      endpointsConfigMap: false,
      paused: false,
      revisionHistoryLimit: 3,
    } satisfies DeploymentSettings);
  });

  const strategies: {
    reason: string;
    replicas: number;
    strategy: Record<string, unknown>;
    want: { maxSurge: number; maxUnavailable: number };
  }[] = [
    {
      reason: 'numbers are taken as they are',
      replicas: 4,
      strategy: { rollingUpdate: { maxSurge: 2, maxUnavailable: 1 } },
      want: { maxSurge: 2, maxUnavailable: 1 },
    },
    {
      reason: 'a surge percentage rounds up',
      replicas: 3,
      strategy: { rollingUpdate: { maxSurge: '10%' } },
      want: { maxSurge: 1, maxUnavailable: 0 },
    },
    {
      reason: 'an unavailability percentage rounds down',
      replicas: 3,
      strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: '50%' } },
      want: { maxSurge: 0, maxUnavailable: 1 },
    },
    {
      reason: 'percentages of 10 replicas',
      replicas: 10,
      strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      want: { maxSurge: 3, maxUnavailable: 2 },
    },
    {
      reason: 'unavailability is at most every replica',
      replicas: 2,
      strategy: { rollingUpdate: { maxUnavailable: 5 } },
      want: { maxSurge: 1, maxUnavailable: 2 },
    },
    {
      reason: 'Recreate: no surge, every replica may be down, whatever rollingUpdate says',
      replicas: 3,
      strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } },
      want: { maxSurge: 0, maxUnavailable: 3 },
    },
    {
      reason: 'both 0 with no replica is harmless',
      replicas: 0,
      strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } },
      want: { maxSurge: 0, maxUnavailable: 0 },
    },
  ];
  for (const { reason, replicas, strategy, want } of strategies) {
    test(`surge and unavailability: ${reason}`, () => {
      const settings = deploymentSettings(spec({ replicas, strategy }));
      assert.deepEqual({ maxSurge: settings.maxSurge, maxUnavailable: settings.maxUnavailable }, want);
      assert.equal(settings.recreate, strategy.type === 'Recreate');
    });
  }

  const refused: { reason: string; fields: Record<string, unknown>; field: RegExp }[] = [
    {
      reason: 'surge and unavailability both 0',
      fields: { replicas: 2, strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } },
      field: /^spec\.strategy\.rollingUpdate: maxSurge and maxUnavailable cannot both be 0/,
    },
    {
      reason: 'both rounding to 0',
      fields: { replicas: 3, strategy: { rollingUpdate: { maxSurge: '0%', maxUnavailable: '10%' } } },
      field: /^spec\.strategy\.rollingUpdate: maxSurge and maxUnavailable/,
    },
    {
      reason: 'a percentage without its sign',
      fields: { strategy: { rollingUpdate: { maxSurge: '25' } } },
      field: /^spec\.strategy\.rollingUpdate\.maxSurge must be a number or a percentage/,
    },
    {
      reason: 'a fractional percentage',
      fields: { strategy: { rollingUpdate: { maxUnavailable: '12.5%' } } },
      field: /^spec\.strategy\.rollingUpdate\.maxUnavailable must be/,
    },
    { reason: 'a duration without a unit', fields: { rotateBefore: '600' }, field: /^spec\.rotateBefore: "600" is not a duration/ },
    { reason: 'a health duration', fields: { health: { unreachableAfter: 'soon' } }, field: /^spec\.health\.unreachableAfter/ },
    { reason: 'a fail-safe duration', fields: { failSafe: { maxBackoff: '-1h' } }, field: /^spec\.failSafe\.maxBackoff/ },
    { reason: 'a budget with 7 decimals', fields: { budget: '1.0000001' }, field: /^spec\.budget: / },
    { reason: 'a negative budget', fields: { budget: -1 }, field: /^spec\.budget must be a non-negative/ },
  ];
  for (const { reason, fields, field } of refused) {
    test(`refused, naming the field: ${reason}`, () => {
      assert.throws(
        () => deploymentSettings(spec(fields)),
        (error: unknown) => error instanceof SpecError && field.test(error.message),
      );
    });
  }

  test('durations in milliseconds, the extension in whole seconds rounded up, the budget in base units', () => {
    const settings = deploymentSettings(
      spec({
        rotateBefore: '1h30m',
        extendBy: '90.5s',
        budget: '12.5',
        health: { probeInterval: '1500ms' },
        failSafe: { initialBackoff: '2s' },
      }),
    );
    assert.equal(settings.rotateBeforeMs, 5_400_000);
    assert.equal(settings.extendBySeconds, 91n);
    assert.equal(settings.budget, 12_500_000n);
    assert.equal(settings.probeIntervalMs, 1_500);
    assert.equal(settings.initialBackoffMs, 2_000);
    assert.equal(deploymentSettings(spec({ budget: 100 })).budget, 100n * NOS);
    assert.equal('budget' in deploymentSettings(spec()), false, 'no budget unless one is set');
  });

  describe('schedule', () => {
    const scheduled = (schedule: Record<string, unknown>) => spec({ mode: 'Scheduled', schedule });

    test('five fields in the time zone named: 03:00 in Amsterdam is 01:00 UTC in summer, 02:00 in winter', () => {
      const settings = deploymentSettings(
        scheduled({ cron: ' 0 3 * * * ', timeZone: 'Europe/Amsterdam', concurrencyPolicy: 'Replace', startingDeadline: '2m' }),
      );
      const schedule = settings.schedule;
      assert.ok(schedule !== undefined);
      assert.equal(schedule.text, '0 3 * * *');
      assert.equal(schedule.timeZone, 'Europe/Amsterdam');
      assert.equal(schedule.concurrencyPolicy, 'Replace');
      assert.equal(schedule.startingDeadlineMs, 120_000);
      assert.equal(schedule.cron.nextRun(new Date('2026-06-01T00:00:00Z'))?.toISOString(), '2026-06-01T01:00:00.000Z');
      assert.equal(schedule.cron.nextRun(new Date('2026-12-01T00:00:00Z'))?.toISOString(), '2026-12-01T02:00:00.000Z');
    });

    test('a sixth, leading field gives seconds; the macros a CronJob takes are taken', () => {
      const seconds = deploymentSettings(scheduled({ cron: '*/10 * * * * *' })).schedule;
      assert.equal(seconds?.cron.nextRun(new Date('2026-06-01T07:00:01Z'))?.toISOString(), '2026-06-01T07:00:10.000Z');
      const daily = deploymentSettings(scheduled({ cron: '@daily' })).schedule;
      assert.equal(daily?.cron.nextRun(new Date('2026-06-01T07:00:00Z'))?.toISOString(), '2026-06-02T00:00:00.000Z');
    });

    test('UTC when no time zone is named; the starting deadline defaults to 10m', () => {
      const schedule = deploymentSettings(scheduled({ cron: '30 6 * * 1' })).schedule;
      assert.equal(schedule?.timeZone, 'UTC');
      assert.equal(schedule?.startingDeadlineMs, 600_000);
      assert.equal(schedule?.cron.nextRun(new Date('2026-06-01T07:00:00Z'))?.toISOString(), '2026-06-08T06:30:00.000Z', 'the next Monday');
    });

    const bad: { reason: string; schedule: Record<string, unknown>; field: RegExp }[] = [
      { reason: 'seven fields', schedule: { cron: '0 0 3 * * * 2027' }, field: /^spec\.schedule\.cron must have five fields/ },
      { reason: 'four fields', schedule: { cron: '0 3 * *' }, field: /^spec\.schedule\.cron must have five fields/ },
      { reason: 'an unknown macro', schedule: { cron: '@fortnightly' }, field: /^spec\.schedule\.cron must have five fields/ },
      { reason: 'a minute out of range', schedule: { cron: '61 * * * *' }, field: /^spec\.schedule\.cron is not valid: / },
      { reason: 'a word for a day', schedule: { cron: '0 3 * * MON-XYZ' }, field: /^spec\.schedule\.cron is not valid: / },
      {
        reason: 'an unknown time zone',
        schedule: { cron: '0 3 * * *', timeZone: 'Mars/Olympus' },
        field: /^spec\.schedule\.timeZone is not valid: /,
      },
      {
        reason: "an empty time zone (it would mean the operator's own)",
        schedule: { cron: '0 3 * * *', timeZone: '' },
        field: /^spec\.schedule\.timeZone /,
      },
      {
        reason: 'a starting deadline that is no duration',
        schedule: { cron: '0 3 * * *', startingDeadline: 'later' },
        field: /^spec\.schedule\.startingDeadline/,
      },
    ];
    for (const { reason, schedule, field } of bad) {
      test(`refused, naming the field: ${reason}`, () => {
        assert.throws(
          () => deploymentSettings(scheduled(schedule)),
          (error: unknown) => error instanceof SpecError && field.test(error.message),
        );
      });
    }
  });
});

// ---- the budget ---------------------------------------------------------------------------------

const entry = (key: string, amount: bigint, at: Date): LedgerEntry => ({ key, job: key.split('@')[0] ?? key, amount, at });

describe('budget arithmetic', () => {
  test('the window is the last 24 hours: an entry exactly a day old has left it', () => {
    const entries = [
      entry('a', 1n, hoursAgo(25)),
      entry('b', 10n, hoursAgo(24)),
      entry('c', 100n, hoursAgo(23.99)),
      entry('d', 1000n, now),
    ];
    assert.equal(spentInWindow(entries, now), 1100n);
    assert.equal(spentInWindow([], now), 0n);
  });

  const spent = [
    entry('old', 500n, hoursAgo(30)),
    entry('a', 30n, hoursAgo(20)),
    entry('b', 50n, hoursAgo(10)),
    entry('c', 10n, hoursAgo(1)),
  ];
  const cases: { reason: string; amount: bigint; want: Date | undefined | null }[] = [
    { reason: 'what fits now fits at once', amount: 10n, want: undefined },
    { reason: 'when the oldest entry in the window leaves, 30 more fit', amount: 30n, want: hoursLater(4) },
    { reason: 'as many entries as it takes leave, oldest first', amount: 70n, want: hoursLater(14) },
    { reason: 'the whole limit fits once everything has left', amount: 100n, want: hoursLater(23) },
    { reason: 'more than the limit on its own never fits', amount: 101n, want: null },
  ];
  for (const { reason, amount, want } of cases) {
    test(`fitsAt under a limit of 100 with 90 spent: ${reason}`, () => {
      // Order must not matter: the ledger keeps entries in the order they were written.
      assert.deepEqual(fitsAt([...spent].reverse(), amount, 100n, now), want);
    });
  }

  test("a replica's entries are its reservation and its extensions, not another replica's whose name it prefixes", () => {
    const reservation = entry('web-1a2b3c4d5e-1', 5n, hoursAgo(3));
    const extension = entry(extensionKey('web-1a2b3c4d5e-1', 7200n), 2n, hoursAgo(1));
    const other = entry('web-1a2b3c4d5e-10', 5n, hoursAgo(2));
    const othersExtension = entry(extensionKey('web-1a2b3c4d5e-10', 7200n), 2n, hoursAgo(1));
    assert.equal(extension.key, 'web-1a2b3c4d5e-1@extend:7200');
    assert.deepEqual(entriesOf([reservation, other, extension, othersExtension], 'web-1a2b3c4d5e-1'), [reservation, extension]);
  });
});

describe('budget ledger', () => {
  const owner = deployment({ budget: 100 });

  test('a new ledger is created unconditionally, owned by the deployment, in the spend ledger format', () => {
    const reservation = entry('web-1a2b3c4d5e-1', 7n * NOS, hoursAgo(1));
    const configMap = budgetLedgerObject(owner, { entries: [] }, now, { add: reservation });
    assert.equal(configMap.metadata?.name, budgetLedgerName('web'));
    assert.equal(configMap.metadata?.name, 'nosana-budget-web');
    assert.equal(configMap.metadata?.namespace, 'team-a');
    assert.equal(configMap.metadata?.labels?.[BUDGET_LEDGER_LABEL], 'web');
    assert.equal(configMap.metadata?.resourceVersion, undefined, 'a create, not a conditional update');
    assert.deepEqual(configMap.metadata?.ownerReferences, [
      { apiVersion: 'nosana.io/v1alpha1', kind: 'NosanaDeployment', name: 'web', uid: 'uid-web', controller: true },
    ]);
    assert.deepEqual(JSON.parse(configMap.data?.[SPEND_LEDGER_DATA_KEY] ?? ''), [
      { key: 'web-1a2b3c4d5e-1', job: 'web-1a2b3c4d5e-1', amount: '7000000', at: '2026-06-01T11:00:00.000Z' },
    ]);
  });

  test('add, extend and settle round trip through the ConfigMap; each write is conditional on the version read', () => {
    const replica = 'web-1a2b3c4d5e-1';
    const stale = entry('web-1a2b3c4d5e-0', 9n * NOS, hoursAgo(25));
    const neighbour = entry('web-1a2b3c4d5e-10', 7n * NOS, hoursAgo(2));
    const stored = (configMap: ReturnType<typeof budgetLedgerObject>, resourceVersion: string) =>
      parseBudgetLedger({ ...configMap, metadata: { ...configMap.metadata, resourceVersion } });

    const reserved = budgetLedgerObject(owner, { entries: [stale, neighbour], resourceVersion: '10' }, now, {
      add: entry(replica, 7n * NOS, hoursAgo(1)),
    });
    assert.equal(reserved.metadata?.resourceVersion, '10');
    const afterReserve = stored(reserved, '11');
    assert.deepEqual(afterReserve.entries, [neighbour, entry(replica, 7n * NOS, hoursAgo(1))], 'the day-old entry left with the write');

    const again = budgetLedgerObject(owner, afterReserve, now, { add: entry(replica, 7n * NOS, now) });
    assert.deepEqual(stored(again, '12').entries, [neighbour, entry(replica, 7n * NOS, now)], 'an entry written again replaces itself');

    const extension = entry(extensionKey(replica, 7200n), 3n * NOS, now);
    const afterExtend = stored(budgetLedgerObject(owner, afterReserve, now, { add: extension }), '12');
    assert.equal(spentInWindow(afterExtend.entries, now), 17n * NOS);

    const later = hoursLater(2);
    const settled = budgetLedgerObject(owner, afterExtend, later, { settle: { replica, cost: 4n * NOS } });
    assert.equal(settled.metadata?.resourceVersion, '12');
    const afterSettle = stored(settled, '13');
    assert.deepEqual(
      entriesOf(afterSettle.entries, replica).map(({ key, amount }) => ({ key, amount })),
      [{ key: replica, amount: 4n * NOS }],
    );
    assert.deepEqual(entriesOf(afterSettle.entries, 'web-1a2b3c4d5e-10'), [neighbour], "another replica's entry is untouched");
    assert.equal(spentInWindow(afterSettle.entries, later), 11n * NOS, 'the refund came back into the budget');
  });

  test('what a replica cost stays counted until a day after its last payment, never less', () => {
    // Reserved at -20 h, extended at -1 h, ended: the extension's money left an hour ago and must
    // still count 22 hours from now, after the reservation's day is over.
    const replica = 'web-1a2b3c4d5e-1';
    const read = {
      entries: [entry(replica, 10n * NOS, hoursAgo(20)), entry(extensionKey(replica, 7200n), 10n * NOS, hoursAgo(1))],
      resourceVersion: '5',
    };
    const settled = parseBudgetLedger(budgetLedgerObject(owner, read, now, { settle: { replica, cost: 15n * NOS } }));
    assert.equal(spentInWindow(settled.entries, now), 15n * NOS);
    assert.equal(spentInWindow(settled.entries, hoursLater(5)), 15n * NOS, 'the extension paid an hour ago is still in the window');
    assert.equal(spentInWindow(settled.entries, hoursLater(23.5)), 0n);
  });

  test('settling a replica with no entry changes nothing but the window', () => {
    const neighbour = entry('web-1a2b3c4d5e-2', 5n, hoursAgo(2));
    const configMap = budgetLedgerObject(owner, { entries: [neighbour, entry('gone', 5n, hoursAgo(24))] }, now, {
      settle: { replica: 'web-1a2b3c4d5e-1', cost: 1n },
    });
    assert.deepEqual(parseBudgetLedger(configMap).entries, [neighbour]);
  });

  test('an unreadable ledger is an error, never an empty ledger', () => {
    assert.deepEqual(parseBudgetLedger(undefined), { entries: [] });
    assert.throws(
      () => parseBudgetLedger({ metadata: { namespace: 'team-a', name: 'nosana-budget-web' }, data: { [SPEND_LEDGER_DATA_KEY]: '{' } }),
      /team-a\/nosana-budget-web/,
    );
  });
});

// ---- the terms of a replica ------------------------------------------------------------------

/** An informer cache holding `objects`, keyed by namespace and name. */
function cacheOf<T extends NosanaMarketObject>(objects: T[]): ObjectCache<T> {
  const matches = (object: T, key: ObjectKey) => object.metadata?.namespace === key.namespace && object.metadata?.name === key.name;
  return {
    get: (key) => objects.find((object) => matches(object, key)),
    list: (namespace) => objects.filter((object) => namespace === undefined || object.metadata?.namespace === namespace),
    hasSynced: () => true,
  };
}

function market(
  namespace: string,
  name: string,
  network: 'mainnet' | 'localnet',
  status?: NosanaMarketObject['status'],
): NosanaMarketObject {
  return {
    apiVersion: 'nosana.io/v1alpha1',
    kind: 'NosanaMarket',
    metadata: { namespace, name },
    spec: nosanaMarketSpec.parse({ slug: name, network }),
    ...(status === undefined ? {} : { status }),
  };
}

describe('replicaTerms', () => {
  const markets = cacheOf([
    market('team-a', 'gpu', 'localnet', { jobTimeout: 3600, jobPriceBaseUnits: '100' }),
    market('team-a', 'main', 'mainnet', { jobTimeout: 600, jobPriceBaseUnits: '100' }),
    market('team-a', 'unread', 'localnet'),
    market('team-b', 'cheap', 'localnet', { jobTimeout: 60, jobPriceBaseUnits: '1' }),
  ]);

  const cases: { reason: string; template: Record<string, unknown>; budgeted?: boolean; want: ReturnType<typeof replicaTerms> }[] = [
    {
      reason: "the market's timeout and its deposit, price × timeout",
      template: {},
      want: { timeoutSeconds: 3600n, reservation: 360_000n, pricePerSecond: 100n },
    },
    {
      reason: "the template's timeout over the market's",
      template: { timeout: '2h' },
      want: { timeoutSeconds: 7200n, reservation: 720_000n, pricePerSecond: 100n },
    },
    {
      reason: "the template's maxCost is the reservation",
      template: { timeout: 60, maxCost: '1.5' },
      budgeted: true,
      want: { timeoutSeconds: 60n, reservation: 1_500_000n, pricePerSecond: 100n },
    },
    {
      reason: "on mainnet the deposit carries the network's fee",
      template: { market: 'main' },
      want: { timeoutSeconds: 600n, reservation: 66_000n, pricePerSecond: 100n },
    },
    {
      reason: 'an unknown market with a timeout and no budget: no price, no reservation',
      template: { market: 'elsewhere', timeout: '30m' },
      want: { timeoutSeconds: 1800n },
    },
    {
      reason: 'an unknown market with a timeout and a maxCost is enough for a budget',
      template: { market: 'elsewhere', timeout: '30m', maxCost: 2 },
      budgeted: true,
      want: { timeoutSeconds: 1800n, reservation: 2n * NOS },
    },
  ];
  for (const { reason, template, budgeted = false, want } of cases) {
    test(reason, () => assert.deepEqual(replicaTerms(deployment({}, template), markets, budgeted), want));
  }

  const errors: { reason: string; template: Record<string, unknown>; budgeted?: boolean; want: RegExp }[] = [
    {
      reason: 'no timeout and a market that is not a NosanaMarket here',
      template: { market: 'elsewhere' },
      want: /^spec\.template\.spec\.timeout is needed: market elsewhere is not a NosanaMarket of this namespace/,
    },
    {
      reason: "another namespace's NosanaMarket of that name is not used",
      template: { market: 'cheap' },
      want: /^spec\.template\.spec\.timeout is needed: market cheap is not a NosanaMarket of this namespace/,
    },
    {
      reason: 'no timeout and a NosanaMarket that has not read its market',
      template: { market: 'unread' },
      want: /^spec\.template\.spec\.timeout is needed: NosanaMarket unread has not read its market yet/,
    },
    {
      reason: 'a budget, and neither a price nor a maxCost',
      template: { market: 'unread', timeout: 60 },
      budgeted: true,
      want: /^spec\.template\.spec\.maxCost is needed with spec\.budget/,
    },
    { reason: 'a timeout that is no duration', template: { timeout: 'forever' }, want: /^spec\.template\.spec\.timeout must be/ },
    { reason: 'a maxCost that is no amount', template: { maxCost: '1.2345678' }, want: /^spec\.template\.spec\.maxCost: / },
  ];
  for (const { reason, template, budgeted = false, want } of errors) {
    test(`an error naming the field: ${reason}`, () => {
      const terms = replicaTerms(deployment({}, template), markets, budgeted);
      assert.ok(
        'error' in terms,
        JSON.stringify(terms, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value)),
      );
      assert.match(terms.error, want);
    });
  }

  test("a deployment in the namespace of a market uses it: the same template in team-b gets team-b's terms", () => {
    assert.deepEqual(replicaTerms(deployment({}, { market: 'cheap' }, 'team-b'), markets, true), {
      timeoutSeconds: 60n,
      reservation: 60n,
      pricePerSecond: 1n,
    });
  });
});

describe('readBudget', () => {
  const reader = (configMap: V1ConfigMap | undefined) => ({ getSecret: async () => undefined, getConfigMap: async () => configMap });
  const owned = (controller: boolean, uid = 'uid-web'): V1ConfigMap => ({
    metadata: {
      name: 'nosana-budget-web',
      ownerReferences: [{ apiVersion: 'nosana.io/v1alpha1', kind: 'NosanaDeployment', name: 'web', uid, controller }],
    },
    data: {},
  });

  test('no ledger yet: nothing spent', async () => assert.deepEqual(await readBudget(reader(undefined), deployment()), []));
  test('its own ledger is read', async () => assert.deepEqual(await readBudget(reader(owned(true)), deployment()), []));
  for (const [what, configMap] of [
    ['a ConfigMap of that name someone else made', { metadata: { name: 'nosana-budget-web' }, data: { [SPEND_LEDGER_DATA_KEY]: '[]' } }],
    ['a ledger of an earlier deployment of the same name', owned(true, 'uid-old')],
    ['one that names the deployment without controlling it', owned(false)],
  ] as const) {
    test(`${what} is neither trusted nor to be written: the budget cannot be checked, naming it`, async () => {
      const read = await readBudget(reader(configMap as V1ConfigMap), deployment());
      assert.ok(!Array.isArray(read));
      assert.match(read.error, /^ConfigMap nosana-budget-web is not this deployment's ledger/);
    });
  }
});

describe('probeReplicas: what a definition can make the operator do is bounded', () => {
  const view = (index: number, ports: number[]) => ({
    name: `web-0123456789-${index}`,
    running: true,
    serviceUrls: ports.map((port) => ({ op: 'web', port, url: `https://r${index}p${port}.node.test` })),
  });

  test(`at most ${MAX_CHECKS_PER_PORT} checks per port and ${MAX_PROBED_ENDPOINTS} endpoints, a few at a time`, async () => {
    let inFlight = 0;
    let most = 0;
    let probes = 0;
    const prober = {
      async probe() {
        probes += 1;
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight -= 1;
        return { ok: true, detail: 'GET /: answered 200' };
      },
    };
    const check = { type: 'http' as const, method: 'GET' as const, path: '/', expected_status: 200, continuous: true };
    const checks = new Map(Array.from({ length: 10 }, (_, port) => [`web/${port + 1}`, Array.from({ length: 50 }, () => check)]));
    const replicas = Array.from({ length: 40 }, (_, index) =>
      view(
        index,
        Array.from({ length: 10 }, (_, port) => port + 1),
      ),
    );
    const outcomes = await probeReplicas(prober, replicas as never, checks, new AbortController().signal);
    assert.equal(outcomes.length, MAX_PROBED_ENDPOINTS);
    assert.equal(probes, MAX_PROBED_ENDPOINTS * MAX_CHECKS_PER_PORT);
    assert.ok(most <= 32 * MAX_CHECKS_PER_PORT, `${most} probes in flight at once`);
    assert.ok(most > 1, 'probes run side by side');
  });
});
