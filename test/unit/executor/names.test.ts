// Object names and labels: deterministic, valid as DNS labels and label values, distinct between
// jobs, ops, kinds and resource credentials, and never carrying a credential.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Resource } from '../../../src/api/job-definition/index.ts';
import {
  JOB_ID_ANNOTATION,
  JOB_LABEL,
  MANAGED_BY_LABEL,
  NODE_LABEL,
  OP_ID_ANNOTATION,
  OP_INDEX_LABEL,
  OP_LABEL,
  RUN_LABEL,
  isLabelValue,
  jobObjectMeta,
  jobSelector,
  labelValue,
  opLabels,
  opObjectMeta,
  opSelectorLabels,
} from '../../../src/executor/labels.ts';
import {
  credentialFingerprint,
  exposureRouteName,
  isDnsLabel,
  jobStem,
  jobVolumeClaimName,
  networkPolicyName,
  opPodName,
  opServiceName,
  privateResourceClaimName,
  pullSecretName,
  resourceCacheClaimName,
  resourceClaimName,
  resourceCredentialSecretName,
  runConfigMapName,
} from '../../../src/executor/names.ts';
import { DEFAULT_EXECUTOR_SETTINGS } from '../../../src/executor/settings.ts';
import type { ExecutorSettings } from '../../../src/executor/settings.ts';

const JOB = '7Uq9yCqnYbTTLfqVv5rZ3gYjNpJZRsqZJ7m2iYVQmAbW'; // a base58 address, 44 characters
const OTHER_JOB = '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin';
const SETTINGS: ExecutorSettings = { ...DEFAULT_EXECUTOR_SETTINGS, namespace: 'jobs', operatorImage: 'op:1' };

describe('names', () => {
  test('the job stem is nos- and the first 16 hex digits of sha256(job id)', () => {
    // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad (FIPS 180-2 example)
    assert.equal(jobStem('abc'), 'nos-ba7816bf8f01cfea');
    assert.notEqual(jobStem(JOB), jobStem(OTHER_JOB));
    assert.equal(jobStem(JOB), jobStem(JOB));
  });

  const rows: { reason: string; name: string; want: string }[] = [
    { reason: "an op's Pod is <stem>-<op index>", name: opPodName('abc', 3), want: 'nos-ba7816bf8f01cfea-3' },
    { reason: "an op's Service has the Pod's name", name: opServiceName('abc', 3), want: 'nos-ba7816bf8f01cfea-3' },
    { reason: 'a route is <stem>-<op index>-<port>', name: exposureRouteName('abc', 1, 8080), want: 'nos-ba7816bf8f01cfea-1-8080' },
    {
      reason: 'a DNS-safe volume name stays readable',
      name: jobVolumeClaimName('abc', 'matlab-data'),
      want: 'nos-ba7816bf8f01cfea-vol-matlab-data',
    },
    { reason: 'a pull Secret is <stem>-pull-<op index>', name: pullSecretName('abc', 2), want: 'nos-ba7816bf8f01cfea-pull-2' },
    {
      reason: 'a resource credential Secret is <stem>-cred-<op>-<resource>',
      name: resourceCredentialSecretName('abc', 2, 1),
      want: 'nos-ba7816bf8f01cfea-cred-2-1',
    },
    {
      reason: 'a private resource copy is <stem>-res-<op>-<resource>',
      name: privateResourceClaimName('abc', 0, 4),
      want: 'nos-ba7816bf8f01cfea-res-0-4',
    },
    { reason: 'the GPU claim is <stem>-gpu', name: resourceClaimName('abc'), want: 'nos-ba7816bf8f01cfea-gpu' },
    { reason: 'the NetworkPolicy is the stem', name: networkPolicyName('abc'), want: 'nos-ba7816bf8f01cfea' },
    { reason: 'the run ConfigMap is <stem>-run', name: runConfigMapName('abc'), want: 'nos-ba7816bf8f01cfea-run' },
  ];
  for (const { reason, name, want } of rows) {
    test(reason, () => {
      assert.equal(name, want);
      assert.ok(isDnsLabel(name), `${name} is a DNS label`);
    });
  }

  const hashedVolumes: { reason: string; volume: string }[] = [
    { reason: 'uppercase is not DNS-safe', volume: 'Data' },
    { reason: 'an underscore is not DNS-safe', volume: 'my_volume' },
    { reason: 'a leading dash is not DNS-safe', volume: '-x' },
    { reason: 'too long to fit in 63 characters after the stem', volume: 'a'.repeat(40) },
    { reason: 'an empty name', volume: '' },
  ];
  for (const { reason, volume } of hashedVolumes) {
    test(`a volume name is hashed when ${reason}`, () => {
      const name = jobVolumeClaimName(JOB, volume);
      assert.match(name, /^nos-[0-9a-f]{16}-volh-[0-9a-f]{10}$/);
      assert.ok(isDnsLabel(name));
    });
  }

  test('the longest readable volume name still fits in 63 characters', () => {
    const volume = 'a'.repeat(63 - 'nos-0123456789abcdef-vol-'.length);
    assert.equal(jobVolumeClaimName(JOB, volume), `${jobStem(JOB)}-vol-${volume}`);
    assert.equal(jobVolumeClaimName(JOB, volume).length, 63);
  });

  test('volume names never collide: names differing only in case, and a readable name that looks hashed', () => {
    const names = ['data', 'Data', 'DATA', 'h-0123456789', `h-${jobVolumeClaimName(JOB, 'Data').slice(-10)}`].map((volume) =>
      jobVolumeClaimName(JOB, volume),
    );
    assert.equal(new Set(names).size, names.length, names.join('\n'));
  });

  test("two jobs' objects never share a name", () => {
    const of = (job: string) => [opPodName(job, 0), jobVolumeClaimName(job, 'x'), pullSecretName(job, 0), runConfigMapName(job)];
    const ours = new Set(of(JOB));
    for (const name of of(OTHER_JOB)) assert.ok(!ours.has(name), name);
  });

  test('a job id of any text (the run command) still gives DNS-safe names', () => {
    for (const job of ['my job', 'ÄÖÜ', '', 'x'.repeat(500), 'UPPER.case/with:colons']) {
      for (const name of [opPodName(job, 12), exposureRouteName(job, 12, 65535), runConfigMapName(job), resourceClaimName(job)]) {
        assert.ok(isDnsLabel(name), `${JSON.stringify(job)} → ${name}`);
      }
    }
  });
});

