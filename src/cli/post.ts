// `nosana-operator post FILE`: validates a job definition, pins it, and posts it once — the signed
// post is written to a record file before it is broadcast, so re-running after a crash resumes
// that post instead of paying for a second job.
import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { formatProblem, validateJobDefinition } from '../api/job-definition/index.ts';
import { PublicKey } from '@solana/web3.js';
import type { PendingPost } from '../chain/jobs-client.ts';
import { parsePendingPost } from '../chain/create-once.ts';
import { formatNos, listCharge } from '../chain/money.ts';
import { cidToBytes32 } from '../ipfs/cid.ts';
import { EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE } from './io.ts';
import type { CommandIo } from './io.ts';
import { NETWORK_OPTIONS, NETWORK_OPTIONS_HELP, resolveNetwork } from './network-options.ts';
import type { ResolvedNetwork } from './network-options.ts';

const HELP = `Usage: nosana-operator post FILE [options]

Validates the job definition in FILE (JSON), pins it to IPFS, and posts it to the market. The
signed post is saved to the record file BEFORE it is sent; running the same command again
resumes that post (it never pays for a second job while the first may still land).

Options:
  --timeout SECONDS   seconds of compute paid for (default: the market's job timeout)
  --record FILE       where the pending post is kept (default FILE.post.json)
${NETWORK_OPTIONS_HELP}
  -h, --help          this help
`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes the record durably and exclusively before anything is broadcast: `wx` fails when another
 * run created it first (two concurrent posts of one file must not both pay), and fsync makes it
 * survive a power loss right after the broadcast.
 */
async function saveRecord(path: string, pending: PendingPost): Promise<boolean> {
  let file;
  try {
    file = await open(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await file.writeFile(`${JSON.stringify(pending, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  const directory = await open(dirname(path), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
  return true;
}

function parseTimeout(text: string | undefined): bigint | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,11}$/.test(text))
    throw new Error(`--timeout must be a whole number of seconds between 1 and 999999999999, got "${text}"`);
  return BigInt(text);
}

/** Broadcasts (again) and waits until the post lands, fails or is known never to land. */
async function settle(resolved: ResolvedNetwork, pending: PendingPost, io: CommandIo): Promise<number> {
  const { client } = resolved;
  for (let attempt = 0; ; attempt += 1) {
    const resolution = await client.resolvePendingPost(pending);
    switch (resolution.outcome) {
      case 'landed': {
        const job = await client.getJob(new PublicKey(pending.jobAddress));
        io.stdout.write(`job ${pending.jobAddress} posted (network: ${resolved.network.name}), status ${job?.status ?? 'closed'}\n`);
        return EXIT_OK;
      }
      case 'failed':
        io.stderr.write(`the post failed on chain: ${resolution.error?.name ?? resolution.detail}; nothing was posted\n`);
        return EXIT_PROBLEMS;
      case 'never-landed':
        io.stderr.write(`the post expired without landing; nothing was spent. Delete the record file to post again.\n`);
        return EXIT_PROBLEMS;
      case 'unknown':
        io.stderr.write(
          `cannot tell whether the post landed (${resolution.reason}); not posting again. Check job ${pending.jobAddress} by hand.\n`,
        );
        return EXIT_PROBLEMS;
      case 'pending':
        if (attempt % 5 === 0) {
          await client.broadcast(pending).catch(() => undefined);
          if (attempt > 0) io.stderr.write(`waiting for job ${pending.jobAddress} to land…\n`);
        }
        await sleep(500);
    }
  }
}

export async function runPost(args: readonly string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...NETWORK_OPTIONS, timeout: { type: 'string' }, record: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    io.stderr.write(`nosana-operator post: ${(error as Error).message}\n\n${HELP}`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  const [file] = positionals;
  if (file === undefined || positionals.length > 1) {
    io.stderr.write(`nosana-operator post: give exactly one definition file\n\n${HELP}`);
    return EXIT_USAGE;
  }
  const recordPath = values.record ?? `${file}.post.json`;
  let resolved: ResolvedNetwork;
  let requestedTimeout: bigint | undefined;
  try {
    requestedTimeout = parseTimeout(values.timeout);
    resolved = await resolveNetwork(values);
  } catch (error) {
    io.stderr.write(`nosana-operator post: ${(error as Error).message}\n`);
    return EXIT_USAGE;
  }

  if (existsSync(recordPath)) {
    io.stdout.write(`resuming the post recorded in ${recordPath}\n`);
    return settle(resolved, parsePendingPost(await readFile(recordPath, 'utf8')), io);
  }

  const validation = validateJobDefinition(JSON.parse(await readFile(file, 'utf8')) as unknown, { strictness: 'strict' });
  if (!validation.ok) {
    for (const problem of validation.problems) io.stderr.write(`${file}: ${formatProblem(problem)}\n`);
    return EXIT_PROBLEMS;
  }
  const market = await resolved.client.getMarket(resolved.market());
  if (market === undefined) {
    io.stderr.write(`--market: ${resolved.market().toBase58()} is not a market on ${resolved.network.name}\n`);
    return EXIT_PROBLEMS;
  }
  const timeout = requestedTimeout ?? market.account.jobTimeout;
  const wallet = await resolved.wallet();
  // The deposit plus the fee the network may add: the same amount the controller's guards check.
  const charge = listCharge(resolved.network.name, market.account.jobPrice, timeout);
  const balances = await resolved.client.getBalances(wallet.publicKey);
  if (balances.nos < charge) {
    io.stderr.write(
      `the wallet ${wallet.publicKey.toBase58()} holds ${formatNos(balances.nos)} NOS; posting this job takes up to ${formatNos(charge)} NOS (its deposit plus any network fee)\n`,
    );
    return EXIT_PROBLEMS;
  }
  const cid = await resolved.pinning().pinJson(validation.definition);
  io.stdout.write(`pinned the definition as ${cid}\n`);
  const pending = await resolved.client.preparePost({
    wallet,
    market: market.address,
    ipfsJob: cidToBytes32(cid),
    timeoutSeconds: timeout,
  });
  if (!(await saveRecord(recordPath, pending))) {
    io.stdout.write(`another run recorded a post in ${recordPath} first; resuming that one instead\n`);
    return settle(resolved, parsePendingPost(await readFile(recordPath, 'utf8')), io);
  }
  io.stdout.write(`posting job ${pending.jobAddress} (up to ${formatNos(charge)} NOS for ${timeout}s); record: ${recordPath}\n`);
  await resolved.client.broadcast(pending);
  return settle(resolved, pending, io);
}
