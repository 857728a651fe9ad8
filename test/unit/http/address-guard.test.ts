import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AddressGuard } from '../../../src/http/address-guard.ts';

describe('the address guard keeps strangers’ URLs off the cluster', () => {
  const guard = new AddressGuard(['10.0.0.0/8', '169.254.0.0/16', 'fc00::/7']);
  const cases: { reason: string; url: string; refused: boolean }[] = [
    { reason: 'a cluster address is refused', url: 'http://10.1.2.3/job', refused: true },
    { reason: 'the cloud metadata address is refused', url: 'http://169.254.169.254/latest/meta-data', refused: true },
    { reason: "the agent's own loopback is always refused", url: 'http://127.0.0.1:8080/metrics', refused: true },
    { reason: 'localhost resolves to loopback and is refused', url: 'http://localhost:8081/healthz', refused: true },
    { reason: 'IPv6 loopback in brackets is refused', url: 'http://[::1]:8080/', refused: true },
    { reason: 'a private IPv6 range is refused', url: 'https://[fd00::1]/', refused: true },
    { reason: 'a public address is allowed', url: 'https://93.184.216.34/job', refused: false },
    { reason: 'NAT64 of a cluster address is refused', url: 'http://[64:ff9b::a00:1]/', refused: true },
  ];
  for (const { reason, url, refused } of cases) {
    test(reason, async () => {
      const refusal = await guard.refusal(url);
      assert.equal(refusal !== undefined, refused, refusal ?? 'allowed');
      if (refused) assert.match(refusal ?? '', /inside a range the node may not reach/);
    });
  }

  test('the metadata address stays refused when the operator’s own ranges leave link-local out', async () => {
    assert.notEqual(await new AddressGuard(['10.0.0.0/8']).refusal('http://169.254.169.254/'), undefined);
  });

  test('a range that is not a CIDR is a configuration error', () => {
    assert.throws(() => new AddressGuard(['10.0.0.0']), /not a CIDR range/);
  });
});