describe('resource cache names', () => {
  const hf: Resource = { type: 'HF', target: '/models', repo: 'org/model', files: ['a.bin'] };
  const hfWithToken: Resource = { ...hf, accessToken: 'hf_secret_token_1' };
  const s3: Resource = { type: 'S3', target: '/data', url: 'https://models.nosana.io/x' };
  const s3Iam = (secret: string): Resource => ({
    ...s3,
    IAM: { REGION: 'eu', ACCESS_KEY_ID: 'AKIA', SECRET_ACCESS_KEY: secret },
  });

  const rows: { reason: string; a: Resource; b: Resource; same: boolean }[] = [
    { reason: 'the mount path is not part of what is cached', a: hf, b: { ...hf, target: '/elsewhere' }, same: true },
    { reason: 'S3 allowWrite does not change the files', a: s3, b: { ...s3, allowWrite: true } as Resource, same: true },
    { reason: 'HF without a revision is revision main', a: hf, b: { ...hf, revision: 'main' } as Resource, same: true },
    { reason: 'another revision is another cache', a: hf, b: { ...hf, revision: 'v2' } as Resource, same: false },
    { reason: 'other files are another cache', a: hf, b: { ...hf, files: ['b.bin'] } as Resource, same: false },
    { reason: 'a token-fetched resource never shares the public cache', a: hf, b: hfWithToken, same: false },
    { reason: 'another token is another cache', a: hfWithToken, b: { ...hf, accessToken: 'hf_other' } as Resource, same: false },
    { reason: 'the same token is the same cache', a: hfWithToken, b: { ...hfWithToken }, same: true },
    { reason: 'S3 with keys never shares the public cache', a: s3, b: s3Iam('k1'), same: false },
    { reason: 'another secret key is another cache', a: s3Iam('k1'), b: s3Iam('k2'), same: false },
    {
      reason: 'an Ollama model is its own cache',
      a: { type: 'Ollama', model: 'llama3:8b' },
      b: { type: 'Ollama', model: 'llama3:70b' },
      same: false,
    },
    {
      reason: 'Ollama target does not matter',
      a: { type: 'Ollama', model: 'm' },
      b: { type: 'Ollama', model: 'm', target: '/root/.ollama/models' },
      same: true,
    },
  ];
  for (const { reason, a, b, same } of rows) {
    test(reason, () => {
      const [nameA, nameB] = [resourceCacheClaimName(a), resourceCacheClaimName(b)];
      assert.match(nameA, /^nos-cache-[0-9a-f]{40}$/);
      assert.ok(isDnsLabel(nameA));
      assert.equal(nameA === nameB, same, `${nameA} vs ${nameB}`);
    });
  }

  test('the credential appears in no name and no fingerprint', () => {
    const secret = 'hf_secret_token_1';
    assert.ok(!resourceCacheClaimName(hfWithToken).includes(secret));
    const fingerprint = credentialFingerprint(hfWithToken);
    assert.match(fingerprint ?? '', /^[0-9a-f]{64}$/);
    assert.equal(credentialFingerprint(hf), undefined, 'a public resource has no fingerprint');
  });
});

