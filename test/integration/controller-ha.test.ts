// The controller process when the infrastructure misbehaves: its API server connection is cut
// and comes back (the watch must resume and catch up), and two replicas share one Lease (only
// the leader posts; kill -9 of the leader hands over without a duplicate post).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import type { PublicKey } from '@solana/web3.js';
import type { LeaderElectionOptions } from '../harness/controller-process.ts';
import { logsAtLeast, type OperatorProcess } from '../harness/operator-process.ts';
import { simpleDefinition, WALLET_KEY, type NosanaNamespace } from '../harness/nosana-fixtures.ts';
import { jobAccountsOf } from '../harness/nosana-ledger.ts';
import { useNosanaScene } from '../harness/nosana-scene.ts';
import { sumSamples } from '../harness/prometheus-text.ts';
import { TcpProxy } from '../harness/tcp-proxy.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';

const SETTINGS = { price: 10n, timeout: 600n };
const CUT_MS = 4_000;

/** A NosanaJob paid by a wallet of its own, so its on-chain jobs can be counted exactly. */
async function jobWithOwnWallet(ns: NosanaNamespace, name: string, market: string) {
  const wallet = await ns.wallet(`${name}-wallet`);
  await ns.createJob(name, { market, walletSecretRef: { name: `${name}-wallet`, key: WALLET_KEY }, definition: simpleDefinition() });
  return wallet;
}

async function isLeader(controller: OperatorProcess): Promise<boolean> {
  return sumSamples(await controller.scrape(), 'leader_election_master_status') === 1;
}

/** Jobs this process posted to `market` (other tests' jobs in the namespace post elsewhere). */
async function jobsPosted(controller: OperatorProcess, market: PublicKey): Promise<number> {
  return sumSamples(await controller.scrape(), 'nosana_jobs_posted_total', { market: market.toBase58() });
}

describe('controller availability', () => {
  const scene = useNosanaScene({ prefix: 'nj-ha', startController: false });

  test('the API server connection is cut: nothing is posted meanwhile; restored, the watch resumes and the job is posted once', async () => {
    const current = scene();
    const { ns, localnet } = current;
    const identity = new k8s.KubeConfig();
    identity.loadFromFile(current.identity.kubeconfigPath);
    const proxy = await TcpProxy.forKubeConfig(identity);
    const dir = await mkdtemp(join(tmpdir(), 'nosana-ha-'));
    try {
      const kubeconfigPath = join(dir, 'kubeconfig');
      await writeFile(kubeconfigPath, proxy.kubeConfig(identity).exportConfig(), { mode: 0o600 });
      const controller = await current.startController({ name: 'behind-proxy', kubeconfigPath });
      await controller.waitReady();
      await ns.market('cut', { settings: SETTINGS });

      const logLinesBefore = controller.logs().length;
      proxy.refuse();
      proxy.sever();
      const wallet = await jobWithOwnWallet(ns, 'while-cut', 'cut');
      // the outage lasts a few seconds: long enough for watches to fail and reconnects to be refused
      await new Promise((resolve) => setTimeout(resolve, CUT_MS));
      const warnings = controller
        .logs()
        .slice(logLinesBefore)
        .filter((line) => logsAtLeast(line, 'warn'));
      assert.ok(warnings.length > 0, 'the controller noticed the outage (it logged warnings)');
      assert.deepEqual(await jobAccountsOf(localnet, wallet.publicKey), [], 'nothing is posted while the controller cannot record it');

      proxy.allow();
      const queued = await ns.waitForPhase('while-cut', 'Queued', undefined, 120_000);
      const onChain = await jobAccountsOf(localnet, wallet.publicKey);
      assert.deepEqual(
        onChain.map((entry) => entry.address),
        [queued.status?.jobAddress],
        'exactly one on-chain job',
      );
      assert.ok(controller.running, `the controller survived the cut\n${controller.diagnostics()}`);
    } finally {
      await current.stopControllers();
      await proxy.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('two replicas: only the leader posts; kill -9 of the leader hands over without a duplicate post', async () => {
    const current = scene();
    const { ns, localnet } = current;
    const election: LeaderElectionOptions = {
      namespace: ns.name,
      id: 'nosana-ha-test',
      leaseDuration: '4s',
      renewDeadline: '3s',
      retryPeriod: '1s',
    };
    const replicas = [
      await current.startController({ name: 'replica-a', leaderElection: election }),
      await current.startController({ name: 'replica-b', leaderElection: election }),
    ] as const;
    await Promise.all(replicas.map((replica) => replica.waitReady()));
    const leader = await waitFor(
      async () => {
        const leading = await Promise.all(replicas.map(isLeader));
        if (leading.filter(Boolean).length > 1) throw new Error('two replicas report leadership at once');
        return replicas[leading.indexOf(true)];
      },
      { what: 'one replica to lead', timeoutMs: 60_000, intervalMs: 250 },
    );
    const follower = replicas.find((replica) => replica !== leader)!;
    assert.equal(await isLeader(follower), false);

    const market = await ns.market('shared', { settings: SETTINGS });
    const wallets = [await jobWithOwnWallet(ns, 'ha-1', 'shared'), await jobWithOwnWallet(ns, 'ha-2', 'shared')];
    await ns.waitForPhase('ha-1', 'Queued');
    await ns.waitForPhase('ha-2', 'Queued');
    assert.equal(await jobsPosted(leader, market), 2, 'the leader posted both');
    assert.equal(await jobsPosted(follower, market), 0, 'the follower posted nothing');

    await leader.sigkill();
    await waitFor(() => isLeader(follower), { what: `${follower.name} to take over the Lease`, timeoutMs: 90_000, intervalMs: 500 });
    wallets.push(await jobWithOwnWallet(ns, 'ha-3', 'shared'));
    await ns.waitForPhase('ha-3', 'Queued');
    assert.equal(await jobsPosted(follower, market), 1, 'the new leader posted the new job, and re-posted nothing');
    for (const [index, wallet] of wallets.entries()) {
      const name = `ha-${index + 1}`;
      const job = await ns.job(name);
      const onChain = await jobAccountsOf(localnet, wallet.publicKey);
      assert.deepEqual(
        onChain.map((entry) => entry.address),
        [job?.status?.jobAddress],
        `exactly one on-chain job for ${name}`,
      );
    }
  });
});
