// The node agent's chain round without a chain: the pure choices (which run a node holds, which
// job is read, what the market and access key show) as tables, and the round against a scripted
// port that logs its calls: the finalized read asked only when a named run is not found, and a
// failure spoiling only the nodes it concerns.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair, PublicKey } from '@solana/web3.js';
import type { JobAccount, MarketAccount, StakeAccount } from '../../../src/chain/accounts.ts';
import { NETWORKS, OPEN_MARKET_ACCESS_KEY } from '../../../src/chain/addresses.ts';
import type { JobView, MarketLookup, MarketView, NodeAccounts, ReadOptions, RunView } from '../../../src/chain/jobs-client.ts';
import {
  accessKeyOf,
  chooseRun,
  jobToRead,
  marketOf,
  readNodeChains,
  snapshotOf,
  unfoundRuns,
} from '../../../src/controllers/nosana-node/chain-reader.ts';
import type { NodeChainPort, NodeChainRead, NodeReadRequest } from '../../../src/controllers/nosana-node/chain-reader.ts';

const key = (): PublicKey => Keypair.generate().publicKey;
const MARKET = key();
const COLLECTION = key();

function runView(node: PublicKey, time = 100n, job = key()): RunView {
  return { address: key(), account: { job, node, payer: node, state: 0, time } };
}

function marketView(address = MARKET, nodeAccessKey = OPEN_MARKET_ACCESS_KEY): MarketView {
  const account: MarketAccount = {
    authority: PublicKey.default,
    jobExpiration: 0n,
    jobPrice: 10n,
    jobTimeout: 600n,
    jobType: 0,
    vault: PublicKey.default,
    vaultBump: 0,
    nodeAccessKey,
    nodeXnosMinimum: 0n,
    queueType: 1,
    queue: [],
  };
  return { address, account };
}

function jobView(address: PublicKey, run?: RunView): JobView {
  const account: JobAccount = {
    ipfsJob: new Uint8Array(32),
    ipfsResult: new Uint8Array(32),
    market: MARKET,
    node: PublicKey.default,
    payer: PublicKey.default,
    price: 10n,
    project: PublicKey.default,
    state: 0,
    timeEnd: 0n,
    timeStart: 0n,
    timeout: 600n,
  };
  return { address, account, status: run === undefined ? 'QUEUED' : 'RUNNING', ...(run === undefined ? {} : { run }) };
}

const STAKE: StakeAccount = {
  amount: 0n,
  authority: PublicKey.default,
  duration: 0n,
  timeUnstake: 0n,
  vault: PublicKey.default,
  vaultBump: 0,
  xnos: 0n,
};
const ACCOUNTS: NodeAccounts = { balances: { lamports: 5n, nos: 7n }, nosAccount: true, stake: STAKE };

describe('the run a node holds', () => {
  const node = key();
  const older = runView(node, 100n);
  const newer = runView(node, 200n);
  const onlyFinal = runView(node, 50n);
  const cases: { reason: string; named: string[]; confirmed: RunView[]; finalized?: RunView[]; want: RunView | undefined }[] = [
    { reason: 'nothing named, nothing held: no run', named: [], confirmed: [], want: undefined },
    { reason: 'nothing named: the run the confirmed read found', named: [], confirmed: [newer], want: newer },
    { reason: 'two held, none named: the one taken first', named: [], confirmed: [newer, older], want: older },
    {
      reason: 'a named run found by the confirmed read is that run, over an older one',
      named: [newer.address.toBase58()],
      confirmed: [older, newer],
      want: newer,
    },
    {
      reason: 'a named run only the finalized read shows is kept, even when the confirmed read shows another',
      named: [onlyFinal.address.toBase58()],
      confirmed: [newer],
      finalized: [onlyFinal],
      want: onlyFinal,
    },
    {
      reason: 'the record names first: its run wins over the status run',
      named: [older.address.toBase58(), newer.address.toBase58()],
      confirmed: [newer, older],
      want: older,
    },
    {
      reason: 'a named run both reads miss is gone: the run the confirmed read found instead',
      named: [key().toBase58()],
      confirmed: [newer],
      finalized: [newer],
      want: newer,
    },
    {
      reason: 'a named run both reads miss, nothing else held: no run',
      named: [key().toBase58()],
      confirmed: [],
      finalized: [],
      want: undefined,
    },
  ];
  for (const { reason, named, confirmed, finalized, want } of cases) {
    test(reason, () => assert.equal(chooseRun(named, confirmed, finalized), want));
  }

  test('only named runs the confirmed read did not find are read again at finalized', () => {
    const missing = key().toBase58();
    const request = {
      recordRun: { runAddress: older.address.toBase58(), jobAddress: key().toBase58() },
      statusRun: { runAddress: missing },
    };
    assert.deepEqual(unfoundRuns(request, [older]), [missing]);
    assert.deepEqual(unfoundRuns({ statusRun: { runAddress: older.address.toBase58() } }, [older]), []);
    assert.deepEqual(unfoundRuns({}, []), []);
  });
});