describe('labels', () => {
  const valueRows: { reason: string; text: string; verbatim: boolean }[] = [
    { reason: 'a base58 job address is a valid label value', text: JOB, verbatim: true },
    { reason: 'an op id with dots, dashes and underscores is valid', text: 'run.step-1_a', verbatim: true },
    { reason: 'a space is not allowed', text: 'my op', verbatim: false },
    { reason: 'more than 63 characters are not allowed', text: 'a'.repeat(64), verbatim: false },
    { reason: 'a leading dash is not allowed', text: '-op', verbatim: false },
    { reason: 'a trailing dot is not allowed', text: 'op.', verbatim: false },
    { reason: 'an empty id is hashed too (an empty value would say nothing about which op it is)', text: '', verbatim: false },
  ];
  for (const { reason, text, verbatim } of valueRows) {
    test(reason, () => {
      const value = labelValue(text);
      assert.ok(isLabelValue(value), value);
      if (verbatim) assert.equal(value, text);
      else assert.match(value, /^sha256-[0-9a-f]{48}$/);
    });
  }

  test('a hashed value never equals a base58 address (base58 has no "-")', () => {
    assert.ok(labelValue('my job').includes('-'));
    assert.ok(!/-/.test(JOB));
  });

  test('an op object carries managed-by, job, op index, op id and the identity labels', () => {
    const labels = opLabels({
      jobId: JOB,
      opIndex: 2,
      opId: 'serve',
      settings: { ...SETTINGS, identity: { run: 'RunAddr1', node: 'NodeAddr1' } },
    });
    assert.deepEqual(labels, {
      [MANAGED_BY_LABEL]: 'nosana-operator',
      [JOB_LABEL]: JOB,
      [RUN_LABEL]: 'RunAddr1',
      [NODE_LABEL]: 'NodeAddr1',
      [OP_INDEX_LABEL]: '2',
      [OP_LABEL]: 'serve',
    });
  });

  test('without identity and op id, those labels are absent (not empty)', () => {
    const labels = opLabels({ jobId: JOB, opIndex: 0, opId: undefined, settings: SETTINGS });
    assert.deepEqual(Object.keys(labels).sort(), [JOB_LABEL, MANAGED_BY_LABEL, OP_INDEX_LABEL].sort());
  });

  test("an op's selector picks exactly that op of that job; the job selector picks all its ops", () => {
    const ofOp = (job: string, opIndex: number) => opLabels({ jobId: job, opIndex, opId: 'x', settings: SETTINGS });
    const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
      Object.entries(selector).every(([key, value]) => labels[key] === value);
    const opSelector = opSelectorLabels(JOB, 1);
    assert.ok(matches(opSelector, ofOp(JOB, 1)));
    assert.ok(!matches(opSelector, ofOp(JOB, 0)));
    assert.ok(!matches(opSelector, ofOp(OTHER_JOB, 1)));
    const jobMatch = jobSelector(JOB).matchLabels ?? {};
    assert.ok(matches(jobMatch, ofOp(JOB, 0)) && matches(jobMatch, ofOp(JOB, 7)));
    assert.ok(!matches(jobMatch, ofOp(OTHER_JOB, 0)));
  });

  test('metadata: the namespace from settings, raw ids in annotations, owners when given', () => {
    const owner = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'run', uid: 'u1' }];
    const op = opObjectMeta({ jobId: 'my job', opIndex: 0, opId: 'my op', settings: SETTINGS, ownerReferences: owner }, 'n');
    assert.equal(op.namespace, 'jobs');
    assert.equal(op.annotations?.[JOB_ID_ANNOTATION], 'my job');
    assert.equal(op.annotations?.[OP_ID_ANNOTATION], 'my op');
    assert.deepEqual(op.ownerReferences, owner);
    const job = jobObjectMeta({ jobId: JOB, settings: SETTINGS }, 'n');
    assert.equal(job.ownerReferences, undefined);
    assert.equal(Object.hasOwn(job, 'ownerReferences'), false);
  });
});
