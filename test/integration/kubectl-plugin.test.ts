// `kubectl nosana` as a user runs it: the plugin as a child process with KUBECONFIG set, against the
// test cluster with the controller and the node agent serving one market. A job posted from the
// seeds' story.json runs on a NosanaNode as a GPU Pod and comes back Succeeded; the plugin lists it,
// prints its result and logs, waits on it; a job that serves until stopped is read live from its
// Pod, extended and stopped; a missing job and a bad definition get their exit codes and messages.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { REPO_ROOT } from '../../src/local-cluster/binaries.ts';
import type { SimulationRule } from '../../src/local-cluster/simulation.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';
import { useNodeScene } from '../harness/node-scene.ts';

const PLUGIN = join(REPO_ROOT, 'bin', 'kubectl-nosana.js');
const STORY_LINES = ['Tony the tiny hawk lived on a windowsill.', 'He learned to fly in a storm.', 'The end.'];
const SERVER_LINES = ['listening on :8080', 'GET / 200'];

const RULES: SimulationRule[] = [
  {
    name: 'story',
    match: { image: 'docker.io/jeisses/tinyllama:v4' },
    then: { exitCode: 0, runFor: '2s', logs: STORY_LINES.map((text) => ({ stream: 'stdout' as const, text })) },
  },
  // A server: runs until it is stopped.
  { name: 'server', match: { image: 'server' }, then: { logs: SERVER_LINES.map((text) => ({ stream: 'stdout' as const, text })) } },
];

const SERVER_JOB = {
  version: '0.1',
  type: 'container',
  ops: [{ id: 'serve', type: 'container/run', args: { image: 'server', gpu: true } }],
};

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running plugin process whose output can be waited on. */
interface Running {
  output: () => string;
  exited: Promise<Ran>;
  interrupt: () => void;
}