describe('the job a node deals with', () => {
  const held = runView(key());
  const recordJob = key().toBase58();
  const statusJob = key().toBase58();
  const record = { runAddress: key().toBase58(), jobAddress: recordJob };
  const status = { runAddress: key().toBase58(), jobAddress: statusJob };
  const cases: { reason: string; request: Pick<NodeReadRequest, 'recordRun' | 'statusRun'>; held?: RunView; want: string | undefined }[] = [
    { reason: "the record's job first, even with a run held", request: { recordRun: record, statusRun: status }, held, want: recordJob },
    { reason: "else the held run's job, over the status's", request: { statusRun: status }, held, want: held.account.job.toBase58() },
    { reason: 'else the job the status names', request: { statusRun: status }, want: statusJob },
    { reason: 'a status naming a run without its job: no job', request: { statusRun: { runAddress: status.runAddress } }, want: undefined },
    { reason: 'nothing named, nothing held: no job', request: {}, want: undefined },
  ];
  for (const { reason, request, held: run, want } of cases) {
    test(reason, () => assert.equal(jobToRead(request, run), want));
  }
});

describe('the market and its access key', () => {
  const found = marketView();
  const cases: {
    reason: string;
    requested: PublicKey | { missing: string };
    lookup: MarketLookup;
    want: MarketView | { missing: string };
  }[] = [
    { reason: 'a market found is shown', requested: MARKET, lookup: found, want: found },
    {
      reason: 'no account: missing, naming it',
      requested: MARKET,
      lookup: undefined,
      want: { missing: `market ${MARKET.toBase58()} does not exist on localnet` },
    },
    {
      reason: 'another account at the address: missing, with why',
      requested: MARKET,
      lookup: { problem: 'not a market' },
      want: { missing: 'not a market' },
    },
    {
      reason: 'not resolved yet: the reason given',
      requested: { missing: 'NosanaMarket gpu is not ready' },
      lookup: found,
      want: { missing: 'NosanaMarket gpu is not ready' },
    },
  ];
  for (const { reason, requested, lookup, want } of cases) {
    test(reason, () => assert.deepEqual(marketOf(requested, new Map([[MARKET.toBase58(), lookup]]), 'localnet'), want));
  }

  const keys: { reason: string; market: MarketView | { missing: string }; want: 'open' | 'held' | 'missing' }[] = [
    { reason: 'the system program as access key: an open market', market: marketView(), want: 'open' },
    {
      reason: 'an NFT collection as access key: no key is held until presenting one is built',
      market: marketView(MARKET, COLLECTION),
      want: 'missing',
    },
    { reason: 'a market not read admits nobody', market: { missing: 'gone' }, want: 'missing' },
  ];
  for (const { reason, market, want } of keys) {
    test(reason, () => assert.equal(accessKeyOf(market), want));
  }

  test('a node with no stake account has no stake field at all', () => {
    const read = snapshotOf(marketView(), { balances: { lamports: 1n, nos: 0n }, nosAccount: false }, undefined, undefined);
    assert.deepEqual(read, {
      market: marketView(),
      balances: { lamports: 1n, nos: 0n },
      accounts: { nosAccount: false },
      accessKey: 'open',
    });
    assert.equal('stake' in read.accounts || 'run' in read || 'job' in read, false);
  });
});

