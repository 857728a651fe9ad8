// The controller's NosanaDeployment flags: where probes go (a gateway per service domain) and what
// they may never reach, each refused with the flag named when it cannot be right.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseControllerArgs } from '../../../src/cli/controller.ts';

async function deployments(args: string[]) {
  const settings = await parseControllerArgs(args, {});
  assert.notEqual(settings, 'help');
  if (settings === 'help') throw new Error('help');
  return settings.deployments;
}

describe('controller flags for NosanaDeployment probes', () => {
  test('none: each URL probed directly, nothing denied beyond the ranges always denied', async () => {
    const settings = await deployments([]);
    assert.deepEqual([...settings.probeGateways], []);
    assert.deepEqual(settings.probeDeniedCidrs, []);
  });

  test('--probe-gateway DOMAIN=URL (the domain lowercased) and --probe-denied-cidr, each repeatable', async () => {
    const settings = await deployments([
      '--probe-gateway',
      'Node.K8s.Example=http://tunnel-gateway.infra:8080',
      '--probe-gateway',
      'other.example=https://gw.example',
      '--probe-denied-cidr',
      '34.118.224.0/20',
      '--probe-denied-cidr',
      '2600:1900::/28',
    ]);
    assert.deepEqual(Object.fromEntries(settings.probeGateways), {
      'node.k8s.example': 'http://tunnel-gateway.infra:8080',
      'other.example': 'https://gw.example',
    });
    assert.deepEqual(settings.probeDeniedCidrs, ['34.118.224.0/20', '2600:1900::/28']);
  });

  for (const [args, message] of [
    [['--probe-gateway', 'http://gw.example'], /^--probe-gateway takes DOMAIN=URL/],
    [['--probe-gateway', 'bad_domain=http://gw.example'], /^--probe-gateway takes DOMAIN=URL/],
    [['--probe-gateway', 'node.example=ftp://gw.example'], /--probe-gateway/],
    [['--probe-denied-cidr', '34.118.224.0'], /^--probe-denied-cidr: "34.118.224.0" is not a CIDR/],
    [['--probe-denied-cidr', '10.0.0.0/33'], /^--probe-denied-cidr: "10.0.0.0\/33" is not a CIDR/],
  ] as const) {
    test(`refused, naming the flag: ${args.join(' ')}`, async () => {
      await assert.rejects(parseControllerArgs([...args], {}), (error: Error) => message.test(error.message));
    });
  }
});
