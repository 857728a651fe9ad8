// The phase table, the kstatus rules and the generated Argo CD scripts agree.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LuaFactory } from 'wasmoon';
import { argoHealthLua } from '../../../src/api/argocd-health.ts';
import { HEALTH_TABLE, healthRow, kstatusOf, type HealthRow } from '../../../src/api/health.ts';
import { NOSANA_JOB_PHASES, NOSANA_NODE_PHASES } from '../../../src/api/crds/index.ts';
import { applyPhase, type StatusWithConditions } from '../../../src/controllers/phase.ts';

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

  test('what to do matches the state: nothing while Ready, always something while Stalled', () => {
    for (const row of HEALTH_TABLE) {
      const nothing = row.fix.startsWith('Nothing to do');
      if (row.conditions.Ready === 'True') assert.ok(nothing, `${row.kind} ${row.reason} is Ready: nothing to do`);
      if (row.conditions.Stalled === 'True') assert.ok(!nothing, `${row.kind} ${row.reason} is Stalled: a person must act`);
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

interface NodeStateCase {
  reason: string;
  phase: string;
  ready: string;
  want: { kstatus: HealthRow['kstatus']; argo: HealthRow['argo'] };
}

// The states the node agent shows, and what GitOps tools must make of each.
const NODE_STATES: NodeStateCase[] = [
  {
    reason: 'a node short of SOL is still working toward serving, but someone must fund it',
    phase: 'Idle',
    ready: 'LowBalance',
    want: { kstatus: 'InProgress', argo: 'Degraded' },
  },
  {
    reason: 'a node waiting for room in a busy cluster is making progress, not broken',
    phase: 'Idle',
    ready: 'NoCapacity',
    want: { kstatus: 'InProgress', argo: 'Progressing' },
  },
  {
    reason: 'too little stake for the market stalls the node until someone stakes',
    phase: 'Error',
    ready: 'StakeBelowMinimum',
    want: { kstatus: 'Failed', argo: 'Degraded' },
  },
  {
    reason: 'a market that admits only access-key holders stalls a node without one',
    phase: 'Error',
    ready: 'AccessKeyRequired',
    want: { kstatus: 'Failed', argo: 'Degraded' },
  },
  {
    reason: 'a market that cannot be found or is disabled stalls the node',
    phase: 'Error',
    ready: 'MarketUnavailable',
    want: { kstatus: 'Failed', argo: 'Degraded' },
  },
  {
    reason: 'a node whose key Secret cannot be used stalls until the Secret is fixed',
    phase: 'Error',
    ready: 'KeyUnavailable',
    want: { kstatus: 'Failed', argo: 'Degraded' },
  },
  {
    reason: 'an ending that keeps failing on chain stops the node for a person to look',
    phase: 'Error',
    ready: 'EndingFailed',
    want: { kstatus: 'Failed', argo: 'Degraded' },
  },
  { reason: 'a paused node is suspended, on purpose', phase: 'Idle', ready: 'Paused', want: { kstatus: 'Current', argo: 'Suspended' } },
  { reason: 'a queued node is what was asked for', phase: 'Queued', ready: 'Queued', want: { kstatus: 'Current', argo: 'Healthy' } },
];

describe('NosanaNode states in the phase table', () => {
  for (const c of NODE_STATES) {
    test(c.reason, () => {
      const row = healthRow('NosanaNode', c.phase, c.ready);
      assert.ok(row, `no row for ${c.phase}/${c.ready}`);
      assert.equal(row.kstatus, c.want.kstatus);
      assert.equal(row.argo, c.want.argo);
      // applyPhase accepts the state, and the conditions it sets make kstatus agree.
      const empty: StatusWithConditions = {};
      const status = applyPhase('NosanaNode', empty, c.phase, c.ready, 'why', 2, new Date('2026-01-01T00:00:00Z'));
      assert.equal(status.phase, c.phase);
      assert.equal(kstatusOf({ metadata: { generation: 2 }, status }), c.want.kstatus);
    });
  }

  test('a Ready reason means the same health in every NosanaNode phase it appears in', () => {
    const byReason = new Map<string, string>();
    for (const row of HEALTH_TABLE.filter((r) => r.kind === 'NosanaNode')) {
      const health = `${row.kstatus}/${row.argo}`;
      assert.equal(byReason.get(row.reason) ?? health, health, row.reason);
      byReason.set(row.reason, health);
    }
  });

  test('applyPhase refuses a NosanaNode state the table does not document', () => {
    assert.throws(() => applyPhase('NosanaNode', {}, 'Running', 'LowBalance', 'why', 1, new Date()), /no phase table row/);
  });
});

describe('Argo CD health scripts (run in a Lua VM)', () => {
  const factory = new LuaFactory();

  // A fresh VM per script run (about 2 ms): one VM given many objects in turn corrupts its own
  // memory after a few dozen (wasmoon 1.16: "metatable not found: js_proxy").
  async function argoHealth(kind: HealthRow['kind'], object: unknown): Promise<{ status: string; message: string }> {
    const lua = await factory.createEngine();
    try {
      lua.global.set('obj', object);
      return (await lua.doString(argoHealthLua(kind))) as { status: string; message: string };
    } finally {
      lua.global.close();
    }
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