// ---------------------------------------------------------------------------------------------
// A round against a scripted port

interface Call {
  method: string;
  keys: string[];
  commitment?: string;
  minContextSlot?: number;
}

/** A chain the test sets up; every read is logged with its keys and commitment. */
class ScriptedPort {
  readonly calls: Call[] = [];
  readonly runs = new Map<string, RunView[]>();
  readonly finalizedRuns = new Map<string, RunView[]>();
  readonly markets = new Map<string, MarketLookup>();
  readonly jobs = new Map<string, JobView>();
  /** Job addresses whose read throws, alone or in a batch. */
  readonly poisoned = new Set<string>();
  fail: { method: string; error: Error } | undefined;

  port(): NodeChainPort {
    const log = (method: string, keys: readonly PublicKey[], options?: ReadOptions): void => {
      this.calls.push({
        method,
        keys: keys.map((k) => k.toBase58()),
        ...(options?.commitment === undefined ? {} : { commitment: options.commitment }),
        ...(options?.minContextSlot === undefined ? {} : { minContextSlot: options.minContextSlot }),
      });
      const fail = this.fail;
      if (fail !== undefined && fail.method === `${method}${options?.commitment === undefined ? '' : `@${options.commitment}`}`)
        throw fail.error;
    };
    return {
      network: NETWORKS.localnet,
      getRunsByNodes: async (nodes, options) => {
        log('getRunsByNodes', nodes, options);
        const source = options?.commitment === 'finalized' ? this.finalizedRuns : this.runs;
        return new Map(nodes.map((node) => [node.toBase58(), source.get(node.toBase58()) ?? []]));
      },
      getMarketsByAddress: async (addresses, options) => {
        log('getMarketsByAddress', addresses, options);
        return new Map(addresses.map((address) => [address.toBase58(), this.markets.get(address.toBase58())]));
      },
      getNodeAccounts: async (nodes, options) => {
        log('getNodeAccounts', nodes, options);
        return new Map(nodes.map((node) => [node.toBase58(), ACCOUNTS]));
      },
      getJobs: async (addresses, options) => {
        log('getJobs', addresses, options);
        const bad = addresses.find((address) => this.poisoned.has(address.toBase58()));
        if (bad !== undefined) throw new Error(`${bad.toBase58()} is not a Nosana jobs-program account`);
        return new Map(addresses.map((address) => [address.toBase58(), this.jobs.get(address.toBase58())]));
      },
    };
  }
}

function request(node: PublicKey, extra: Partial<NodeReadRequest> = {}): NodeReadRequest {
  return { address: node.toBase58(), market: MARKET.toBase58(), ...extra };
}

function snapshotIn(reads: Map<string, NodeChainRead>, node: PublicKey) {
  const read = reads.get(node.toBase58());
  assert.ok(read !== undefined, `node ${node.toBase58()} was read`);
  assert.ok(!('readError' in read), `node ${node.toBase58()}: ${'readError' in read ? read.readError : ''}`);
  return read;
}

