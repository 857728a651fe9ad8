// The S3 signer against known answers: AWS's published SigV4 examples for S3 (GetObject with a
// Range, and ListObjects), made with the documented example credentials, and the independent
// verifier the loopback S3 uses, which must agree with those same answers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { amzDate, signRequest, uriEncode } from '../../../src/download/sigv4.ts';
import { expectedSignature } from './loopback.ts';

// From AWS's "Signature Calculations for the Authorization Header" examples (S3 API reference).
const EXAMPLE_CREDENTIALS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  region: 'us-east-1',
};
const EXAMPLE_TIME = new Date('2013-05-24T00:00:00Z');
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const VECTORS: { reason: string; url: string; headers: Record<string, string>; signedHeaders: string; signature: string }[] = [
  {
    reason: 'GET Object: GET /test.txt with "Range: bytes=0-9" signs host, range, x-amz-content-sha256 and x-amz-date',
    url: 'https://examplebucket.s3.amazonaws.com/test.txt',
    headers: { Range: 'bytes=0-9' },
    signedHeaders: 'host;range;x-amz-content-sha256;x-amz-date',
    signature: 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  },
  {
    reason: 'GET Bucket (List Objects): the query max-keys=2&prefix=J is part of the canonical request',
    url: 'https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J',
    headers: {},
    signedHeaders: 'host;x-amz-content-sha256;x-amz-date',
    signature: '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7',
  },
];

describe('SigV4 signer: AWS published examples', () => {
  for (const vector of VECTORS) {
    test(vector.reason, () => {
      const headers = signRequest(
        { method: 'GET', url: new URL(vector.url), headers: vector.headers, now: EXAMPLE_TIME },
        EXAMPLE_CREDENTIALS,
      );
      assert.equal(
        headers.authorization,
        `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=${vector.signedHeaders}, Signature=${vector.signature}`,
      );
      assert.equal(headers['x-amz-date'], '20130524T000000Z');
      assert.equal(headers['x-amz-content-sha256'], EMPTY_SHA256);
    });

    test(`the loopback verifier agrees: ${vector.reason}`, () => {
      const url = new URL(vector.url);
      const headers: Record<string, string> = {
        host: url.host,
        'x-amz-date': '20130524T000000Z',
        'x-amz-content-sha256': EMPTY_SHA256,
        ...Object.fromEntries(Object.entries(vector.headers).map(([name, value]) => [name.toLowerCase(), value])),
      };
      const signature = expectedSignature({
        method: 'GET',
        rawPath: url.pathname,
        rawQuery: url.search.slice(1),
        headers,
        signedHeaders: vector.signedHeaders.split(';'),
        amzDate: '20130524T000000Z',
        credentials: EXAMPLE_CREDENTIALS,
        service: 's3',
      });
      assert.equal(signature, vector.signature);
    });
  }

  test('a different secret, region or time gives a different signature', () => {
    const base = { method: 'GET', url: new URL(VECTORS[0]?.url ?? ''), headers: { Range: 'bytes=0-9' }, now: EXAMPLE_TIME };
    const reference = signRequest(base, EXAMPLE_CREDENTIALS).authorization;
    assert.notEqual(signRequest(base, { ...EXAMPLE_CREDENTIALS, secretAccessKey: 'other' }).authorization, reference);
    assert.notEqual(signRequest(base, { ...EXAMPLE_CREDENTIALS, region: 'eu-west-1' }).authorization, reference);
    assert.notEqual(signRequest({ ...base, now: new Date('2013-05-24T00:00:01Z') }, EXAMPLE_CREDENTIALS).authorization, reference);
  });
});

describe('SigV4 encoding', () => {
  const rows = [
    { reason: 'unreserved characters stay', text: 'Az09-_.~', keepSlash: false, want: 'Az09-_.~' },
    { reason: 'a space is %20, never +', text: 'a b', keepSlash: false, want: 'a%20b' },
    {
      reason: "the characters encodeURIComponent leaves alone (!'()*) are encoded",
      text: "!'()*",
      keepSlash: false,
      want: '%21%27%28%29%2A',
    },
    { reason: 'UTF-8 bytes are encoded one by one, in upper-case hex', text: 'ü', keepSlash: false, want: '%C3%BC' },
    { reason: 'an object key keeps its slashes', text: 'models/a b/c+d', keepSlash: true, want: 'models/a%20b/c%2Bd' },
    { reason: 'a query value encodes its slashes', text: 'a/b', keepSlash: false, want: 'a%2Fb' },
  ];
  for (const row of rows) {
    test(row.reason, () => assert.equal(uriEncode(row.text, row.keepSlash), row.want));
  }

  test('x-amz-date is the basic ISO 8601 form, UTC, without milliseconds', () => {
    assert.equal(amzDate(new Date('2026-06-01T12:34:56.789Z')), '20260601T123456Z');
  });
});