describe('kubectl nosana: the plugin against the whole loop', () => {
  // A watch or a follow that a failed test left running must not outlive the file; registered
  // first, so it runs before the scene's own cleanup.
  const children = new Set<ChildProcess>();
  after(() => {
    for (const child of children) child.kill('SIGKILL');
  });
  const scene = useNodeScene({ prefix: 'kp', rules: RULES });
  let storyJob = '';

  function start(args: readonly string[]): Running {
    const child = spawn(process.execPath, [PLUGIN, ...args, '-n', scene().jobs.ns.name], {
      cwd: REPO_ROOT,
      env: { ...process.env, KUBECONFIG: scene().jobs.ctx.handle.kubeconfigPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    child.on('exit', () => children.delete(child));
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<Ran>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    return { output: () => stdout, exited, interrupt: () => child.kill('SIGINT') };
  }

  const plugin = (...args: string[]): Promise<Ran> => start(args).exited;

  test("post -f story.json --wait: the job is posted, run by the cluster's NosanaNode and Succeeded; exit 0 with its result", async (t) => {
    const node = scene();
    const { ns } = node.jobs;
    try {
      await ns.stage('gpu', { settings: { price: 10n, timeout: 600n } });
      await ns.wallet('gpu-node-key', { sol: 1n });
      await node.createNode('gpu-node', { market: 'gpu', keySecret: 'gpu-node-key' });
      await node.waitForNodePhase('gpu-node', 'Queued', undefined, 90_000);

      const posted = await plugin('post', '-f', 'test/fixtures/story.json', '--market', 'gpu', '--wallet', 'gpu-wallet', '--wait');
      assert.equal(posted.code, 0, `exit 0; stderr: ${posted.stderr}`);
      storyJob = /^nosanajob\.nosana\.io\/(story-[a-z0-9]{5}) created$/m.exec(posted.stdout)?.[1] ?? '';
      assert.notEqual(storyJob, '', `the NosanaJob is named after the file: ${posted.stdout}`);
      assert.match(posted.stderr, /: Running — node \S+ took job/, 'the phases are shown as they happen');
      assert.match(posted.stdout, /- Executed step tinyllama in [\d.]+s\n/);
      assert.match(posted.stdout, /Exited with status success with code 0/);
      const job = await ns.job(storyJob);
      assert.equal(job?.spec.walletSecretRef?.name, 'gpu-wallet', 'the wallet is the one given');
      assert.equal(job?.status?.phase, 'Succeeded');
    } catch (error) {
      t.diagnostic(node.agent.diagnostics(40));
      throw error;
    }
  });

  test('get jobs lists it Succeeded; get nodes shows the NosanaNode; markets shows the price and timeout', async () => {
    assert.ok(storyJob, 'the story job was posted');
    // The poster's side sees the job end first; the node counts it a moment later.
    await scene().waitForNode('gpu-node', 'to count the job', (node) => node.status?.jobsCompleted === 1);
    const [jobs, nodes, markets] = await Promise.all([plugin('get', 'jobs'), plugin('get', 'nnode', '-o', 'wide'), plugin('markets')]);
    assert.equal(jobs.code, 0, jobs.stderr);
    assert.match(jobs.stdout, /^NAME +PHASE +MARKET +NODE +COST +AGE\n/);
    assert.match(jobs.stdout, new RegExp(`^${storyJob} +Succeeded +gpu +\\S+ +[\\d.]+ +\\S+$`, 'm'));

    assert.equal(nodes.code, 0, nodes.stderr);
    assert.match(nodes.stdout, /^gpu-node +gpu +(Queued|Running|Idle) +\S+ .* 1 +\S+/m, 'the node with its one completed job');

    assert.equal(markets.code, 0, markets.stderr);
    assert.match(markets.stdout, /^gpu +localnet +0\.00001 +0\.036 +10m +.* True$/m);
  });

  test('result prints each op as Nosana does, with the simulated story; logs prints it; wait exits 0', async () => {
    assert.ok(storyJob, 'the story job was posted');
    const result = await plugin('result', storyJob);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      new RegExp(`- Executed step tinyllama in [\\d.]+s\\n${STORY_LINES.join('\\n')}\\nExited with status success with code 0\\n`),
    );
    const json = await plugin('result', storyJob, '-o', 'json');
    assert.deepEqual(
      (JSON.parse(json.stdout) as { id: string; exitCode: number }[]).map((op) => [op.id, op.exitCode]),
      [['tinyllama', 0]],
    );

    const logs = await plugin('logs', storyJob);
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, `${STORY_LINES.join('\n')}\n`, 'the full logs, as the ConfigMap keeps them');
    assert.match(logs.stderr, new RegExp(`ConfigMap ${storyJob}-logs`));

    const waited = await plugin('wait', storyJob, '--timeout', '10s');
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal(waited.stdout, `nosanajob.nosana.io/${storyJob} Succeeded\n`);
  });

  test('a running job: logs read (and followed) live from its Pod, extend raises spec.timeout, stop deletes it (get -w sees it go)', async (t) => {
    const node = scene();
    const { ns } = node.jobs;
    const file = join(await mkdtemp(join(tmpdir(), 'kubectl-nosana-')), 'server.json');
    await writeFile(file, JSON.stringify(SERVER_JOB));
    try {
      const posted = await plugin('post', '-f', file, '--market', 'gpu', '--wallet', 'gpu-wallet', '--timeout', '10m', '--name', 'server');
      assert.equal(posted.code, 0, posted.stderr);
      const running = await plugin('wait', 'server', '--for', 'phase=Running', '--timeout', '60s');
      assert.equal(running.code, 0, running.stderr);

      const live = await waitFor(
        async () => {
          const logs = await plugin('logs', 'server');
          if (logs.code === 0 && logs.stdout === `${SERVER_LINES.join('\n')}\n`) return logs;
          throw new Error(`exit ${logs.code}: ${logs.stdout}${logs.stderr}`);
        },
        { what: "the server's log, live from its Pod", timeoutMs: 30_000, intervalMs: 500 },
      );
      assert.equal(live.stderr, '', 'no note: the logs are live, not kept ones');
      const following = start(['logs', 'server', '-f']);
      await waitFor(async () => following.output().includes(SERVER_LINES.at(-1) ?? '') || Promise.reject(new Error(following.output())), {
        what: 'logs -f to print the live log',
        timeoutMs: 15_000,
        intervalMs: 100,
      });

      const extended = await plugin('extend', 'server', '--by', '10m');
      assert.equal(extended.code, 0, extended.stderr);
      assert.match(
        extended.stdout,
        /extended: timeout 10m → 20m \(spec\.timeout 1200\); the controller extends job \S+ on chain, paying 0\.006 NOS/,
      );
      assert.equal((await ns.job('server'))?.spec.timeout, 1200, 'spec.timeout is raised by ten minutes');

      const watch = start(['get', 'jobs', 'server', '-w']);
      await waitFor(async () => watch.output().includes('Running') || Promise.reject(new Error(watch.output())), {
        what: 'the watch to list the job',
        timeoutMs: 10_000,
        intervalMs: 100,
      });
      const stopped = await plugin('stop', 'server', '--wait', '--timeout', '90s');
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(stopped.stdout, /^nosanajob\.nosana\.io\/server deleted: the controller ends job \S+ on chain \(its node is paid/);
      assert.match(stopped.stdout, /^nosanajob\.nosana\.io\/server gone$/m, '--wait waited until it was gone');
      assert.equal(await ns.job('server'), undefined);
      await waitFor(async () => watch.output().includes('(deleted)') || Promise.reject(new Error(watch.output())), {
        what: 'the watch to see the job go',
        timeoutMs: 10_000,
        intervalMs: 100,
      });
      const followed = await following.exited;
      assert.equal(followed.code, 0, `logs -f ends by itself when the job goes: ${followed.stderr}`);
      assert.equal(followed.stdout, `${SERVER_LINES.join('\n')}\n`, 'each line once');
      watch.interrupt();
      const watched = await watch.exited;
      assert.equal(watched.code, 0, `Ctrl-C ends a watch with exit 0: ${watched.stderr}`);
      assert.match(watched.stdout, /^NAME +PHASE/, 'the table first, then a row per change');
    } catch (error) {
      t.diagnostic(node.agent.diagnostics(40));
      throw error;
    }
  });

  test('a missing job: exit 3 naming it; a bad definition: exit 2 naming the path of the problem, nothing applied', async () => {
    const { ns } = scene().jobs;
    const commands = [['result'], ['logs'], ['wait'], ['extend', '--by', '1m'], ['stop']];
    const answers = await Promise.all(commands.map((command) => plugin(...command, 'no-such-job')));
    commands.forEach(([command = ''], index) => {
      const missing = answers[index];
      assert.equal(missing?.code, 3, `${command}: ${missing?.stderr ?? ''}`);
      assert.equal(missing.stderr, `kubectl nosana ${command}: NosanaJob "no-such-job" not found in namespace "${ns.name}"\n`);
    });

    const file = join(await mkdtemp(join(tmpdir(), 'kubectl-nosana-')), 'bad.json');
    await writeFile(
      file,
      JSON.stringify({ version: '0.1', type: 'container', ops: [{ id: 'x', type: 'container/run', args: { gpu: true } }] }),
    );
    const bad = await plugin('post', '-f', file, '--market', 'gpu', '--name', 'bad');
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /bad\.json is not a valid Nosana job definition \(1 problem\):\n {2}ops\[0\]\.args\.image: required/);
    assert.equal(await ns.job('bad'), undefined, 'nothing was applied');
  });
});
