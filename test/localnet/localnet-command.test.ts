// `nosana-operator localnet` as a user runs it: a child process that prints its endpoints, serves
// them, keeps its ledger across a restart and stops cleanly on SIGINT.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PublicKey } from '@solana/web3.js';
import { NETWORKS } from '../../src/chain/addresses.ts';
import { detectNetwork } from '../../src/chain/network-detect.ts';
import { createConnection } from '../../src/chain/rpc-transport.ts';
import { SolanaJobsClient } from '../../src/chain/solana-jobs-client.ts';
import type { LocalnetInfo } from '../../src/localnet/localnet.ts';
import { REPO_ROOT } from '../../src/local-cluster/binaries.ts';

const NODE = process.execPath;
const CLI = join(REPO_ROOT, 'bin', 'nosana-operator.js');

interface Running {
  child: ChildProcess;
  output: () => string;
  startupMs: number;
}

async function start(stateDir: string): Promise<Running> {
  const started = performance.now();
  // Port 0 lets the system choose free ports; the banner and localnet.json say which.
  const child = spawn(NODE, [CLI, 'localnet', '--state-dir', stateDir, '--rpc-port', '0', '--ipfs-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const deadline = Date.now() + 30_000;
  while (!output.includes('Press Ctrl-C')) {
    if (child.exitCode !== null || Date.now() > deadline) assert.fail(`the localnet did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { child, output: () => output, startupMs: performance.now() - started };
}

async function run(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(NODE, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}

async function stop(running: Running): Promise<number | null> {
  running.child.kill('SIGINT');
  if (running.child.exitCode === null) await new Promise((resolve) => running.child.once('exit', resolve));
  return running.child.exitCode;
}

describe('nosana-operator localnet', () => {
  const dirs: string[] = [];
  after(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  test('prints its endpoints, says it is a localnet, keeps its ledger across a restart', async (t) => {
    const stateDir = await mkdtemp(join(tmpdir(), 'nosana-localnet-cli-'));
    dirs.push(stateDir);
    const first = await start(stateDir);
    t.diagnostic(`startup (process spawn to banner, cold): ${Math.round(first.startupMs)} ms`);
    assert.match(first.output(), /network: localnet/);
    const info = JSON.parse(await readFile(join(stateDir, 'localnet.json'), 'utf8')) as LocalnetInfo;
    assert.equal(info.network, 'localnet');
    for (const url of [info.rpcUrl, info.ipfsApiUrl, info.gatewayUrl]) assert.ok(first.output().includes(url), `banner shows ${url}`);

    const connection = createConnection(info.rpcUrl);
    assert.equal(await detectNetwork(connection), 'localnet');
    const client = new SolanaJobsClient({ connection, network: NETWORKS.localnet });
    const market = await client.getMarket(new PublicKey(info.market));
    assert.ok(market !== undefined, 'the market it announced exists on its chain');
    const balances = await client.getBalances(new PublicKey(info.posterAddress));
    assert.ok(balances.nos > 0n && balances.lamports > 0n, 'the poster wallet is funded');
    assert.equal(await stop(first), 0);

    const second = await start(stateDir);
    t.diagnostic(`startup (restart from its state directory): ${Math.round(second.startupMs)} ms`);
    const restarted = JSON.parse(await readFile(join(stateDir, 'localnet.json'), 'utf8')) as LocalnetInfo;
    assert.equal(restarted.market, info.market, 'the same market after a restart');
    const again = new SolanaJobsClient({ connection: createConnection(restarted.rpcUrl), network: NETWORKS.localnet });
    assert.ok((await again.getMarket(new PublicKey(info.market))) !== undefined, 'the ledger survived the restart');
    assert.equal((await again.getBalances(new PublicKey(info.posterAddress))).nos, balances.nos);
    assert.equal(await stop(second), 0);
  });

  test('post pins and posts a definition once; running it again resumes instead of paying twice', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'nosana-localnet-post-'));
    dirs.push(stateDir);
    const localnet = await start(stateDir);
    try {
      const info = JSON.parse(await readFile(join(stateDir, 'localnet.json'), 'utf8')) as LocalnetInfo;
      const definition = join(stateDir, 'hello.json');
      await writeFile(
        definition,
        JSON.stringify({
          version: '0.1',
          type: 'container',
          ops: [{ type: 'container/run', id: 'hello', args: { image: 'ubuntu', cmd: 'echo hello' } }],
        }),
      );
      const client = new SolanaJobsClient({ connection: createConnection(info.rpcUrl), network: NETWORKS.localnet });
      const before = await client.getBalances(new PublicKey(info.posterAddress));

      const first = await run(['post', definition, '--localnet', stateDir, '--timeout', '600']);
      assert.equal(first.code, 0, first.output);
      const jobAddress = /job (\w+) posted \(network: localnet\)/.exec(first.output)?.[1];
      assert.ok(jobAddress !== undefined, first.output);
      const second = await run(['post', definition, '--localnet', stateDir, '--timeout', '600']);
      assert.equal(second.code, 0, second.output);
      assert.match(second.output, /resuming the post recorded in/);
      assert.ok(second.output.includes(`job ${jobAddress} posted`));
      const market = await client.getMarket(new PublicKey(info.market));
      const after = await client.getBalances(new PublicKey(info.posterAddress));
      assert.equal(before.nos - after.nos, market!.account.jobPrice * 600n, 'exactly one deposit left the wallet');

      const shown = await run(['job', jobAddress, '--localnet', stateDir]);
      assert.equal(shown.code, 0, shown.output);
      assert.match(shown.output, /status: +QUEUED/);
      assert.match(shown.output, /definition: +Qm\w{44}/);

      const broken = join(stateDir, 'broken.json');
      await writeFile(
        broken,
        JSON.stringify({ version: '0.1', type: 'container', ops: [{ type: 'container/run', id: 'x', args: { cmd: 'true' } }] }),
      );
      const refused = await run(['post', broken, '--localnet', stateDir]);
      assert.equal(refused.code, 1);
      assert.match(refused.output, /image/);
      assert.equal((await client.getBalances(new PublicKey(info.posterAddress))).nos, after.nos, 'nothing is spent on a broken definition');
    } finally {
      await stop(localnet);
    }
  });

  test('bad options fail with a message and exit code 2', async () => {
    const child = spawn(NODE, [CLI, 'localnet', '--rpc-port', 'abc'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 2);
    assert.match(stderr, /--rpc-port must be a non-negative integer/);
  });
});
