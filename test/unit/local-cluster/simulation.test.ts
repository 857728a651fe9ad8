// The simulation rule table on its own: which rule a Pod gets, and the annotations each behaviour
// becomes for the KWOK stages.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { SIMULATION_ANNOTATIONS as SIM } from '../../../src/local-cluster/kwok-stages.ts';
import { annotationsFor, criLog, decideSimulation } from '../../../src/local-cluster/simulation.ts';
import type { SimulatedBehaviour, SimulationRule } from '../../../src/local-cluster/simulation.ts';

function pod(image: string, command?: string[], args?: string[]): V1Pod {
  return {
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'main', image, ...(command === undefined ? {} : { command }), ...(args === undefined ? {} : { args }) }] },
  };
}

const RULES: SimulationRule[] = [
  { name: 'exact image and args', match: { image: 'ubuntu', commandLine: /^\/bin\/sh -c echo hello$/ }, then: { exitCode: 0 } },
  { name: 'any ubuntu', match: { image: 'ubuntu' }, then: { exitCode: 1 } },
  { name: 'registry pattern', match: { image: /^ghcr\.io\// }, then: { readyAfter: '2s' } },
];

describe('which rule a Pod gets', () => {
  const rows: { reason: string; pod: V1Pod; want: string | undefined }[] = [
    {
      reason: 'the first rule whose every part matches wins',
      pod: pod('ubuntu', ['/bin/sh', '-c'], ['echo hello']),
      want: 'exact image and args',
    },
    {
      reason: 'command and args are matched joined with spaces',
      pod: pod('ubuntu', undefined, ['/bin/sh', '-c', 'echo hello']),
      want: 'exact image and args',
    },
    { reason: 'a rule without a command pattern matches any command', pod: pod('ubuntu', undefined, ['sleep', '1']), want: 'any ubuntu' },
    { reason: 'a string image matches exactly, not as a prefix', pod: pod('ubuntu:24.04'), want: undefined },
    { reason: 'a pattern image matches by RegExp', pod: pod('ghcr.io/team/server:1'), want: 'registry pattern' },
    { reason: 'no rule: no decision (the Pod stays Pending)', pod: pod('nginx'), want: undefined },
    { reason: 'a Pod without containers gets no decision', pod: { metadata: { name: 'p' }, spec: { containers: [] } }, want: undefined },
  ];
  for (const row of rows) {
    test(row.reason, () => {
      assert.equal(decideSimulation(row.pod, RULES)?.rule, row.want);
    });
  }

  test('the decision names its rule in the decided annotation and carries its log lines', () => {
    const rules: SimulationRule[] = [{ name: 'talks', match: {}, then: { exitCode: 0, logs: [{ stream: 'stderr', text: 'warn' }] } }];
    const decision = decideSimulation(pod('anything'), rules);
    assert.equal(decision?.annotations[SIM.decided], 'talks');
    assert.deepEqual(decision?.logs, [{ stream: 'stderr', text: 'warn' }]);
  });
});

describe('the annotations a behaviour becomes', () => {
  const rows: { reason: string; behaviour: SimulatedBehaviour; want: Record<string, string> }[] = [
    { reason: 'nothing said: a service that runs until stopped, Ready at once', behaviour: {}, want: { [SIM.decided]: 'r' } },
    {
      reason: 'an exit code with its run time and an image pull delay',
      behaviour: { exitCode: 2, runFor: '3s', startAfter: '1s' },
      want: { [SIM.decided]: 'r', [SIM.exitCode]: '2', [SIM.runDuration]: '3s', [SIM.startDelay]: '1s' },
    },
    {
      reason: 'an OOM kill exits with 137 whatever exit code is given',
      behaviour: { oomKilled: true, exitCode: 0 },
      want: { [SIM.decided]: 'r', [SIM.exitCode]: '137', [SIM.oomKilled]: 'true' },
    },
    {
      reason: 'a pull error never runs: no exit code, no readiness',
      behaviour: { pullError: 'denied', exitCode: 0, readyAfter: '1s' },
      want: { [SIM.decided]: 'r', [SIM.pullError]: 'denied' },
    },
    { reason: 'a service that turns Ready later', behaviour: { readyAfter: '5s' }, want: { [SIM.decided]: 'r', [SIM.readyAfter]: '5s' } },
    {
      reason: 'readiness is ignored for a container that exits (it is Ready while it runs)',
      behaviour: { exitCode: 0, readyAfter: 'never' },
      want: { [SIM.decided]: 'r', [SIM.exitCode]: '0' },
    },
  ];
  for (const row of rows) {
    test(row.reason, () => {
      assert.deepEqual(annotationsFor('r', row.behaviour), row.want);
    });
  }
});

test('log lines are written in the CRI format, one millisecond apart, full lines', () => {
  const text = criLog(
    [
      { stream: 'stdout', text: 'a' },
      { stream: 'stderr', text: 'b' },
    ],
    new Date('2026-01-01T00:00:00.000Z'),
  );
  assert.equal(text, '2026-01-01T00:00:00.000Z stdout F a\n2026-01-01T00:00:00.001Z stderr F b\n');
});
