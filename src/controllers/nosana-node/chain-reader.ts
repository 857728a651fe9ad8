// The chain reads of one round of the node agent: the ChainSnapshot (decision.ts) of every node
// identity the process serves, read together so that many NosanaNodes cost a few RPC requests per
// round rather than a few each, as the poster side's chain watcher does for jobs.
//
// One round, whatever the number of nodes (up to 33 nodes and 100 markets per getMultipleAccounts):
//
//   at once   the runs each node holds             one getProgramAccounts (JobsClient.getRunsByNodes)
//             the markets served, each once        getMultipleAccounts
//             SOL, NOS account and stake per node  getMultipleAccounts (three accounts a node)
//   then      only when a run the record or status names is not found: the same run query at
//             finalized commitment, for those nodes only (a lagging RPC node must not make the
//             agent stop a paid job)
//   then      the job each node deals with         getMultipleAccounts plus one run query (getJobs)
//
// Runs carry no market field, so "the runs of a market" cannot be asked for; the choice is one run
// query per node, or one over every run of the program matched by node. JobsClient.getRunsByNodes
// asks for one node's runs when there is one node and for every run otherwise: run accounts exist
// only while a job runs, so the answer stays small, and the cost no longer grows with the nodes.
//
// What fails spoils as little as it can: a request the round cannot do without (runs, markets,
// accounts) fails every node's read; a market address that holds something else spoils only the
// nodes serving it; a job that cannot be read spoils only the nodes dealing with it. Reading never
// spends money.
import { PublicKey } from '@solana/web3.js';
import { OPEN_MARKET_ACCESS_KEY } from '../../chain/addresses.ts';
import type { JobView, JobsClient, MarketLookup, MarketView, NodeAccounts, ReadOptions, RunView } from '../../chain/jobs-client.ts';
import type { ChainSnapshot } from './decision.ts';

/** A run named by the node's own bookkeeping (its run record or its status). */
export interface NamedRun {
  runAddress: string;
  /** The run's job, when known. */
  jobAddress?: string;
}

/** One node identity to read this round. */
export interface NodeReadRequest {
  /** The node's address. */
  address: string;
  /** The market's address, or why none is known (a NosanaMarket not resolved yet). */
  market: string | { missing: string };
  /** The run of the node's run record, when there is one: its job is the one read. */
  recordRun?: NamedRun & { jobAddress: string };
  /** The run the status names (currentRun, with currentJob). */
  statusRun?: NamedRun;
  /**
   * The slot the node's last `work` landed in: its read must be as of that slot or later, so it
   * shows the node queued or holding the run that `work` made (an RPC behind refuses, -32016).
   */
  minContextSlot?: number;
}

/** What the round read for one node: its snapshot, or why it has none (NodeWorld.chain). */
export type NodeChainRead = ChainSnapshot | { readError: string };

/** The reads a round makes. */
export type NodeChainPort = Pick<JobsClient, 'network' | 'getRunsByNodes' | 'getMarketsByAddress' | 'getNodeAccounts' | 'getJobs'>;

interface NodeInRound {
  request: NodeReadRequest;
  node: PublicKey;
  market: PublicKey | { missing: string };
}

/** What the first requests of a round read for every node. */
interface RoundReads {
  runs: Map<string, RunView[]>;
  markets: Map<string, MarketLookup>;
  accounts: Map<string, NodeAccounts>;
}

