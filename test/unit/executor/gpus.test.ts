// How many GPUs a job needs: the GPU ops of one group may all run at once (dependents start when
// their dependency is ready, not ended; services never end), groups run one after another, so the
// need is the widest group's GPU op count times the GPUs each op gets — or, with one shared DRA
// claim, the claim's count.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gpuOpsByGroup, gpusNeeded, gpusNeededFor, gpusNeededWithSharedClaim, widestGpuGroup } from '../../../src/executor/gpus.ts';
import { isPlan, planJob } from '../../../src/executor/plan.ts';
import type { Plan } from '../../../src/executor/plan.ts';
import { jobExamples, seedDefinitions, sharedMissingReason } from '../job-definition/reference-definitions.ts';

function plan(input: unknown): Plan {
  const outcome = planJob(input, 'job');
  assert.ok(isPlan(outcome), JSON.stringify(outcome));
  return outcome;
}

function run(id: string, gpu: boolean | undefined, execution?: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'container/run',
    id,
    args: { image: 'ubuntu', ...(gpu === undefined ? {} : { gpu }) },
    ...(execution === undefined ? {} : { execution }),
  };
}

const definition = (ops: unknown[], global?: Record<string, unknown>) => ({
  version: '0.1',
  type: 'container',
  ops,
  ...(global === undefined ? {} : { global }),
});

interface Row {
  reason: string;
  definition: unknown;
  want: { widest: string | undefined; perOp2: number; claim4: number };
}

const rows: Row[] = [
  {
    reason: 'no GPU op: nothing needed, in either mode',
    definition: definition([run('a', false), run('b', undefined)]),
    want: { widest: undefined, perOp2: 0, claim4: 0 },
  },
  {
    reason: 'one GPU op: its GPUs',
    definition: definition([run('a', true)]),
    want: { widest: 'a', perOp2: 2, claim4: 4 },
  },
  {
    reason: 'ungrouped GPU ops run one after another: one op’s GPUs suffice',
    definition: definition([run('a', true), run('b', true), run('c', true)]),
    want: { widest: 'a', perOp2: 2, claim4: 4 },
  },
  {
    reason: 'GPU ops of one group without dependencies start together: each needs its own',
    definition: definition([run('a', true, { group: 'g' }), run('b', true, { group: 'g' })]),
    want: { widest: 'g', perOp2: 4, claim4: 4 },
  },
  {
    reason: 'a dependent starts when its dependency is ready, not ended: both are counted',
    definition: definition([run('a', true, { group: 'g' }), run('b', true, { group: 'g', depends_on: ['a'] })]),
    want: { widest: 'g', perOp2: 4, claim4: 4 },
  },
  {
    reason: 'a chain of three is counted whole (conservative: any of them may still run)',
    definition: definition([
      run('a', true, { group: 'g' }),
      run('b', true, { group: 'g', depends_on: ['a'] }),
      run('c', true, { group: 'g', depends_on: ['b'] }),
    ]),
    want: { widest: 'g', perOp2: 6, claim4: 4 },
  },
  {
    reason: 'only the GPU ops of a group count, and the widest group decides',
    definition: definition([
      run('a', true, { group: 'small' }),
      run('b', false, { group: 'small' }),
      run('c', true, { group: 'wide' }),
      run('d', true, { group: 'wide' }),
      run('e', false, { group: 'wide' }),
    ]),
    want: { widest: 'wide', perOp2: 4, claim4: 4 },
  },
  {
    reason: 'global.gpu gives every container/run op GPUs, but not a create-volume op',
    definition: definition(
      [
        { type: 'container/create-volume', id: 'v', args: { name: 'data' }, execution: { group: 'g' } },
        run('a', undefined, { group: 'g' }),
      ],
      { gpu: true },
    ),
    want: { widest: 'g', perOp2: 2, claim4: 4 },
  },
];

describe('GPUs a job needs', () => {
  for (const row of rows) {
    test(row.reason, () => {
      const planned = plan(row.definition);
      assert.equal(widestGpuGroup(planned)?.group, row.want.widest);
      assert.equal(gpusNeeded(planned, 2), row.want.perOp2);
      assert.equal(gpusNeededWithSharedClaim(planned, 4), row.want.claim4);
      assert.equal(gpusNeededFor(planned, { gpusPerJob: 2 }), row.want.perOp2, 'device-plugin settings');
      assert.equal(
        gpusNeededFor(planned, { gpusPerJob: 2, dra: { deviceClassName: 'gpu.nvidia.com', count: 4 } }),
        row.want.claim4,
        'DRA settings',
      );
    });
  }

  test('the breakdown lists each group’s GPU ops in running order', () => {
    const planned = plan(definition([run('a', true, { group: 'x' }), run('b', false), run('c', true, { group: 'x' })]));
    assert.deepEqual(gpuOpsByGroup(planned), [
      { group: 'x', gpuOpIds: ['a', 'c'] },
      { group: 'b', gpuOpIds: [] },
    ]);
  });
});

describe('GPUs the real definitions need', { skip: sharedMissingReason ?? false }, () => {
  // One op per group everywhere: a GPU example needs one op's GPUs; the others none.
  const WITHOUT_GPU = new Set([
    'cli-confidential.json',
    'cli-create-volume.json',
    'cli-nginx-multi-ops.json',
    'cli-private-docker.json',
    'cli-result-extracting.json',
    'node-health-check-restart.json',
  ]);

  test('job-examples', () => {
    for (const { name, definition: input } of jobExamples()) {
      const file = name.replace('job-examples/', '');
      assert.equal(gpusNeeded(plan(input), 1), WITHOUT_GPU.has(file) ? 0 : 1, name);
    }
  });

  test('seeds: the whisper example’s two GPU ops are ungrouped, so they take turns on one op’s GPUs', () => {
    const byOps = new Map(seedDefinitions().map((seed) => [seed.opIds.join(','), seed.definition]));
    const need = (ops: string) => gpusNeeded(plan(byOps.get(ops)), 1);
    assert.equal(need('gpu-stats,run-whisper'), 1);
    assert.equal(need('tinyllama'), 1);
    assert.equal(need('create-volume,run-from-cli,run-from-cli-2'), 0);
  });
});
