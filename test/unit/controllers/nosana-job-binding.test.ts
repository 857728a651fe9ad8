// The binding between a NosanaJob and the jobs it posted: what it adds to a definition, what it
// depends on, and which attempt number the next post binds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair } from '@solana/web3.js';
import { BINDING_META_KEY, boundDefinition, nextBindingAttempt } from '../../../src/controllers/nosana-job/binding.ts';

const wallet = Keypair.generate();
const subject = { wallet, namespace: 'team-a', name: 'story' };
const definition = { version: '0.1', type: 'container', meta: { trigger: 'cli' }, ops: [] };

function tagOf(value: unknown): string {
  return String((value as { meta: Record<string, unknown> }).meta[BINDING_META_KEY]);
}

describe('job binding', () => {
  test('adds one meta entry and keeps the rest of the definition as written', () => {
    const bound = boundDefinition(definition, subject, 0) as typeof definition;
    assert.deepEqual({ ...bound, meta: { trigger: bound.meta.trigger } }, definition);
    assert.match(tagOf(bound), /^[0-9a-f]{32}$/);
    assert.ok(!JSON.stringify(bound).includes('team-a') && !JSON.stringify(bound).includes('story'), 'names stay off IPFS');
    assert.deepEqual(definition.meta, { trigger: 'cli' }, 'the input is not changed');
  });

  test('the tag differs with every input: wallet, namespace, name and attempt', () => {
    const base = tagOf(boundDefinition(definition, subject, 0));
    assert.equal(tagOf(boundDefinition(definition, subject, 0)), base, 'deterministic');
    for (const [reason, other] of [
      ['another wallet', boundDefinition(definition, { ...subject, wallet: Keypair.generate() }, 0)],
      ['another namespace', boundDefinition(definition, { ...subject, namespace: 'team-b' }, 0)],
      ['another name', boundDefinition(definition, { ...subject, name: 'story2' }, 0)],
      ['another attempt', boundDefinition(definition, subject, 1)],
    ] as const)
      assert.notEqual(tagOf(other), base, reason);
  });

  test('a definition without meta gets one', () => {
    assert.match(tagOf(boundDefinition({ version: '0.1', ops: [] }, subject, 3)), /^[0-9a-f]{32}$/);
  });

  const cases: { reason: string; attempts: { jobAddress: string; binding?: number }[] | undefined; want: number }[] = [
    { reason: 'no attempts: the first post binds 0', attempts: undefined, want: 0 },
    {
      reason: 'attempts without a binding (posted before bindings) count by position',
      attempts: [{ jobAddress: 'a' }, { jobAddress: 'b' }],
      want: 2,
    },
    {
      reason: 'one past the highest binding, even when it is not the last entry',
      attempts: [
        { jobAddress: 'a', binding: 4 },
        { jobAddress: 'b', binding: 1 },
      ],
      want: 5,
    },
  ];
  for (const { reason, attempts, want } of cases) {
    test(`next attempt: ${reason}`, () => assert.equal(nextBindingAttempt(attempts), want));
  }
});
