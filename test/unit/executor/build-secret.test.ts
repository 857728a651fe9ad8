// Secrets: the registry login as a dockerconfigjson filed under the image's registry, and a
// resource's credential under the keys the download init container reads.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Secret } from '@kubernetes/client-node';
import type { Resource } from '../../../src/api/job-definition/index.ts';
import {
  DOCKER_HUB_KEY,
  buildPullSecret,
  buildResourceCredentialSecret,
  registryOf,
  resourceCredentialEnv,
} from '../../../src/executor/build-secret.ts';
import { JOB_LABEL, OP_INDEX_LABEL } from '../../../src/executor/labels.ts';
import type { OpContext } from '../../../src/executor/labels.ts';
import { pullSecretName, resourceCredentialSecretName } from '../../../src/executor/names.ts';
import { DEFAULT_EXECUTOR_SETTINGS } from '../../../src/executor/settings.ts';

const JOB = '7Uq9yCqnYbTTLfqVv5rZ3gYjNpJZRsqZJ7m2iYVQmAbW';
const OWNER = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'run', uid: 'u' }];
const CONTEXT: OpContext = {
  jobId: JOB,
  opIndex: 1,
  opId: 'hello-world',
  settings: { ...DEFAULT_EXECUTOR_SETTINGS, namespace: 'jobs', operatorImage: 'op:1' },
  ownerReferences: OWNER,
};

function decoded(secret: V1Secret | undefined, key: string): string {
  const value = secret?.data?.[key];
  assert.ok(value !== undefined, `data.${key}`);
  return Buffer.from(value, 'base64').toString('utf8');
}

describe('registry of an image (Docker rule)', () => {
  const rows: { reason: string; image: string; want: string }[] = [
    { reason: 'an official image is on Docker Hub', image: 'ubuntu', want: DOCKER_HUB_KEY },
    { reason: 'user/image is on Docker Hub', image: 'nosana/comfyui:2.0.5', want: DOCKER_HUB_KEY },
    { reason: 'docker.io/… is Docker Hub', image: 'docker.io/nosana/comfyui:2.0.5', want: DOCKER_HUB_KEY },
    { reason: 'a host with a dot is a registry', image: 'lscr.io/linuxserver/foldingathome:latest', want: 'lscr.io' },
    { reason: 'a host with a port is a registry', image: 'my-registry:5000/team/app', want: 'my-registry:5000' },
    { reason: 'localhost is a registry', image: 'localhost/app', want: 'localhost' },
    { reason: 'a digest does not confuse it', image: 'ghcr.io/org/app@sha256:abc', want: 'ghcr.io' },
  ];
  for (const { reason, image, want } of rows) {
    test(reason, () => assert.equal(registryOf(image), want));
  }
});

describe('pull Secret', () => {
  test('a dockerconfigjson for the image registry, with auth = base64(user:password)', () => {
    const secret = buildPullSecret(CONTEXT, 'ghcr.io/org/private:1', { username: 'alice', password: 's3cret', email: 'a@example.com' });
    assert.equal(secret.type, 'kubernetes.io/dockerconfigjson');
    assert.equal(secret.metadata?.name, pullSecretName(JOB, 1));
    assert.equal(secret.metadata?.namespace, 'jobs');
    assert.deepEqual(secret.metadata?.ownerReferences, OWNER);
    assert.equal(secret.metadata?.labels?.[JOB_LABEL], JOB);
    assert.equal(secret.metadata?.labels?.[OP_INDEX_LABEL], '1');
    assert.deepEqual(JSON.parse(decoded(secret, '.dockerconfigjson')), {
      auths: { 'ghcr.io': { username: 'alice', password: 's3cret', auth: 'YWxpY2U6czNjcmV0', email: 'a@example.com' } },
    });
  });

  test('the server the definition names wins over the image registry', () => {
    const secret = buildPullSecret(CONTEXT, 'ubuntu', { username: 'u', password: 'p', server: 'https://registry.example.com' });
    assert.deepEqual(Object.keys((JSON.parse(decoded(secret, '.dockerconfigjson')) as { auths: object }).auths), [
      'https://registry.example.com',
    ]);
  });

  test('empty credentials (cli-private-docker.json) still make a Secret, for Docker Hub', () => {
    const secret = buildPullSecret(CONTEXT, 'ubuntu', { username: '', password: '' });
    const config = JSON.parse(decoded(secret, '.dockerconfigjson')) as { auths: Record<string, { auth: string }> };
    assert.equal(config.auths[DOCKER_HUB_KEY]?.auth, Buffer.from(':').toString('base64'));
  });
});

describe('resource credential Secret', () => {
  const rows: { reason: string; resource: Resource; want: Record<string, string> | undefined }[] = [
    {
      reason: 'S3 IAM becomes the AWS variables S3 clients read',
      resource: { type: 'S3', url: 'https://x', target: '/d', IAM: { REGION: 'eu-1', ACCESS_KEY_ID: 'AKIA1', SECRET_ACCESS_KEY: 'sk1' } },
      want: { AWS_REGION: 'eu-1', AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 'sk1' },
    },
    {
      reason: 'an HF access token becomes HF_TOKEN',
      resource: { type: 'HF', repo: 'org/m', target: '/m', accessToken: 'hf_1' },
      want: { HF_TOKEN: 'hf_1' },
    },
    { reason: 'a public S3 resource has no Secret', resource: { type: 'S3', url: 'https://x', target: '/d' }, want: undefined },
    { reason: 'a public HF repo has no Secret', resource: { type: 'HF', repo: 'org/m', target: '/m' }, want: undefined },
    { reason: 'an Ollama model has no Secret', resource: { type: 'Ollama', model: 'm' }, want: undefined },
  ];
  for (const { reason, resource, want } of rows) {
    test(reason, () => {
      const secret = buildResourceCredentialSecret(CONTEXT, 3, resource);
      if (want === undefined) {
        assert.equal(secret, undefined);
        assert.deepEqual(resourceCredentialEnv(resource), {});
        return;
      }
      assert.equal(secret?.type, 'Opaque');
      assert.equal(secret?.immutable, true);
      assert.equal(secret?.metadata?.name, resourceCredentialSecretName(JOB, 1, 3));
      assert.deepEqual(Object.keys(secret?.data ?? {}), Object.keys(want));
      for (const [key, value] of Object.entries(want)) assert.equal(decoded(secret, key), value);
    });
  }
});