/** Reads the chain for every node of `requests`; keyed by each request's address. */
export async function readNodeChains(port: NodeChainPort, requests: readonly NodeReadRequest[]): Promise<Map<string, NodeChainRead>> {
  const reads = new Map<string, NodeChainRead>();
  const nodes = nodesInRound(requests, reads);
  if (nodes.length === 0) return reads;

  // The newest any node of the round needs; no older answer serves them all.
  const minContextSlot = Math.max(0, ...nodes.map((entry) => entry.request.minContextSlot ?? 0));
  const options = minContextSlot > 0 ? { minContextSlot } : {};
  let round: RoundReads;
  try {
    const [runs, markets, accounts] = await Promise.all([
      port.getRunsByNodes(
        nodes.map((entry) => entry.node),
        options,
      ),
      port.getMarketsByAddress(distinct(nodes.flatMap((entry) => (entry.market instanceof PublicKey ? [entry.market] : []))), options),
      port.getNodeAccounts(
        nodes.map((entry) => entry.node),
        options,
      ),
    ]);
    round = { runs, markets, accounts };
  } catch (error) {
    for (const entry of nodes) reads.set(entry.request.address, { readError: messageOf(error) });
    return reads;
  }

  const held = await heldRuns(port, nodes, round.runs, reads);
  const wanted = new Map<string, PublicKey>();
  for (const entry of nodes) {
    if (reads.has(entry.request.address)) continue;
    const job = jobToRead(entry.request, held.get(entry.request.address));
    if (job === undefined) continue;
    try {
      wanted.set(job, new PublicKey(job));
    } catch {
      reads.set(entry.request.address, { readError: `job ${job}, named by the node's status or run record, is not a Solana address` });
    }
  }
  const jobs = await readJobs(port, [...wanted.values()], options);

  for (const entry of nodes) {
    const { address } = entry.request;
    if (reads.has(address)) continue;
    const run = held.get(address);
    const jobAddress = jobToRead(entry.request, run);
    if (jobAddress !== undefined && !jobs.has(jobAddress)) {
      // Absent from the answer is not "closed": only an account read as missing is.
      reads.set(address, { readError: `job ${jobAddress} was not in the answer` });
      continue;
    }
    const job = jobAddress === undefined ? undefined : jobs.get(jobAddress);
    if (job !== undefined && 'readError' in job) {
      reads.set(address, { readError: `job ${jobAddress ?? '?'} could not be read: ${job.readError}` });
      continue;
    }
    const accounts = round.accounts.get(address);
    if (accounts === undefined) {
      reads.set(address, { readError: `the accounts of node ${address} were not in the answer` });
      continue;
    }
    const market = marketOf(entry.market, round.markets, port.network.name);
    reads.set(address, snapshotOf(market, accounts, run, job));
  }
  return reads;
}

/** The requests the round reads, parsed; a request that cannot be read gets its readError now. */
function nodesInRound(requests: readonly NodeReadRequest[], reads: Map<string, NodeChainRead>): NodeInRound[] {
  const seen = new Map<string, number>();
  for (const request of requests) seen.set(request.address, (seen.get(request.address) ?? 0) + 1);
  const nodes: NodeInRound[] = [];
  for (const request of requests) {
    const { address } = request;
    if ((seen.get(address) ?? 0) > 1) {
      // Two NosanaNodes with one key would take two jobs on one identity; neither is read.
      reads.set(address, {
        readError: `node ${address} is asked for ${seen.get(address)} times in one round: one key serves one NosanaNode`,
      });
      continue;
    }
    const node = publicKeyOf(address);
    if (node === undefined) {
      reads.set(address, { readError: `node address ${address} is not a Solana address` });
      continue;
    }
    if (typeof request.market !== 'string') {
      nodes.push({ request, node, market: request.market });
      continue;
    }
    const market = publicKeyOf(request.market);
    nodes.push({ request, node, market: market ?? { missing: `market address ${request.market} is not a Solana address` } });
  }
  return nodes;
}

/**
 * The run each node is taken to hold. A run the record or status names that the confirmed read
 * did not find is looked for again at finalized commitment (one request for all such nodes); a
 * node whose finalized read fails gets a readError, never a missing run.
 */
async function heldRuns(
  port: NodeChainPort,
  nodes: readonly NodeInRound[],
  confirmed: Map<string, RunView[]>,
  reads: Map<string, NodeChainRead>,
): Promise<Map<string, RunView | undefined>> {
  const toConfirm = nodes.filter((entry) => unfoundRuns(entry.request, confirmed.get(entry.request.address) ?? []).length > 0);
  let finalized = new Map<string, RunView[]>();
  if (toConfirm.length > 0) {
    try {
      finalized = await port.getRunsByNodes(
        toConfirm.map((entry) => entry.node),
        { commitment: 'finalized' },
      );
    } catch (error) {
      for (const entry of toConfirm) {
        const unfound = unfoundRuns(entry.request, confirmed.get(entry.request.address) ?? []).join(', ');
        reads.set(entry.request.address, {
          readError: `run ${unfound} was not found, and the finalized read that must agree before it counts as gone failed: ${messageOf(error)}`,
        });
      }
    }
  }
  const held = new Map<string, RunView | undefined>();
  for (const entry of nodes) {
    const { address } = entry.request;
    held.set(address, chooseRun(namedRuns(entry.request), confirmed.get(address) ?? [], finalized.get(address)));
  }
  return held;
}

type JobRead = JobView | undefined | { readError: string };

/** Every job wanted, in one getJobs; when that fails, each on its own, so one bad job spoils only its nodes. */
async function readJobs(port: NodeChainPort, addresses: readonly PublicKey[], options: ReadOptions): Promise<Map<string, JobRead>> {
  const jobs = new Map<string, JobRead>();
  if (addresses.length === 0) return jobs;
  try {
    for (const [id, view] of await port.getJobs(addresses, options)) jobs.set(id, view);
    return jobs;
  } catch (error) {
    if (addresses.length === 1) {
      for (const address of addresses) jobs.set(address.toBase58(), { readError: messageOf(error) });
      return jobs;
    }
  }
  await Promise.all(
    addresses.map(async (address) => {
      const id = address.toBase58();
      try {
        const answer = await port.getJobs([address], options);
        if (answer.has(id)) jobs.set(id, answer.get(id));
      } catch (error) {
        jobs.set(id, { readError: messageOf(error) });
      }
    }),
  );
  return jobs;
}

