import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fetchFrom, resolveRetryPolicy } from '../../../src/ipfs/http.ts';
import { DEFAULT_RETRY_POLICY, retryDelayMs } from '../../../src/http/retry.ts';
import { IpfsServiceError } from '../../../src/ipfs/errors.ts';
import { normaliseGatewayUrl } from '../../../src/ipfs/gateway.ts';

describe('retryDelayMs', () => {
  const policy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };

  test('backoff doubles per retry up to the cap, jittered below it', () => {
    const top = () => 1;
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((retry) => retryDelayMs(retry, policy, undefined, top)),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.equal(
      retryDelayMs(3, policy, undefined, () => 0),
      0,
    );
    fc.assert(
      fc.property(fc.nat({ max: 30 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (retry, draw) => {
        const delay = retryDelayMs(retry, policy, undefined, () => draw);
        assert.ok(delay !== undefined && delay >= 0 && delay <= Math.min(1000, 100 * 2 ** retry), `${delay}`);
      }),
    );
  });

  test('Retry-After wins over backoff, and one beyond the cap ends the retries', () => {
    assert.equal(retryDelayMs(0, policy, 0), 0);
    assert.equal(retryDelayMs(4, policy, 700), 700);
    assert.equal(retryDelayMs(0, policy, 1000), 1000);
    assert.equal(retryDelayMs(0, policy, 1001), undefined);
  });
});

describe('fetchFrom', () => {
  test('a failure quoting a URL with credentials: no credential in the message or the cause chain', async () => {
    // fetch refuses a URL with userinfo, quoting all of it in its message.
    const error = await fetchFrom('kubo (http://127.0.0.1:1)', 'http://user:secretpass@127.0.0.1:1/?api-key=SECRETKEY', {}).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    assert.ok(error instanceof IpfsServiceError);
    assert.match(error.message, /^kubo \(http:\/\/127\.0\.0\.1:1\) could not be reached: .*127\.0\.0\.1:1/);
    const texts: string[] = [];
    for (let link: unknown = error; link instanceof Error; link = link.cause) texts.push(link.message, String(link), link.stack ?? '');
    for (const text of texts) assert.doesNotMatch(text, /secretpass|SECRETKEY/);
  });
});

describe('resolveRetryPolicy', () => {
  test('fills defaults and rejects nonsense', () => {
    assert.deepEqual(resolveRetryPolicy(undefined), DEFAULT_RETRY_POLICY);
    assert.deepEqual(resolveRetryPolicy({ attempts: 1 }), { ...DEFAULT_RETRY_POLICY, attempts: 1 });
    assert.throws(() => resolveRetryPolicy({ attempts: 0 }), /retry.attempts must be an integer >= 1, got 0/);
    assert.throws(() => resolveRetryPolicy({ maxDelayMs: -1 }), /retry.maxDelayMs must be a finite number >= 0, got -1/);
  });
});

describe('normaliseGatewayUrl', () => {
  test('accepts the host alone or the /ipfs/ base', () => {
    for (const url of ['https://gw.example', 'https://gw.example/', 'https://gw.example/ipfs', 'https://gw.example/ipfs/']) {
      assert.equal(normaliseGatewayUrl(url), 'https://gw.example/ipfs/', url);
    }
    assert.equal(normaliseGatewayUrl('http://127.0.0.1:8080/prefix'), 'http://127.0.0.1:8080/prefix/ipfs/');
  });

  test('refuses what is not an http(s) base URL', () => {
    assert.throws(() => normaliseGatewayUrl('gw.example'), /gateway URL "gw.example" is not a valid URL/);
    assert.throws(() => normaliseGatewayUrl('ftp://gw.example'), /must use http or https/);
    assert.throws(() => normaliseGatewayUrl('https://gw.example/ipfs/?x=1'), /must not have a query or fragment/);
    assert.throws(
      () => normaliseGatewayUrl('https://user:secret@gw.example'),
      (error: Error) => {
        assert.match(error.message, /must not embed credentials/);
        assert.doesNotMatch(error.message, /secret/);
        return true;
      },
    );
  });
});
