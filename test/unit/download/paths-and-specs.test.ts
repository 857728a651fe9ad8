// The pure rules of the downloader, as tables: which paths may be written, how each S3 shape
// addresses a bucket, how an Ollama model name reads, and what `--resource` accepts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseOllamaModel } from '../../../src/download/ollama.ts';
import { canonicalJson, downloadIdentity, parseDownloadSpec, rewriteLegacyUrl } from '../../../src/download/resource-spec.ts';
import type { DownloadSpec, S3DownloadSpec } from '../../../src/download/resource-spec.ts';
import { relativeKey, s3Locations } from '../../../src/download/s3.ts';
import { unsafePathReason } from '../../../src/download/safe-path.ts';

describe('which paths a download may write', () => {
  const rows: { reason: string; path: string; want: RegExp | undefined }[] = [
    { reason: 'a plain nested path is fine', path: 'text_encoders/t5xxl.safetensors', want: undefined },
    { reason: 'dots inside a name are fine', path: 'a..b/.hidden/v1.0', want: undefined },
    { reason: 'a colon (an Ollama registry with a port) is fine', path: 'manifests/localhost:5000/library/m/latest', want: undefined },
    { reason: "'..' climbs out of the destination", path: '../../etc/passwd', want: /climbs out/ },
    { reason: "'..' in the middle climbs too", path: 'models/../../../root/.ssh/authorized_keys', want: /climbs out/ },
    { reason: 'an absolute path is refused', path: '/etc/passwd', want: /absolute/ },
    { reason: 'a NUL byte is refused (C APIs would cut the name there)', path: 'model.bin\u0000.txt', want: /NUL/ },
    { reason: 'other control characters are refused', path: 'model\n.bin', want: /control character/ },
    { reason: 'a backslash is refused', path: '..\\..\\windows', want: /backslash/ },
    { reason: "a '.' segment is refused (two keys would name one file)", path: 'a/./b', want: /'\.' segment/ },
    { reason: 'a doubled slash is refused', path: 'a//b', want: /empty segment/ },
    { reason: 'a trailing slash is refused', path: 'a/', want: /empty segment/ },
    { reason: 'an empty path is refused', path: '', want: /empty/ },
    { reason: "the marker's name is the downloader's own", path: '.nosana-resource.json', want: /reserved/ },
    { reason: "the partial directory is the downloader's own", path: '.nosana-partial/1', want: /reserved/ },
    { reason: 'the reserved names are reserved at the root only', path: 'sub/.nosana-resource.json', want: undefined },
    { reason: 'a name longer than 255 bytes cannot be a file name', path: `${'é'.repeat(128)}`, want: /longer than 255/ },
  ];
  for (const row of rows) {
    test(row.reason, () => {
      const reason = unsafePathReason(row.path);
      if (row.want === undefined) assert.equal(reason, undefined);
      else assert.match(reason ?? '(accepted)', row.want);
    });
  }
});

