// `nosana-operator demo` as a user runs it, from a fresh process: it starts a cluster, a local
// Nosana network and the operator of its own (beside the suite's shared cluster), shows the story
// job go through every phase, prints the result, the cost and the canned story, never prints a key,
// and leaves no process and no file behind when it exits.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CANNED_STORY_LINES } from '../../src/demo/simulation-rules.ts';
import { REPO_ROOT } from '../../src/local-cluster/binaries.ts';

const DEMO_BOUND_MS = 4 * 60_000;
const BASE58 = '[1-9A-HJ-NP-Za-km-z]';

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the demo to its end; past the bound it is interrupted (then killed), and the test fails. */
function runDemo(): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'nosana-operator.js'), 'demo'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const bound = setTimeout(() => {
      child.kill('SIGINT');
      setTimeout(() => child.kill('SIGKILL'), 30_000).unref();
    }, DEMO_BOUND_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(bound);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Command lines of every process on the machine. */
async function processCommandLines(): Promise<string[]> {
  const ps = spawn('ps', ['-eo', 'args='], { stdio: ['ignore', 'pipe', 'ignore'] });
  let text = '';
  ps.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  await new Promise((resolve) => ps.on('close', resolve));
  return text.split('\n');
}

test('nosana-operator demo: the story job from Pending to Succeeded, its result, cost and canned story, no key printed, nothing left behind', async (t) => {
  const run = await runDemo();
  const output = run.stdout;
  t.diagnostic(output);
  assert.equal(run.code, 0, `the demo exits 0 (signal ${run.signal ?? 'none'}); stderr: ${run.stderr}`);

  const phases = [...output.matchAll(/^\[ *[\d.]+s\] NosanaJob nosana-demo\/story: (\w+) —/gm)].map((match) => match[1]);
  assert.deepEqual(phases, ['Pending', 'Posting', 'Queued', 'Running', 'Succeeded'], 'one line per phase, in order');
  assert.match(
    output,
    new RegExp(`NosanaJob nosana-demo/story: Posting — .*transaction ${BASE58}{86,88} sent`),
    'the post shows its signature',
  );
  assert.match(
    output,
    new RegExp(`NosanaJob nosana-demo/story: Running — node ${BASE58}{32,44} took job`),
    'the node that took the job is named',
  );
  assert.match(output, /Pod nosana-demo-jobs\/\S+: placed on Kubernetes node \S+ by the scheduler, with 1 nvidia\.com\/gpu/);
  assert.match(output, new RegExp(`^result CID: +Qm${BASE58}{44} `, 'm'), 'a CIDv0 result');
  assert.match(output, /^cost: +\d+(\.\d+)? NOS = \d+(\.\d+)? NOS\/s × \d+ s /m, 'the cost in NOS as price × seconds');
  assert.match(output, /^op tinyllama: success, exit code 0$/m);
  for (const line of CANNED_STORY_LINES) assert.ok(output.includes(line), `the canned story line "${line}" is printed`);
  assert.match(output, /KWOK/, 'what was simulated is said');

  for (const line of `${output}\n${run.stderr}`.split('\n')) {
    assert.doesNotMatch(line, /\[\s*\d+(\s*,\s*\d+){31,}\s*\]/, 'no keypair bytes are printed');
  }

  const clusterDir = /work dir (\/\S*nosana-local-cluster-\w+);/.exec(output)?.[1];
  const pids = /control-plane process ids ([\d ]+)$/m.exec(output)?.[1]?.trim().split(' ').map(Number) ?? [];
  const demoDir = /keys in (\/\S*nosana-demo-\w+)\/localnet/.exec(output)?.[1];
  assert.ok(clusterDir !== undefined && demoDir !== undefined, 'the demo says where its cluster and its files are');
  assert.equal(pids.length, 6, 'the control plane processes are named');
  assert.deepEqual(pids.filter(alive), [], 'no control plane process is left');
  const left = (await processCommandLines()).filter((line) => line.includes(clusterDir) || line.includes(demoDir));
  assert.deepEqual(left, [], 'no process of the demo is left');
  assert.equal(existsSync(clusterDir), false, "the cluster's work directory is removed");
  assert.equal(existsSync(demoDir), false, "the demo's work directory (and the local network's keys) is removed");
});
