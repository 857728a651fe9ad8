// The chain rounds the NosanaNodes of one agent share, against a port that counts its calls: asks
// gathered in one window cost one round, each network has its own, a round's failure reaches every
// ask in it, and two asks for one node address in a round are both refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair } from '@solana/web3.js';
import type { PublicKey } from '@solana/web3.js';
import { NETWORKS } from '../../../src/chain/addresses.ts';
import type { NodeAccounts } from '../../../src/chain/jobs-client.ts';
import type { NodeChainPort, NodeChainRead, NodeReadRequest } from '../../../src/controllers/nosana-node/chain-reader.ts';
import { NodeChainRounds } from '../../../src/controllers/nosana-node/chain-rounds.ts';

const GATHER_MS = 20;
const ACCOUNTS: NodeAccounts = { balances: { lamports: 5n, nos: 7n }, nosAccount: true };

/** A chain with no runs, no jobs and the node accounts above; every round logs the nodes it read. */
class CountingPort {
  /** The nodes of each getRunsByNodes call: one call a round (no named run asks for a second). */
  readonly rounds: string[][] = [];
  failWith: Error | undefined;
  /** Thrown where no reader expects it: the round itself rejects. */
  breakWith: Error | undefined;

  port(): NodeChainPort {
    const network = (): NodeChainPort['network'] => {
      if (this.breakWith !== undefined) throw this.breakWith;
      return NETWORKS.localnet;
    };
    return {
      get network() {
        return network();
      },
      getRunsByNodes: async (nodes: readonly PublicKey[]) => {
        this.rounds.push(nodes.map((node) => node.toBase58()));
        return new Map(nodes.map((node) => [node.toBase58(), []]));
      },
      getMarketsByAddress: async () => new Map(),
      getNodeAccounts: async (nodes: readonly PublicKey[]) => {
        if (this.failWith !== undefined) throw this.failWith;
        return new Map(nodes.map((node) => [node.toBase58(), ACCOUNTS]));
      },
      getJobs: async () => new Map(),
    };
  }
}

function ask(address = Keypair.generate().publicKey.toBase58()): NodeReadRequest {
  return { address, market: { missing: 'NosanaMarket gpu has no market address yet' } };
}

function snapshot(read: NodeChainRead): Exclude<NodeChainRead, { readError: string }> {
  assert.ok(!('readError' in read), 'readError' in read ? read.readError : '');
  return read;
}

describe('NodeChainRounds', () => {
  test('asks made together share one round, each answered with its own snapshot', async () => {
    const chain = new CountingPort();
    const port = chain.port();
    const rounds = new NodeChainRounds({ gatherMs: GATHER_MS });
    const asks = [ask(), ask(), ask()];
    const reads = await Promise.all(asks.map((request) => rounds.read(port, request)));
    assert.equal(chain.rounds.length, 1, 'one round');
    assert.deepEqual(new Set(chain.rounds[0]), new Set(asks.map((request) => request.address)));
    for (const read of reads) {
      assert.deepEqual(snapshot(read).balances, ACCOUNTS.balances);
      assert.deepEqual(snapshot(read).market, { missing: 'NosanaMarket gpu has no market address yet' });
    }
  });

  test('an ask arriving later in the window joins the round it started', async () => {
    const chain = new CountingPort();
    const port = chain.port();
    const rounds = new NodeChainRounds({ gatherMs: 100 });
    const first = rounds.read(port, ask());
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = rounds.read(port, ask());
    await Promise.all([first, second]);
    assert.equal(chain.rounds.length, 1);
    assert.equal(chain.rounds[0]?.length, 2);
  });

  test('an ask after a round was read starts the next round', async () => {
    const chain = new CountingPort();
    const port = chain.port();
    const rounds = new NodeChainRounds({ gatherMs: GATHER_MS });
    await rounds.read(port, ask());
    await rounds.read(port, ask());
    assert.equal(chain.rounds.length, 2);
  });

  test('each network client has its own round', async () => {
    const [mainnet, devnet] = [new CountingPort(), new CountingPort()];
    const [mainnetPort, devnetPort] = [mainnet.port(), devnet.port()];
    const rounds = new NodeChainRounds({ gatherMs: GATHER_MS });
    const [a, b, c] = [ask(), ask(), ask()];
    await Promise.all([rounds.read(mainnetPort, a), rounds.read(devnetPort, b), rounds.read(devnetPort, c)]);
    assert.deepEqual(mainnet.rounds, [[a.address]]);
    assert.deepEqual(devnet.rounds, [[b.address, c.address]]);
  });

  test('a request the round cannot do without fails: every ask of the round gets that failure as its read error', async () => {
    const chain = new CountingPort();
    chain.failWith = new Error('429 Too Many Requests');
    const port = chain.port();
    const rounds = new NodeChainRounds({ gatherMs: GATHER_MS });
    const reads = await Promise.all([rounds.read(port, ask()), rounds.read(port, ask())]);
    assert.deepEqual(reads, [{ readError: '429 Too Many Requests' }, { readError: '429 Too Many Requests' }]);
  });

  test('a round that throws rejects every ask in it; the next round starts afresh', async () => {
    const chain = new CountingPort();
    chain.breakWith = new Error('the client is closed');
    const port = chain.port();
    const rounds = new NodeChainRounds({ gatherMs: GATHER_MS });
    const outcomes = await Promise.allSettled([rounds.read(port, ask()), rounds.read(port, ask())]);
    assert.deepEqual(
      outcomes.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as Error).message : 'fulfilled')),
      ['the client is closed', 'the client is closed'],
    );
    chain.breakWith = undefined;
    snapshot(await rounds.read(port, ask()));
  });

  test('two asks for one node address in a round (two NosanaNodes sharing a key): both refused, one key per NosanaNode', async () => {
    const chain = new CountingPort();
    const port = chain.port();
    const rounds = new NodeChainRounds({ gatherMs: GATHER_MS });
    const shared = Keypair.generate().publicKey.toBase58();
    const other = ask();
    const [first, second, third] = await Promise.all([
      rounds.read(port, ask(shared)),
      rounds.read(port, ask(shared)),
      rounds.read(port, other),
    ]);
    const refusal = `node ${shared} is asked for 2 times in one round: one key serves one NosanaNode`;
    assert.deepEqual([first, second], [{ readError: refusal }, { readError: refusal }]);
    snapshot(third);
    assert.deepEqual(chain.rounds, [[other.address]], 'the shared address is not read at all');
  });
});
