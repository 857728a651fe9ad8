// The demo runs the controller and the node agent in-process: their settings must be what the
// `controller` and `node` commands would get with `--localnet DIR` (so the demo shows the real
// configuration), apart from what the demo changes on purpose: no leader election, ports the
// kernel picks, and short intervals.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseControllerArgs } from '../../../src/cli/controller.ts';
import type { ControllerSettings } from '../../../src/cli/controller.ts';
import { parseNodeArgs } from '../../../src/cli/node.ts';
import type { NodeAgentSettings } from '../../../src/cli/node.ts';
import {
  DEMO_NODE_TIMINGS,
  DEMO_OPERATOR_IMAGE,
  demoManagerSettings,
  demoNetworks,
  demoNodeAgentSettings,
} from '../../../src/demo/operator-settings.ts';
import type { LocalnetInfo } from '../../../src/localnet/localnet.ts';
import { parseBindAddress } from '../../../src/runtime/health-server.ts';

const INFO: LocalnetInfo = {
  network: 'localnet',
  rpcUrl: 'http://127.0.0.1:18899',
  wsUrl: 'ws://127.0.0.1:18900',
  ipfsApiUrl: 'http://127.0.0.1:15001',
  gatewayUrl: 'http://127.0.0.1:15001/ipfs/',
  market: '11111111111111111111111111111111',
  nosMint: '11111111111111111111111111111111',
  jobsProgram: '11111111111111111111111111111111',
  stakingProgram: '11111111111111111111111111111111',
  posterWallet: '/nowhere/poster-wallet.json',
  posterAddress: '11111111111111111111111111111111',
  nodeKey: '/nowhere/node-key.json',
  nodeAddress: '11111111111111111111111111111111',
};

describe('the demo runs the operator as its commands would with --localnet', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nosana-demo-settings-'));
    await writeFile(join(dir, 'localnet.json'), JSON.stringify(INFO));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the controller: the same networks as `controller --localnet DIR`, localnet the default', async () => {
    const command = (await parseControllerArgs(['--localnet', dir], {})) as ControllerSettings;
    const demo = demoManagerSettings(demoNetworks(INFO));
    assert.deepEqual(demo.networks, command.networks);
    assert.equal(demo.networks.defaultNetwork, 'localnet');
    assert.equal(demo.networks.networks.localnet.rpcUrl, INFO.rpcUrl);
    assert.deepEqual(demo.networks.networks.localnet.gatewayUrls, [INFO.gatewayUrl]);
    assert.equal(demo.jobs.logsConfigMapMaxBytes, command.jobs.logsConfigMapMaxBytes);
    assert.equal(demo.jobs.logTailMaxBytes, command.jobs.logTailMaxBytes);
    assert.ok(demo.jobs.pollIntervalMs <= 1_000, 'queued and running jobs are read at least every second');
  });

  test('the node agent: the containment `node --operator-image nosana-operator:demo` gets by default, and a join settle of 2 s', async () => {
    const command = (await parseNodeArgs(['--localnet', dir, '--operator-image', DEMO_OPERATOR_IMAGE], {})) as NodeAgentSettings;
    const demo = demoNodeAgentSettings(demoNetworks(INFO));
    assert.deepEqual(demo.networks, command.networks);
    assert.deepEqual(demo.containment, command.containment);
    assert.deepEqual(demo.timings, DEMO_NODE_TIMINGS);
    assert.equal(demo.timings.joinSettleMs, 2_000);
    assert.ok(demo.timings.pollIntervalMs <= 1_000);
    assert.equal(demo.timings.maxEndingFailures, command.timings.maxEndingFailures);
    assert.equal(demo.timings.lowBalanceLamports, command.timings.lowBalanceLamports);
  });

  test('both: one replica (no Lease), only the demo namespace, probes on loopback ports the kernel picks', () => {
    for (const settings of [demoManagerSettings(demoNetworks(INFO)), demoNodeAgentSettings(demoNetworks(INFO))]) {
      assert.equal(settings.leaderElection, undefined);
      assert.deepEqual(settings.namespaces, ['nosana-demo']);
      for (const address of [settings.metricsAddress, settings.probeAddress]) {
        assert.deepEqual(parseBindAddress(address, 'address'), { host: '127.0.0.1', port: 0 });
      }
    }
  });
});