// ---------------------------------------------------------------------------------------------
// Pure parts

/** The runs the node's record and status name, the record's first, each once. */
export function namedRuns(request: Pick<NodeReadRequest, 'recordRun' | 'statusRun'>): string[] {
  return distinctStrings([request.recordRun?.runAddress, request.statusRun?.runAddress]);
}

/** The named runs the confirmed read did not find: only a finalized read may say they are gone. */
export function unfoundRuns(request: Pick<NodeReadRequest, 'recordRun' | 'statusRun'>, confirmed: readonly RunView[]): string[] {
  return namedRuns(request).filter((run) => !confirmed.some((view) => view.address.toBase58() === run));
}

/**
 * The run the snapshot shows as held: a named run found by either read (the record's first), else
 * the oldest run the confirmed read found. A named run only the finalized read still shows is
 * kept: the confirmed read may come from a node that is ahead, but a run closed moments ago is
 * shown as gone one finalization later, while stopping a paid job on a wrong read cannot be undone.
 */
export function chooseRun(named: readonly string[], confirmed: readonly RunView[], finalized?: readonly RunView[]): RunView | undefined {
  for (const run of named) {
    const found = confirmed.find((view) => view.address.toBase58() === run) ?? finalized?.find((view) => view.address.toBase58() === run);
    if (found !== undefined) return found;
  }
  // One job at a time per identity: should the chain show more, the one taken first is dealt with first.
  return [...confirmed].sort(
    (a, b) =>
      (a.account.time < b.account.time ? -1 : a.account.time > b.account.time ? 1 : 0) ||
      compare(a.address.toBase58(), b.address.toBase58()),
  )[0];
}

/** The job the decision deals with: the record's, else the held run's, else the one the status names. */
export function jobToRead(request: Pick<NodeReadRequest, 'recordRun' | 'statusRun'>, held: RunView | undefined): string | undefined {
  return request.recordRun?.jobAddress ?? held?.account.job.toBase58() ?? request.statusRun?.jobAddress;
}

/** The market as the snapshot shows it: found, or why it cannot be served. */
export function marketOf(
  requested: PublicKey | { missing: string },
  markets: ReadonlyMap<string, MarketLookup>,
  networkName: string,
): MarketView | { missing: string } {
  if (!(requested instanceof PublicKey)) return requested;
  const address = requested.toBase58();
  const found = markets.get(address);
  if (found === undefined) return { missing: `market ${address} does not exist on ${networkName}` };
  return 'problem' in found ? { missing: found.problem } : found;
}

/**
 * Whether the node may present an access key to the market. A market whose nodeAccessKey is the
 * system program id admits any node. Any other key names an NFT collection: holding one means a
 * token account of the node with an NFT whose Metaplex metadata names that collection, verified.
 * Those reads (and presenting the NFT to `work`) are not built yet, and the localnet has no
 * Metaplex program to serve them, so such a market reads 'missing' and the node does not join it.
 * A market that could not be read admits nobody: 'missing' too.
 */
export function accessKeyOf(market: MarketView | { missing: string }): ChainSnapshot['accessKey'] {
  if ('missing' in market) return 'missing';
  return market.account.nodeAccessKey.equals(OPEN_MARKET_ACCESS_KEY) ? 'open' : 'missing';
}

/** One node's snapshot from what the round read for it. */
export function snapshotOf(
  market: MarketView | { missing: string },
  accounts: NodeAccounts,
  run: RunView | undefined,
  job: JobView | undefined,
): ChainSnapshot {
  return {
    market,
    balances: accounts.balances,
    accounts: { nosAccount: accounts.nosAccount, ...(accounts.stake === undefined ? {} : { stake: accounts.stake }) },
    accessKey: accessKeyOf(market),
    ...(run === undefined ? {} : { run }),
    ...(job === undefined ? {} : { job }),
  };
}

function publicKeyOf(address: string): PublicKey | undefined {
  try {
    return new PublicKey(address);
  } catch {
    return undefined;
  }
}

function distinct(keys: readonly PublicKey[]): PublicKey[] {
  const byAddress = new Map(keys.map((key) => [key.toBase58(), key]));
  return [...byAddress.values()];
}

function distinctStrings(values: readonly (string | undefined)[]): string[] {
  return [...new Set(values.filter((value): value is string => value !== undefined))];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
