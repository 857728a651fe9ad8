// Where an op's resources are mounted: one volume per mount path, Ollama models sharing their
// store, and any other collision refused before anything is created.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerRunArgs } from '../../../src/api/job-definition/index.ts';
import { OLLAMA_DEFAULT_TARGET, privateResourceClaimName, resourceCacheClaimName } from '../../../src/executor/names.ts';
import { resourceMounts } from '../../../src/executor/resource-mounts.ts';

const JOB = '7Uq9yCqnYbTTLfqVv5rZ3gYjNpJZRsqZJ7m2iYVQmAbW';
const S3 = { type: 'S3' as const, url: 'https://models.nosana.io/flux', target: '/models' };
const HF = { type: 'HF' as const, repo: 'org/model', target: '/hf' };
const GEMMA = { type: 'Ollama' as const, model: 'gemma3:4b' };
const GPT = { type: 'Ollama' as const, model: 'gpt-oss:20b' };

type Args = Pick<ContainerRunArgs, 'resources' | 'volumes'>;

describe('resource mounts', () => {
  const rows: { reason: string; args: Args; want: { target: string; indexes: number[]; privateCopy: boolean }[] | RegExp }[] = [
    {
      reason: 'each resource at its own target is a mount of its own, in order',
      args: { resources: [S3, HF] },
      want: [
        { target: '/models', indexes: [0], privateCopy: false },
        { target: '/hf', indexes: [1], privateCopy: false },
      ],
    },
    {
      reason: "two Ollama models without a target share Ollama's store: one mount, two downloads",
      args: { resources: [GEMMA, GPT] },
      want: [{ target: OLLAMA_DEFAULT_TARGET, indexes: [0, 1], privateCopy: false }],
    },
    {
      reason: 'a trailing slash does not make another mount point',
      args: {
        resources: [
          { ...GEMMA, target: '/store/' },
          { ...GPT, target: '/store' },
        ],
      },
      want: [{ target: '/store/', indexes: [0, 1], privateCopy: false }],
    },
    {
      reason: 'S3 allowWrite is a private copy',
      args: { resources: [{ ...S3, allowWrite: true }] },
      want: [{ target: '/models', indexes: [0], privateCopy: true }],
    },
    {
      reason: 'two S3 folders at one target cannot both be there: refused, naming both',
      args: { resources: [S3, { ...S3, url: 'https://models.nosana.io/other' }] },
      want: /resources\[1\] is mounted at "\/models", where resources\[0\] already is/,
    },
    {
      reason: 'an Ollama model at the target of an S3 folder is refused too',
      args: { resources: [S3, { ...GEMMA, target: '/models' }] },
      want: /resources\[1\].*resources\[0\]/,
    },
    {
      reason: 'a resource over a job volume is refused, naming the volume',
      args: { volumes: [{ name: 'data', dest: '/models' }], resources: [S3] },
      want: /resources\[0\]\.target "\/models" is also volumes\[0\]\.dest/,
    },
    {
      reason: 'a resource over /dev/shm is refused',
      args: { resources: [{ ...S3, target: '/dev/shm' }] },
      want: /\/dev\/shm/,
    },
    {
      reason: 'two job volumes at one path are refused',
      args: {
        volumes: [
          { name: 'a', dest: '/data' },
          { name: 'b', dest: '/data/' },
        ],
      },
      want: /volumes\[1\]\.dest "\/data\/" is also volumes\[0\]\.dest/,
    },
  ];
  for (const { reason, args, want } of rows) {
    test(reason, () => {
      const mounts = resourceMounts(JOB, 2, args);
      if (want instanceof RegExp) {
        assert.ok('error' in mounts, 'refused');
        assert.match(mounts.error, want);
        return;
      }
      assert.ok(!('error' in mounts), 'error' in mounts ? mounts.error : '');
      assert.deepEqual(
        mounts.map((mount) => ({
          target: mount.target,
          indexes: mount.resources.map(({ index }) => index),
          privateCopy: mount.privateCopy,
        })),
        want,
      );
    });
  }

  test('a single resource keeps the cache name of the resource; a private copy is named for the job, op and resource', () => {
    const mounts = resourceMounts(JOB, 2, { resources: [S3, { ...HF, target: '/w' }, { ...S3, target: '/x', allowWrite: true }] });
    assert.ok(!('error' in mounts));
    assert.deepEqual(
      mounts.map((mount) => mount.claimName),
      [resourceCacheClaimName(S3), resourceCacheClaimName({ ...HF, target: '/w' }), privateResourceClaimName(JOB, 2, 2)],
    );
  });

  test('a shared Ollama store is named by its set of models: order does not matter, another set is another store', () => {
    const claim = (args: Args): string => {
      const mounts = resourceMounts(JOB, 0, args);
      assert.ok(!('error' in mounts) && mounts[0] !== undefined);
      return mounts[0].claimName;
    };
    const both = claim({ resources: [GEMMA, GPT] });
    assert.equal(claim({ resources: [GPT, GEMMA] }), both);
    assert.notEqual(both, claim({ resources: [GEMMA] }));
    assert.notEqual(both, claim({ resources: [GEMMA, { ...GPT, model: 'gpt-oss:120b' }] }));
    assert.match(both, /^nos-cache-[0-9a-f]+$/);
  });
});
