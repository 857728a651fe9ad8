// The phase table, the kstatus rules and the generated Argo CD scripts agree.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LuaFactory, type LuaEngine } from 'wasmoon';
import { argoHealthLua } from '../../../src/api/argocd-health.ts';
import { HEALTH_TABLE, healthRow, kstatusOf, type HealthRow } from '../../../src/api/health.ts';
import { NOSANA_JOB_PHASES, NOSANA_NODE_PHASES } from '../../../src/api/crds/index.ts';

function objectFor(row: HealthRow, generation = 3, observedGeneration = 3) {
  return {
    apiVersion: 'nosana.io/v1alpha1',
    kind: row.kind,
    metadata: { name: 'x', generation },
    status: {
      phase: row.phase,
      observedGeneration,
      conditions: Object.entries(row.conditions).map(([type, status]) => ({
        type,
        status,
        reason: type === 'Ready' ? row.reason : 'Set',
        message: `${type} is ${status}`,
        lastTransitionTime: '2026-01-01T00:00:00Z',
        observedGeneration,
      })),
    },
  };
}

describe('phase table', () => {
  test('every phase of NosanaJob and NosanaNode has at least one row', () => {
    for (const phase of NOSANA_JOB_PHASES)
      assert.ok(
        HEALTH_TABLE.some((r) => r.kind === 'NosanaJob' && r.phase === phase),
        phase,
      );
    for (const phase of NOSANA_NODE_PHASES)
      assert.ok(
        HEALTH_TABLE.some((r) => r.kind === 'NosanaNode' && r.phase === phase),
        phase,
      );
  });

  test('rows are unique by kind, phase and reason, and every row sets Ready, Reconciling and Stalled', () => {
    const keys = HEALTH_TABLE.map((r) => `${r.kind}/${r.phase}/${r.reason}`);
    assert.equal(new Set(keys).size, keys.length);
    for (const row of HEALTH_TABLE) {
      for (const type of ['Ready', 'Reconciling', 'Stalled'] as const)
        assert.ok(row.conditions[type], `${row.kind} ${row.reason} lacks ${type}`);
      assert.equal(healthRow(row.kind, row.phase, row.reason), row);
    }
  });

  test('a terminal job has ended (Completed=True), is no longer reconciling, and only success is Ready', () => {
    for (const row of HEALTH_TABLE.filter((r) => r.terminal)) {
      assert.equal(row.kind, 'NosanaJob');
      assert.equal(row.conditions.Completed, 'True');
      assert.equal(row.conditions.Reconciling, 'False');
      assert.equal(row.conditions.Ready, row.phase === 'Succeeded' ? 'True' : 'False');
      assert.equal(row.conditions.Failed, row.phase === 'Failed' ? 'True' : 'False');
    }
    assert.deepEqual([...new Set(HEALTH_TABLE.filter((r) => r.terminal).map((r) => r.phase))].sort(), ['Failed', 'Stopped', 'Succeeded']);
  });

  test('Reconciling and Stalled are never both True, and Ready=True excludes both', () => {
    for (const row of HEALTH_TABLE) {
      assert.ok(!(row.conditions.Reconciling === 'True' && row.conditions.Stalled === 'True'), row.reason);
      if (row.conditions.Ready === 'True') {
        assert.equal(row.conditions.Reconciling, 'False', row.reason);
        assert.equal(row.conditions.Stalled, 'False', row.reason);
      }
    }
  });

  test('kstatus computed from the conditions is the kstatus the table promises', () => {
    for (const row of HEALTH_TABLE) assert.equal(kstatusOf(objectFor(row)), row.kstatus, `${row.kind} ${row.phase} ${row.reason}`);
  });

  test('kstatus: an unobserved generation is InProgress, a deleted object Terminating', () => {
    const succeeded = healthRow('NosanaJob', 'Succeeded', 'Succeeded')!;
    assert.equal(kstatusOf(objectFor(succeeded, 4, 3)), 'InProgress');
    assert.equal(
      kstatusOf({ ...objectFor(succeeded), metadata: { generation: 3, deletionTimestamp: '2026-01-01T00:00:00Z' } }),
      'Terminating',
    );
  });
});

describe('Argo CD health scripts (run in a Lua VM)', () => {
  let lua: LuaEngine;
  before(async () => {
    lua = await new LuaFactory().createEngine();
  });
  after(() => lua.global.close());

  async function argoHealth(kind: HealthRow['kind'], object: unknown): Promise<{ status: string; message: string }> {
    lua.global.set('obj', object);
    return (await lua.doString(argoHealthLua(kind))) as { status: string; message: string };
  }

  test('every row of the table gets the Argo CD health it promises, with the Ready message', async () => {
    for (const row of HEALTH_TABLE) {
      const health = await argoHealth(row.kind, objectFor(row));
      assert.equal(health.status, row.argo, `${row.kind} ${row.phase ?? ''} ${row.reason}`);
      assert.equal(health.message, 'Ready is ' + row.conditions.Ready);
    }
  });

  test('no status yet, or a spec the operator has not seen, is Progressing', async () => {
    assert.equal((await argoHealth('NosanaJob', { metadata: { generation: 1 } })).status, 'Progressing');
    const stale = await argoHealth('NosanaJob', objectFor(healthRow('NosanaJob', 'Succeeded', 'Succeeded')!, 2, 1));
    assert.equal(stale.status, 'Progressing');
    assert.match(stale.message, /observe the latest spec/);
  });
});
