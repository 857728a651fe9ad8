// Gathers the chain reads of every NosanaNode reconciled at about the same moment into one round
// (chain-reader.ts's readNodeChains) per network, so N nodes polled together cost a few RPC requests
// rather than a few each. A reconcile asks for its node's snapshot; asks that arrive within the
// gathering window share the round that window starts.
import type { NodeChainPort, NodeChainRead, NodeReadRequest } from './chain-reader.ts';
import { readNodeChains } from './chain-reader.ts';

// Long enough for the reconciles one requeue wave wakes to meet, short next to a poll interval.
const GATHER_MS = 25;

interface Ask {
  request: NodeReadRequest;
  resolve: (read: NodeChainRead) => void;
  reject: (error: unknown) => void;
}

interface Round {
  asks: Ask[];
  timer: NodeJS.Timeout;
}

export class NodeChainRounds {
  /** The round gathering now, per network client. */
  readonly #gathering = new Map<NodeChainPort, Round>();
  readonly #gatherMs: number;

  constructor(options: { gatherMs?: number } = {}) {
    this.#gatherMs = options.gatherMs ?? GATHER_MS;
  }

  /** The node's snapshot, read in the round gathering now on `port`'s network. */
  read(port: NodeChainPort, request: NodeReadRequest): Promise<NodeChainRead> {
    // Two asks for one node in a round (two NosanaNodes sharing a key) stay together: the round
    // refuses both, as one key serves one NosanaNode.
    let round = this.#gathering.get(port);
    if (round === undefined) {
      const started: Round = { asks: [], timer: setTimeout(() => this.#flush(port, started), this.#gatherMs) };
      round = started;
      this.#gathering.set(port, round);
    }
    const { promise, resolve, reject } = Promise.withResolvers<NodeChainRead>();
    round.asks.push({ request, resolve, reject });
    return promise;
  }

  #flush(port: NodeChainPort, round: Round): void {
    clearTimeout(round.timer);
    if (this.#gathering.get(port) === round) this.#gathering.delete(port);
    readNodeChains(
      port,
      round.asks.map((ask) => ask.request),
    ).then(
      (reads) => {
        for (const ask of round.asks)
          ask.resolve(reads.get(ask.request.address) ?? { readError: `node ${ask.request.address} was not in the round's answer` });
      },
      (error: unknown) => {
        for (const ask of round.asks) ask.reject(error);
      },
    );
  }
}