describe('how an S3 resource addresses its bucket', () => {
  const rows: {
    reason: string;
    spec: S3DownloadSpec;
    want: { bucketUrl: string; pathStyle: boolean; prefix: string; files?: string[] }[];
  }[] = [
    {
      reason: "a url alone: its origin is the bucket (Nosana's model domain) and its path the prefix",
      spec: { type: 'S3', url: 'https://models.nosana.io/flux/schnell' },
      want: [{ bucketUrl: 'https://models.nosana.io', pathStyle: false, prefix: 'flux/schnell' }],
    },
    {
      reason: "the legacy s3:// URL of Nosana's bucket is read at https://models.nosana.io",
      spec: { type: 'S3', url: 's3://nos-ai-models-qllsn32u/hugging-face/llama3.1/70b/4x/models--x' },
      want: [{ bucketUrl: 'https://models.nosana.io', pathStyle: false, prefix: 'hugging-face/llama3.1/70b/4x/models--x' }],
    },
    {
      reason: 'a trailing slash does not change the prefix',
      spec: { type: 'S3', url: 'https://models.nosana.io/test/', files: ['a.bin'] },
      want: [{ bucketUrl: 'https://models.nosana.io', pathStyle: false, prefix: 'test', files: ['a.bin'] }],
    },
    {
      reason: 'url + bucket with the bucket as first path segment is path-style (R2, as in the IAM example)',
      spec: { type: 'S3', url: 'https://ai.r2.cloudflarestorage.com/ai-model/entrypoint', bucket: 'ai-model' },
      want: [{ bucketUrl: 'https://ai.r2.cloudflarestorage.com/ai-model', pathStyle: true, prefix: 'entrypoint' }],
    },
    {
      reason: 'url + bucket where the host starts with the bucket is virtual-hosted',
      spec: { type: 'S3', url: 'https://my-bucket.s3.eu-west-1.amazonaws.com/weights', bucket: 'my-bucket' },
      want: [{ bucketUrl: 'https://my-bucket.s3.eu-west-1.amazonaws.com', pathStyle: false, prefix: 'weights' }],
    },
    {
      reason: 'url + bucket named nowhere in the URL puts the bucket in the path',
      spec: { type: 'S3', url: 'https://minio.example:9000/weights', bucket: 'models' },
      want: [{ bucketUrl: 'https://minio.example:9000/models', pathStyle: true, prefix: 'weights' }],
    },
    {
      reason: 'bucket alone is the bucket on AWS, in the region of the credentials',
      spec: { type: 'S3', bucket: 'models' },
      want: [{ bucketUrl: 'https://s3.eu-west-1.amazonaws.com/models', pathStyle: true, prefix: '' }],
    },
    {
      reason: 'buckets: each URL is one location with its own files, after url',
      spec: {
        type: 'S3',
        url: 'https://a.example/x',
        buckets: [{ url: 'https://b.example/y', files: ['f'] }, { url: 'https://c.example' }],
      },
      want: [
        { bucketUrl: 'https://a.example', pathStyle: false, prefix: 'x' },
        { bucketUrl: 'https://b.example', pathStyle: false, prefix: 'y', files: ['f'] },
        { bucketUrl: 'https://c.example', pathStyle: false, prefix: '' },
      ],
    },
    {
      reason: 'a %-escaped path is decoded into the key prefix',
      spec: { type: 'S3', url: 'https://b.example/my%20models/v1' },
      want: [{ bucketUrl: 'https://b.example', pathStyle: false, prefix: 'my models/v1' }],
    },
  ];
  for (const row of rows) {
    test(row.reason, () => {
      const locations = s3Locations(row.spec, 'eu-west-1').map(({ source: _source, ...location }) => location);
      assert.deepEqual(locations, row.want);
    });
  }

  const refusals: { reason: string; spec: S3DownloadSpec; want: RegExp }[] = [
    {
      reason: 'a file:// URL is not fetched',
      spec: { type: 'S3', url: 'file:///etc/passwd' },
      want: /only http and https URLs are fetched, not file:/,
    },
    {
      reason: "an s3:// URL other than Nosana's bucket has no https address",
      spec: { type: 'S3', url: 's3://other-bucket/x' },
      want: /not s3:/,
    },
    {
      reason: 'credentials in the URL are refused',
      spec: { type: 'S3', url: 'https://user:pw@b.example/x' },
      want: /credentials in a URL/,
    },
    { reason: 'a query has no meaning for a prefix', spec: { type: 'S3', url: 'https://b.example/x?versionId=1' }, want: /query/ },
    { reason: 'a bucket name with a slash is not a bucket name', spec: { type: 'S3', bucket: 'a/../b' }, want: /not a bucket name/ },
    { reason: 'no url, bucket or buckets: nothing to fetch', spec: { type: 'S3' }, want: /needs "url", "bucket" or "buckets"/ },
  ];
  for (const row of refusals) {
    test(`refused: ${row.reason}`, () => assert.throws(() => s3Locations(row.spec), row.want));
  }

  const keys: { reason: string; prefix: string; key: string; want: string | undefined }[] = [
    {
      reason: 'a key under the prefix directory is relative to it',
      prefix: 'flux/schnell',
      key: 'flux/schnell/vae/ae.sft',
      want: 'vae/ae.sft',
    },
    {
      reason: 'a sibling sharing the prefix text is not under it',
      prefix: 'flux/schnell',
      key: 'flux/schnell-fp8/model.sft',
      want: undefined,
    },
    {
      reason: 'a prefix that is itself an object is that file, under its last name',
      prefix: 'test/model.bin',
      key: 'test/model.bin',
      want: 'model.bin',
    },
    { reason: 'an empty prefix is the whole bucket', prefix: '', key: 'a/b', want: 'a/b' },
  ];
  for (const row of keys) test(row.reason, () => assert.equal(relativeKey(row.prefix, row.key), row.want));
});

