// Cluster, clock and blockhash methods: health, version, genesis, slots, epochs, blockhashes,
// block times and rent.
import type { LocalChain } from '../chain.ts';
import { rentExemptMinimum } from '../rent.ts';
import { STATUS_CACHE_SLOTS } from '../signature-store.ts';
import { SLOTS_PER_EPOCH } from '../sysvars.ts';
import { checkMinContextSlot, commitmentOf, configParam, integerParam, stringParam, type Params } from './params.ts';
import { LOCALNET_FEATURE_SET, LOCALNET_SOLANA_CORE_VERSION, withContext } from './response.ts';
import { RpcError } from './rpc-error.ts';

const BLOCK_NOT_AVAILABLE = -32004;

function firstAvailableBlock(chain: LocalChain): number {
  return chain.signatures.keepHistory ? 0 : Math.max(0, chain.slot - STATUS_CACHE_SLOTS);
}

// The cluster's clock is read from the up-to-date node even while the lag fault is on.
function slotAtCommitment(params: Params, chain: LocalChain): number {
  const config = configParam(params, 0);
  const slot = chain.slotAt(commitmentOf(config));
  checkMinContextSlot(config, slot);
  return slot;
}

export const clusterMethods = {
  getHealth: () => 'ok',
  getVersion: () => ({ 'solana-core': LOCALNET_SOLANA_CORE_VERSION, 'feature-set': LOCALNET_FEATURE_SET }),
  getGenesisHash: (_params: Params, chain: LocalChain) => chain.genesisHash,
  getSlot: slotAtCommitment,
  // Every slot has a block, so block height equals slot.
  getBlockHeight: slotAtCommitment,
  getEpochInfo: (params: Params, chain: LocalChain) => {
    const slot = slotAtCommitment(params, chain);
    return {
      absoluteSlot: slot,
      blockHeight: slot,
      epoch: Math.floor(slot / SLOTS_PER_EPOCH),
      slotIndex: slot % SLOTS_PER_EPOCH,
      slotsInEpoch: SLOTS_PER_EPOCH,
      transactionCount: chain.signatures.landedCount,
    };
  },
  getEpochSchedule: () => ({
    slotsPerEpoch: SLOTS_PER_EPOCH,
    leaderScheduleSlotOffset: SLOTS_PER_EPOCH,
    warmup: false,
    firstNormalEpoch: 0,
    firstNormalSlot: 0,
  }),
  getLatestBlockhash: (params: Params, chain: LocalChain) => {
    const config = configParam(params, 0);
    const { slot, blockhash, lastValidBlockHeight } = chain.latestBlockhash(commitmentOf(config));
    checkMinContextSlot(config, slot);
    return withContext(chain, { blockhash, lastValidBlockHeight }, slot);
  },
  isBlockhashValid: (params: Params, chain: LocalChain) => {
    const blockhash = stringParam(params, 0, 'blockhash');
    const config = configParam(params, 1);
    checkMinContextSlot(config, chain.slotAt(commitmentOf(config)));
    return withContext(chain, chain.isBlockhashValid(blockhash));
  },
  getFirstAvailableBlock: (_params: Params, chain: LocalChain) => firstAvailableBlock(chain),
  getBlockTime: (params: Params, chain: LocalChain) => {
    const slot = integerParam(params, 0, 'slot');
    if (slot > chain.slot || slot < firstAvailableBlock(chain))
      throw new RpcError(BLOCK_NOT_AVAILABLE, `Block not available for slot ${slot}`);
    const landed = chain.signatures.since(slot).find((record) => record.slot === slot);
    return landed?.blockTime ?? chain.clock.slotTime(slot);
  },
  getMinimumBalanceForRentExemption: (params: Params) => Number(rentExemptMinimum(integerParam(params, 0, 'data length'))),
};
