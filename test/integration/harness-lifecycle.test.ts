// The harness never leaves a control plane behind: not after a clean stop, and not when
// the process that started it is killed outright.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../src/local-cluster/binaries.ts';
import { LocalCluster } from '../../src/local-cluster/cluster.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a stopped cluster leaves no process and no files behind', async () => {
  const cluster = await LocalCluster.start({ count: 1 });
  const pids = cluster.pids();
  assert.equal(pids.length, 6, 'etcd, apiserver, scheduler, controller-manager, kwok, provisioner');
  assert.ok(pids.every(alive));
  await cluster.stop();
  assert.deepEqual(pids.filter(alive), []);
  assert.equal(existsSync(cluster.workDir), false);
});

test('killing the process that started a cluster (kill -9) still stops every component', async () => {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'hack', 'dev-cluster.ts')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const kubeconfig = await waitFor(() => /export KUBECONFIG=(\S+)/.exec(output)?.[1], {
    what: 'the dev cluster to start',
    timeoutMs: 60_000,
  });
  const workDir = join(kubeconfig, '..', '..');
  const pids = readFileSync(join(workDir, 'pids'), 'utf8').trim().split('\n').map(Number);
  assert.equal(pids.length, 6);
  assert.ok(pids.every(alive));
  child.kill('SIGKILL');
  await waitFor(() => pids.every((pid) => !alive(pid)), {
    what: 'the watchdog to stop every component',
    timeoutMs: 20_000,
    intervalMs: 200,
  });
  await waitFor(() => !existsSync(workDir), { what: 'the watchdog to remove the work directory', timeoutMs: 10_000 });
});
