// What `kubectl nosana get` and `markets` print, without a cluster: the CRDs' printer columns read
// by their JSONPaths, ages as kubectl writes them, columns aligned three spaces apart, -A and -o wide.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NosanaJobObject } from '../../../src/api/crds/nosana-job.ts';
import type { NosanaMarketObject } from '../../../src/api/crds/nosana-market.ts';
import type { NosanaNodeObject } from '../../../src/api/crds/nosana-node.ts';
import { evaluateJsonPath, parseJsonPath } from '../../../src/plugin/json-path.ts';
import { JOBS, NODES, PLUGIN_KINDS } from '../../../src/plugin/kinds.ts';
import { marketsTable } from '../../../src/plugin/markets.ts';
import { formatObjects } from '../../../src/plugin/output.ts';
import { sortedObjects, tableHeader, tableRow } from '../../../src/plugin/resource-table.ts';
import { formatSeconds, humanAge, renderTable } from '../../../src/plugin/table.ts';

const NOW = Date.parse('2026-05-01T12:00:00Z');
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();
const JOB_ADDRESS = '4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T';
const NODE_ADDRESS = '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU';

const ready = (status: 'True' | 'False', reason: string) => ({
  type: 'Ready',
  status,
  reason,
  message: '',
  lastTransitionTime: ago(10),
});

const succeeded: NosanaJobObject = {
  apiVersion: 'nosana.io/v1alpha1',
  kind: 'NosanaJob',
  metadata: { name: 'story', namespace: 'team', creationTimestamp: ago(125) as unknown as Date },
  spec: { market: 'gpu', deletionPolicy: 'Cancel', retries: 2, allowPublicCredentials: false },
  status: {
    phase: 'Succeeded',
    node: NODE_ADDRESS,
    cost: '0.00002',
    jobAddress: JOB_ADDRESS,
    ipfsResult: 'QmResult',
    conditions: [{ ...ready('True', 'Succeeded'), type: 'Completed' }, ready('True', 'Succeeded')],
  },
};

const pending: NosanaJobObject = {
  apiVersion: 'nosana.io/v1alpha1',
  kind: 'NosanaJob',
  metadata: { name: 'draft', namespace: 'team', creationTimestamp: ago(3) as unknown as Date },
  spec: { market: 'gpu', deletionPolicy: 'Cancel', retries: 2, allowPublicCredentials: false },
};

describe('printer columns by JSONPath', () => {
  const cases: { reason: string; path: string; want: unknown[] }[] = [
    { reason: 'a field', path: '.status.phase', want: ['Succeeded'] },
    { reason: 'a missing field reaches nothing', path: '.status.queuePosition', want: [] },
    { reason: 'an equality filter on a list', path: '.status.conditions[?(@.type=="Ready")].reason', want: ['Succeeded'] },
    { reason: 'a filter in single quotes', path: ".status.conditions[?(@.type=='Completed')].status", want: ['True'] },
    { reason: 'an index', path: '.status.conditions[1].type', want: ['Ready'] },
    { reason: 'a filter nothing matches', path: '.status.conditions[?(@.type=="Stalled")].reason', want: [] },
  ];
  for (const { reason, path, want } of cases) {
    test(reason, () => assert.deepEqual(evaluateJsonPath(succeeded, path), want));
  }

  test("every printer column of the three CRDs is in the subset (a richer path would fail here, not in a user's terminal)", () => {
    for (const kind of PLUGIN_KINDS)
      for (const column of kind.crd.printerColumns) assert.doesNotThrow(() => parseJsonPath(column.jsonPath), column.jsonPath);
    assert.throws(() => parseJsonPath('.items[*].name'), /unsupported JSONPath/);
  });
});

describe('ages and durations as kubectl writes them', () => {
  const ages: [number, string][] = [
    [0, '0s'],
    [-500, '0s'],
    [-5000, '<invalid>'],
    [59_000, '59s'],
    [119_000, '119s'],
    [125_000, '2m5s'],
    [600_000, '10m'],
    [179 * 60_000, '179m'],
    [3 * 3_600_000 + 20 * 60_000, '3h20m'],
    [8 * 3_600_000, '8h'],
    [47 * 3_600_000, '47h'],
    [50 * 3_600_000, '2d2h'],
    [9 * 86_400_000, '9d'],
    [3 * 365 * 86_400_000 + 86_400_000, '3y1d'],
    [9 * 365 * 86_400_000, '9y'],
  ];
  for (const [ms, want] of ages) test(`${ms} ms ago → ${want}`, () => assert.equal(humanAge(ms), want));

  test('seconds as a duration a user writes', () => {
    assert.equal(formatSeconds(600), '10m');
    assert.equal(formatSeconds(5400n), '1h30m');
    assert.equal(formatSeconds(45), '45s');
    assert.equal(formatSeconds(3661), '1h1m1s');
    assert.equal(formatSeconds(0), '0s');
  });
});

