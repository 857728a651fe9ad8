// `nosana-operator job ADDRESS`: shows a job as the chain has it (status derived from its run).
import { parseArgs } from 'node:util';
import { PublicKey } from '@solana/web3.js';
import { formatNos, jobCost } from '../chain/money.ts';
import { bytes32ToCid, isNoResult } from '../ipfs/cid.ts';
import { EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE } from './io.ts';
import type { CommandIo } from './io.ts';
import { NETWORK_OPTIONS, NETWORK_OPTIONS_HELP, resolveNetwork } from './network-options.ts';

const HELP = `Usage: nosana-operator job ADDRESS [options]

Options:
${NETWORK_OPTIONS_HELP}
  -h, --help          this help
`;

export async function runJob(args: readonly string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...NETWORK_OPTIONS, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    io.stderr.write(`nosana-operator job: ${(error as Error).message}\n\n${HELP}`);
    return EXIT_USAGE;
  }
  if (parsed.values.help === true) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  const [address] = parsed.positionals;
  let job: PublicKey;
  try {
    job = new PublicKey(address ?? '');
  } catch {
    io.stderr.write(`nosana-operator job: give the job's address\n\n${HELP}`);
    return EXIT_USAGE;
  }
  const { client, network } = await resolveNetwork(parsed.values);
  const view = await client.getJob(job);
  if (view === undefined) {
    io.stdout.write(`job ${job.toBase58()} (network: ${network.name}): no account (never posted, or delisted, recovered or cleaned)\n`);
    return EXIT_PROBLEMS;
  }
  const { account } = view;
  const lines = [
    `job:        ${job.toBase58()} (network: ${network.name})`,
    `status:     ${view.status}`,
    `market:     ${account.market.toBase58()}`,
    `definition: ${bytes32ToCid(account.ipfsJob)}`,
    `price:      ${formatNos(account.price)} NOS/s, timeout ${account.timeout}s`,
  ];
  if (view.run !== undefined)
    lines.push(`node:       ${view.run.account.node.toBase58()} since ${new Date(Number(view.run.account.time) * 1000).toISOString()}`);
  if (view.status === 'COMPLETED') {
    const duration = account.timeEnd - account.timeStart;
    lines.push(
      `node:       ${account.node.toBase58()}`,
      `duration:   ${duration}s, cost ${formatNos(jobCost(account.price, duration, account.timeout))} NOS`,
    );
    lines.push(`result:     ${isNoResult(account.ipfsResult) ? '(none yet)' : bytes32ToCid(account.ipfsResult)}`);
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return EXIT_OK;
}