describe('how an Ollama model name reads', () => {
  const rows = [
    {
      reason: 'a bare name is library/<name>:latest on registry.ollama.ai',
      name: 'llama3',
      want: ['registry.ollama.ai', 'library', 'llama3', 'latest'],
    },
    { reason: 'a tag follows the colon', name: 'gemma3:4b-it-qat', want: ['registry.ollama.ai', 'library', 'gemma3', '4b-it-qat'] },
    { reason: 'a namespace before a slash', name: 'user/model:v1', want: ['registry.ollama.ai', 'user', 'model', 'v1'] },
    { reason: 'three parts start with the registry host', name: 'hf.co/org/repo:Q4_K_M', want: ['hf.co', 'org', 'repo', 'Q4_K_M'] },
  ];
  for (const row of rows) {
    test(row.reason, () => {
      const { host, namespace, model, tag } = parseOllamaModel(row.name);
      assert.deepEqual([host, namespace, model, tag], row.want);
    });
  }
  const refusals = [
    { reason: "'..' cannot be a namespace", name: '../model', want: /not a valid namespace/ },
    { reason: "'..' cannot be a tag", name: 'model:..', want: /not a valid tag/ },
    { reason: 'more than three parts', name: 'a/b/c/d', want: /\[host\/\]\[namespace\/\]model/ },
    { reason: 'a digest reference', name: 'model@sha256:00', want: /digest reference/ },
    { reason: 'an empty model', name: 'library/', want: /not a valid model/ },
  ];
  for (const row of refusals) test(`refused: ${row.reason}`, () => assert.throws(() => parseOllamaModel(row.name), row.want));
});

describe('what --resource accepts', () => {
  const accepted: { reason: string; type: string; json: unknown; want: DownloadSpec }[] = [
    {
      reason: "the executor's S3 spec",
      type: 'S3',
      json: { type: 'S3', url: 'https://models.nosana.io/x' },
      want: { type: 'S3', url: 'https://models.nosana.io/x' },
    },
    {
      reason: 'an HF spec without revision',
      type: 'HF',
      json: { type: 'HF', repo: 'org/m', files: ['a'] },
      want: { type: 'HF', repo: 'org/m', files: ['a'] },
    },
    {
      reason: 'an Ollama spec',
      type: 'Ollama',
      json: { type: 'Ollama', model: 'llama3:8b' },
      want: { type: 'Ollama', model: 'llama3:8b' },
    },
  ];
  for (const row of accepted) test(row.reason, () => assert.deepEqual(parseDownloadSpec(row.type, JSON.stringify(row.json)), row.want));

  const refused: { reason: string; type: string; json: string; want: RegExp }[] = [
    { reason: 'an unknown type', type: 'IPFS', json: '{}', want: /unknown resource type "IPFS"/ },
    { reason: 'text that is not JSON', type: 'S3', json: '{nope', want: /not JSON/ },
    { reason: "a type other than the command's", type: 'S3', json: '{"type":"HF","repo":"a/b"}', want: /type "HF", the command says S3/ },
    {
      reason: 'credentials on the command line (they belong in the environment)',
      type: 'S3',
      json: JSON.stringify({ type: 'S3', url: 'https://b.example/x', IAM: { REGION: 'r', ACCESS_KEY_ID: 'k', SECRET_ACCESS_KEY: 's' } }),
      want: /must not have "IAM": credentials come from the environment/,
    },
    {
      reason: 'an HF token on the command line',
      type: 'HF',
      json: '{"type":"HF","repo":"a/b","accessToken":"t"}',
      want: /"accessToken".*HF_TOKEN/,
    },
    { reason: 'a mount path', type: 'Ollama', json: '{"type":"Ollama","model":"m","target":"/x"}', want: /must not have "target"/ },
    {
      reason: 'what the definition schema refuses (bucket with buckets)',
      type: 'S3',
      json: '{"type":"S3","bucket":"b","buckets":[{"url":"https://x"}]}',
      want: /resource\.buckets: cannot be combined/,
    },
    { reason: 'an unknown key', type: 'HF', json: '{"type":"HF","repo":"a/b","branch":"dev"}', want: /branch/ },
  ];
  for (const row of refused) {
    test(`refused: ${row.reason}`, () => {
      const parsed = parseDownloadSpec(row.type, row.json);
      assert.ok('problem' in parsed, 'expected a problem');
      assert.match(parsed.problem, row.want);
    });
  }

  test('identity: the HF revision defaults to main, the legacy S3 URL is rewritten, key order does not matter', () => {
    assert.equal(
      canonicalJson(downloadIdentity({ type: 'HF', repo: 'org/m' })),
      canonicalJson(downloadIdentity({ type: 'HF', repo: 'org/m', revision: 'main' })),
    );
    assert.notEqual(
      canonicalJson(downloadIdentity({ type: 'HF', repo: 'org/m' })),
      canonicalJson(downloadIdentity({ type: 'HF', repo: 'org/m', revision: 'dev' })),
    );
    assert.equal(
      canonicalJson(downloadIdentity({ type: 'S3', url: 's3://nos-ai-models-qllsn32u/x' })),
      canonicalJson(downloadIdentity({ type: 'S3', url: 'https://models.nosana.io/x' })),
    );
    assert.equal(canonicalJson({ b: 1, a: { d: 2, c: 3 } }), '{"a":{"c":3,"d":2},"b":1}');
    assert.equal(rewriteLegacyUrl('s3://nos-ai-models-qllsn32u-other/x'), 's3://nos-ai-models-qllsn32u-other/x', 'only that bucket');
  });
});