describe('tables', () => {
  test('columns three spaces apart, padded to the widest cell, no trailing blanks', () => {
    assert.equal(
      renderTable(
        ['NAME', 'PHASE', 'NODE'],
        [
          ['a', 'Running', ''],
          ['longer-name', 'Queued', 'x'],
        ],
      ),
      'NAME          PHASE     NODE\na             Running\nlonger-name   Queued    x\n',
    );
  });

  test('NosanaJobs: the default columns in the CRD order, empty cells for what the status lacks', () => {
    const options = { wide: false, allNamespaces: false, now: NOW };
    assert.deepEqual(tableHeader(JOBS, options), ['NAME', 'PHASE', 'MARKET', 'NODE', 'COST', 'AGE']);
    assert.deepEqual(tableRow(JOBS, succeeded, options), ['story', 'Succeeded', 'gpu', NODE_ADDRESS, '0.00002', '2m5s']);
    assert.deepEqual(tableRow(JOBS, pending, options), ['draft', '', 'gpu', '', '', '3s']);
  });

  test('-o wide adds the priority-1 columns; -A puts the namespace first', () => {
    const options = { wide: true, allNamespaces: true, now: NOW };
    assert.deepEqual(tableHeader(JOBS, options), [
      'NAMESPACE',
      'NAME',
      'PHASE',
      'MARKET',
      'NODE',
      'COST',
      'AGE',
      'REASON',
      'JOB',
      'RESULT',
    ]);
    assert.deepEqual(tableRow(JOBS, succeeded, options).slice(-3), ['Succeeded', JOB_ADDRESS, 'QmResult']);
    assert.equal(tableRow(JOBS, succeeded, options)[0], 'team');
  });

  test('NosanaNodes: market, phase, address, job and completed count', () => {
    const node: NosanaNodeObject = {
      metadata: { name: 'rtx-a', namespace: 'gpu-owner', creationTimestamp: ago(172_800) as unknown as Date },
      spec: {} as NosanaNodeObject['spec'],
      status: { phase: 'Queued', nodeAddress: NODE_ADDRESS, jobsCompleted: 12 },
    };
    (node.spec as { market: string }).market = 'nvidia-3090';
    const options = { wide: false, allNamespaces: false, now: NOW };
    assert.deepEqual(tableHeader(NODES, options), ['NAME', 'MARKET', 'PHASE', 'NODE', 'JOB', 'COMPLETED', 'AGE']);
    assert.deepEqual(tableRow(NODES, node, options), ['rtx-a', 'nvidia-3090', 'Queued', NODE_ADDRESS, '', '12', '2d']);
  });

  test('objects in kubectl order: namespace, then name', () => {
    const named = (namespace: string, name: string) => ({ metadata: { namespace, name } });
    assert.deepEqual(
      sortedObjects([named('b', 'a'), named('a', 'z'), named('a', 'b')]).map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
      ['a/b', 'a/z', 'b/a'],
    );
  });

  test('-o json: one object as itself, several as a List, managedFields hidden', () => {
    const withFields = { ...succeeded, metadata: { ...succeeded.metadata, managedFields: [{ manager: 'x' }] } };
    const one = JSON.parse(formatObjects([withFields], 'json', true)) as NosanaJobObject;
    assert.equal(one.kind, 'NosanaJob');
    assert.equal(one.metadata?.managedFields, undefined);
    const list = JSON.parse(formatObjects([succeeded, pending], 'json', false)) as { kind: string; items: unknown[] };
    assert.equal(list.kind, 'List');
    assert.equal(list.items.length, 2);
    assert.match(formatObjects([succeeded], 'yaml', true), /^apiVersion: nosana\.io\/v1alpha1\nkind: NosanaJob\n/);
  });
});

describe('kubectl nosana markets', () => {
  const market = (name: string, status: NosanaMarketObject['status']): NosanaMarketObject => ({
    metadata: { name, namespace: 'team' },
    spec: { network: 'localnet', refreshInterval: '60s' },
    ...(status === undefined ? {} : { status }),
  });

  test('price per second and per hour in NOS, the timeout as a duration, who waits in the queue, readiness', () => {
    const table = marketsTable(
      [
        market('rtx', {
          jobPrice: '0.00001',
          jobPriceBaseUnits: '10',
          jobTimeout: 600,
          queueType: 'Nodes',
          queueLength: 2,
          conditions: [ready('True', 'Synced')],
        }),
        market('busy', {
          jobPriceBaseUnits: '1500',
          jobTimeout: 5400,
          queueType: 'Jobs',
          queueLength: 3,
          conditions: [ready('True', 'Synced')],
        }),
        market('broken', { conditions: [ready('False', 'SettingsInvalid')] }),
        market('idle', { queueType: 'Empty', queueLength: 0 }),
      ],
      false,
    );
    assert.equal(
      table,
      [
        'NAME     NETWORK    PRICE (NOS/S)   NOS/HOUR   TIMEOUT   QUEUE             READY',
        'broken   localnet                                                          False (SettingsInvalid)',
        'busy     localnet   0.0015          5.4        1h30m     3 jobs waiting    True',
        'idle     localnet                                        empty',
        'rtx      localnet   0.00001         0.036      10m       2 nodes waiting   True',
        '',
      ].join('\n'),
    );
  });
});
