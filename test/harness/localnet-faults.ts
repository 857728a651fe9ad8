// The localnet a child process (the controller, later the node agent) reaches over HTTP, and the
// fault knobs a test turns while that process works: dropped and late transactions, blockhashes
// that expire early, rate limits, server errors, hung requests and reads answered by a lagging
// backend (`lagSlots`, `lagRate`) on the RPC; failing pins and
// slow or corrupt gateway reads on IPFS; and the chain clock. The localnet itself runs in the
// test process (test/localnet/support.ts starts it), so a test changes faults without a restart.
import { dirname } from 'node:path';
import type { ChainFaults } from '../../src/localnet/chain/faults.ts';
import type { GatewayFaults } from '../../src/localnet/ipfs/index.ts';
import type { Localnet } from '../../src/localnet/localnet.ts';

/** The directory a controller's `--localnet` flag takes: where localnet.json was written. */
export function localnetDir(localnet: Localnet): string {
  // startLocalnet keeps every file of a localnet (poster wallet, localnet.json, …) in one directory
  return dirname(localnet.info.posterWallet);
}

const NO_GATEWAY_FAULTS: GatewayFaults = { gatewayErrorRate: 0, gatewayDelayMs: 0, corruptRate: 0, pinErrorRate: 0 };

export interface FaultChanges {
  chain?: Partial<ChainFaults>;
  ipfs?: Partial<GatewayFaults>;
}

export class LocalnetFaults {
  readonly #localnet: Localnet;

  constructor(localnet: Localnet) {
    this.#localnet = localnet;
  }

  /** Changes RPC faults (validated: a rate outside 0..1 or an unknown name throws here). */
  chain(changes: Partial<ChainFaults>): void {
    this.#localnet.chain.faults.set(changes);
  }

  /** Changes IPFS faults (validated the same way). */
  ipfs(changes: Partial<GatewayFaults>): void {
    Object.assign(this.#localnet.ipfs.faults, changes);
  }

  set(changes: FaultChanges): void {
    if (changes.chain !== undefined) this.chain(changes.chain);
    if (changes.ipfs !== undefined) this.ipfs(changes.ipfs);
  }

  /** Back to a well-behaved network. */
  clear(): void {
    this.#localnet.chain.faults.clear();
    this.ipfs(NO_GATEWAY_FAULTS);
  }

  /** Runs `action` with the faults on, and clears them afterwards whatever happens. */
  async during<T>(changes: FaultChanges, action: () => Promise<T>): Promise<T> {
    this.set(changes);
    try {
      return await action();
    } finally {
      this.clear();
    }
  }

  /** Moves chain time (and slots, so blockhash expiry) forward without sleeping. */
  advanceClock(seconds: number): void {
    this.#localnet.chain.clock.advance(seconds);
  }
}