describe('a round', () => {
  test('nodes read together: one call of each kind, markets once each, the jobs of held runs', async () => {
    const chain = new ScriptedPort();
    const [a, b, c] = [key(), key(), key()];
    const run = runView(a);
    chain.runs.set(a.toBase58(), [run]);
    chain.markets.set(MARKET.toBase58(), marketView());
    chain.jobs.set(run.account.job.toBase58(), jobView(run.account.job, run));
    const reads = await readNodeChains(chain.port(), [request(a), request(b), request(c)]);

    assert.deepEqual(
      chain.calls.map((call) => [call.method, call.keys.length]),
      [
        ['getRunsByNodes', 3],
        ['getMarketsByAddress', 1],
        ['getNodeAccounts', 3],
        ['getJobs', 1],
      ],
    );
    assert.equal(snapshotIn(reads, a).run, run);
    assert.ok(snapshotIn(reads, a).job?.address.equals(run.account.job));
    assert.equal(snapshotIn(reads, b).run, undefined);
    assert.deepEqual(snapshotIn(reads, c).balances, ACCOUNTS.balances);
  });

  test('nodes whose `work` landed: every confirmed read of the round is as of the newest landing slot; the finalized re-read is not held to it', async () => {
    const chain = new ScriptedPort();
    const [joinedEarlier, joinedLater, neverJoined] = [key(), key(), key()];
    const run = runView(joinedLater);
    chain.runs.set(joinedLater.toBase58(), [run]);
    chain.markets.set(MARKET.toBase58(), marketView());
    chain.jobs.set(run.account.job.toBase58(), jobView(run.account.job, run));
    await readNodeChains(chain.port(), [
      request(joinedEarlier, { minContextSlot: 40, statusRun: { runAddress: key().toBase58() } }),
      request(joinedLater, { minContextSlot: 75 }),
      request(neverJoined),
    ]);
    assert.deepEqual(
      chain.calls.map((call) => [call.method, call.commitment ?? 'confirmed', call.minContextSlot]),
      [
        ['getRunsByNodes', 'confirmed', 75],
        ['getMarketsByAddress', 'confirmed', 75],
        ['getNodeAccounts', 'confirmed', 75],
        // the finalized slot trails the confirmed one: held to a fresh landing, it would be refused
        ['getRunsByNodes', 'finalized', undefined],
        ['getJobs', 'confirmed', 75],
      ],
    );
  });

  test('no node asks for a slot: no read is held to one', async () => {
    const chain = new ScriptedPort();
    chain.markets.set(MARKET.toBase58(), marketView());
    await readNodeChains(chain.port(), [request(key()), request(key())]);
    assert.ok(chain.calls.length > 0);
    assert.ok(chain.calls.every((call) => call.minContextSlot === undefined));
  });

  test('no node: no call', async () => {
    const chain = new ScriptedPort();
    assert.equal((await readNodeChains(chain.port(), [])).size, 0);
    assert.deepEqual(chain.calls, []);
  });

  test('a named run the confirmed read misses is looked for at finalized, for those nodes only, and kept when found there', async () => {
    const chain = new ScriptedPort();
    const [lagging, gone, plain] = [key(), key(), key()];
    const stillThere = runView(lagging);
    chain.finalizedRuns.set(lagging.toBase58(), [stillThere]);
    chain.markets.set(MARKET.toBase58(), marketView());
    chain.jobs.set(stillThere.account.job.toBase58(), jobView(stillThere.account.job, stillThere));
    const reads = await readNodeChains(chain.port(), [
      request(lagging, { statusRun: { runAddress: stillThere.address.toBase58(), jobAddress: stillThere.account.job.toBase58() } }),
      request(gone, { statusRun: { runAddress: key().toBase58() } }),
      request(plain),
    ]);

    const finalized = chain.calls.filter((call) => call.commitment === 'finalized');
    assert.deepEqual(finalized, [{ method: 'getRunsByNodes', keys: [lagging.toBase58(), gone.toBase58()], commitment: 'finalized' }]);
    assert.equal(snapshotIn(reads, lagging).run, stillThere, 'a run the finalized read still shows is not given up');
    assert.ok(snapshotIn(reads, lagging).job?.run !== undefined);
    assert.equal(snapshotIn(reads, gone).run, undefined, 'both reads agree: gone');
    assert.equal(snapshotIn(reads, plain).run, undefined);
  });

  test('a finalized read that fails leaves those nodes unread, never with a missing run', async () => {
    const chain = new ScriptedPort();
    const [named, plain] = [key(), key()];
    chain.markets.set(MARKET.toBase58(), marketView());
    chain.fail = { method: 'getRunsByNodes@finalized', error: new Error('RPC getProgramAccounts failed: HTTP 503') };
    const runAddress = key().toBase58();
    const reads = await readNodeChains(chain.port(), [request(named, { statusRun: { runAddress } }), request(plain)]);
    assert.deepEqual(reads.get(named.toBase58()), {
      readError: `run ${runAddress} was not found, and the finalized read that must agree before it counts as gone failed: RPC getProgramAccounts failed: HTTP 503`,
    });
    assert.equal(snapshotIn(reads, plain).run, undefined);
  });

  for (const method of ['getRunsByNodes', 'getMarketsByAddress', 'getNodeAccounts']) {
    test(`${method} failing leaves every node unread`, async () => {
      const chain = new ScriptedPort();
      chain.fail = { method, error: new Error('RPC down') };
      const reads = await readNodeChains(chain.port(), [request(key()), request(key())]);
      assert.deepEqual([...reads.values()], [{ readError: 'RPC down' }, { readError: 'RPC down' }]);
      assert.equal(
        chain.calls.some((call) => call.method === 'getJobs'),
        false,
      );
    });
  }

  test('a job that cannot be read spoils only the nodes dealing with it', async () => {
    const chain = new ScriptedPort();
    const [bad, good, idle] = [key(), key(), key()];
    const badRun = runView(bad);
    const goodRun = runView(good);
    chain.runs.set(bad.toBase58(), [badRun]);
    chain.runs.set(good.toBase58(), [goodRun]);
    chain.markets.set(MARKET.toBase58(), marketView());
    chain.jobs.set(goodRun.account.job.toBase58(), jobView(goodRun.account.job, goodRun));
    chain.poisoned.add(badRun.account.job.toBase58());
    const reads = await readNodeChains(chain.port(), [request(bad), request(good), request(idle)]);

    assert.deepEqual(reads.get(bad.toBase58()), {
      readError: `job ${badRun.account.job.toBase58()} could not be read: ${badRun.account.job.toBase58()} is not a Nosana jobs-program account`,
    });
    assert.ok(snapshotIn(reads, good).job?.address.equals(goodRun.account.job));
    assert.equal(snapshotIn(reads, idle).job, undefined);
    assert.equal(chain.calls.filter((call) => call.method === 'getJobs').length, 3, 'the batch, then each job alone');
  });

  test('a job closed on chain is no job, not an error', async () => {
    const chain = new ScriptedPort();
    const node = key();
    chain.markets.set(MARKET.toBase58(), marketView());
    const read = snapshotIn(
      await readNodeChains(chain.port(), [request(node, { recordRun: { runAddress: key().toBase58(), jobAddress: key().toBase58() } })]),
      node,
    );
    assert.equal(read.job, undefined);
  });

  test('a market address holding something else spoils only the nodes serving it', async () => {
    const chain = new ScriptedPort();
    const other = key();
    const [wrong, right, unresolved] = [key(), key(), key()];
    chain.markets.set(other.toBase58(), { problem: `${other.toBase58()} is not a Nosana jobs-program account` });
    chain.markets.set(MARKET.toBase58(), marketView());
    const reads = await readNodeChains(chain.port(), [
      request(wrong, { market: other.toBase58() }),
      request(right),
      request(unresolved, { market: { missing: 'NosanaMarket gpu is not ready' } }),
    ]);
    assert.deepEqual(snapshotIn(reads, wrong).market, { missing: `${other.toBase58()} is not a Nosana jobs-program account` });
    assert.ok(!('missing' in snapshotIn(reads, right).market));
    assert.deepEqual(snapshotIn(reads, unresolved).market, { missing: 'NosanaMarket gpu is not ready' });
    assert.deepEqual(chain.calls.find((call) => call.method === 'getMarketsByAddress')?.keys, [other.toBase58(), MARKET.toBase58()]);
  });

  test('an address asked for twice, or not an address, is not read; the others are', async () => {
    const chain = new ScriptedPort();
    chain.markets.set(MARKET.toBase58(), marketView());
    const [twice, fine] = [key(), key()];
    const reads = await readNodeChains(chain.port(), [
      request(twice),
      request(fine),
      request(twice),
      { address: 'not-a-key', market: MARKET.toBase58() },
    ]);
    assert.deepEqual(reads.get(twice.toBase58()), {
      readError: `node ${twice.toBase58()} is asked for 2 times in one round: one key serves one NosanaNode`,
    });
    assert.deepEqual(reads.get('not-a-key'), { readError: 'node address not-a-key is not a Solana address' });
    assert.ok(snapshotIn(reads, fine));
    assert.deepEqual(chain.calls.find((call) => call.method === 'getRunsByNodes')?.keys, [fine.toBase58()]);
  });
});
