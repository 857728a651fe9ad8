// Sending and simulating transactions, airdrops and fee estimates.
import type { PublicKey } from '@solana/web3.js';
import { readComputeBudget } from '../builtins/compute-budget.ts';
import { PreflightFailure, SignatureVerificationFailure, type LocalChain } from '../chain.ts';
import type { ExecutedTransaction } from '../processor.ts';
import { transactionFee } from '../processor.ts';
import { TransactionRejected } from '../transaction-errors.ts';
import { accountViewOf, encodeAccount } from './account-encoding.ts';
import {
  arrayParam,
  checkMinContextSlot,
  commitmentOf,
  configParam,
  integerParam,
  optionalBoolean,
  parsePubkey,
  pubkeyParam,
  stringParam,
  type Config,
  type Params,
} from './params.ts';
import { withContext } from './response.ts';
import { RPC_ERROR, RpcError, invalidParams } from './rpc-error.ts';
import { messageParam, transactionParam } from './transaction-encoding.ts';

const MAX_PRIORITIZATION_FEE_ADDRESSES = 128;
/** Slots getRecentPrioritizationFees looks back over (Solana's prioritization fee cache). */
const PRIORITIZATION_FEE_SLOTS = 150;

function preflightError(failure: PreflightFailure): RpcError {
  return new RpcError(RPC_ERROR.preflightFailure, failure.message, {
    err: failure.error,
    logs: failure.logs,
    accounts: null,
    unitsConsumed: failure.unitsConsumed,
    returnData: null,
    innerInstructions: null,
  });
}

function simulatedAccounts(config: Config, executed: ExecutedTransaction, chain: LocalChain) {
  const request = config['accounts'];
  if (request === undefined || request === null) return null;
  if (typeof request !== 'object') throw invalidParams('Invalid params: accounts must be an object');
  const addresses = (request as Config)['addresses'];
  if (!Array.isArray(addresses)) throw invalidParams('Invalid params: accounts.addresses must be an array');
  const keyCount = executed.transaction.accountKeys.length;
  if (addresses.length > keyCount) throw invalidParams(`Too many accounts provided; max ${keyCount}`);
  const view = accountViewOf(request as Config, 'base64');
  if (executed.err) return null;
  return addresses.map((raw, i) => {
    const address = parsePubkey(typeof raw === 'string' ? raw : '', `accounts.addresses[${i}]`).toBase58();
    const account = executed.executionStage.read(address);
    return account ? encodeAccount(account, view, (key) => executed.executionStage.read(key) ?? chain.ledger.get(key)) : null;
  });
}

function innerInstructionsOf(executed: ExecutedTransaction) {
  const keys = executed.transaction.accountKeys;
  return executed.innerInstructions.map(({ index, instructions }) => ({
    index,
    instructions: instructions.map((ix) => ({
      programId: keys[ix.programIdIndex]?.toBase58(),
      accounts: ix.accounts.map((i) => keys[i]?.toBase58()),
      data: ix.data,
      stackHeight: ix.stackHeight,
    })),
  }));
}

export const transactionMethods = {
  sendTransaction: (params: Params, chain: LocalChain) => {
    const config = configParam(params, 1);
    const transaction = transactionParam(stringParam(params, 0, 'transaction'), config);
    checkMinContextSlot(config, chain.slot);
    // Validated only: preflight runs against the latest state whatever the commitment.
    commitmentOf(config, 'preflightCommitment');
    try {
      return chain.submit(transaction, { skipPreflight: optionalBoolean(config, 'skipPreflight') ?? false });
    } catch (error) {
      if (error instanceof PreflightFailure) throw preflightError(error);
      if (error instanceof SignatureVerificationFailure) throw new RpcError(RPC_ERROR.signatureVerificationFailure, error.message);
      throw error;
    }
  },
  simulateTransaction: (params: Params, chain: LocalChain) => {
    const config = configParam(params, 1);
    const transaction = transactionParam(stringParam(params, 0, 'transaction'), config);
    checkMinContextSlot(config, chain.slot);
    const verifySignatures = optionalBoolean(config, 'sigVerify') ?? false;
    const replaceRecentBlockhash = optionalBoolean(config, 'replaceRecentBlockhash') ?? false;
    if (verifySignatures && replaceRecentBlockhash) throw invalidParams('sigVerify may not be used with replaceRecentBlockhash');
    const outcome = chain.simulate(transaction, { verifySignatures, replaceRecentBlockhash });
    const replacement = replaceRecentBlockhash ? chain.latestBlockhash('processed') : undefined;
    const replacementBlockhash = replacement
      ? { blockhash: replacement.blockhash, lastValidBlockHeight: replacement.lastValidBlockHeight }
      : null;
    const executed = outcome.executed;
    if (!executed) {
      return withContext(chain, {
        err: outcome.rejected,
        logs: [],
        accounts: null,
        unitsConsumed: 0,
        returnData: null,
        innerInstructions: null,
        replacementBlockhash,
      });
    }
    return withContext(chain, {
      err: executed.err,
      logs: executed.logs,
      accounts: simulatedAccounts(config, executed, chain),
      unitsConsumed: executed.unitsConsumed,
      returnData: null,
      innerInstructions: optionalBoolean(config, 'innerInstructions') ? innerInstructionsOf(executed) : null,
      replacementBlockhash,
    });
  },
  requestAirdrop: (params: Params, chain: LocalChain) => {
    const recipient: PublicKey = pubkeyParam(params, 0, 'recipient');
    const lamports = integerParam(params, 1, 'lamports');
    if (lamports === 0) throw invalidParams('Invalid params: lamports must be positive');
    try {
      return chain.requestAirdrop(recipient, BigInt(lamports));
    } catch (error) {
      if (error instanceof PreflightFailure) throw new RpcError(RPC_ERROR.internalError, `airdrop failed: ${error.message}`);
      throw error;
    }
  },
  getFeeForMessage: (params: Params, chain: LocalChain) => {
    const message = messageParam(stringParam(params, 0, 'message'));
    checkMinContextSlot(configParam(params, 1), chain.slot);
    if (!chain.isBlockhashValid(message.recentBlockhash)) return withContext(chain, null);
    try {
      const budget = readComputeBudget(message);
      return withContext(chain, Number(transactionFee(message.numRequiredSignatures, budget.unitLimit, budget.unitPrice)));
    } catch (error) {
      if (error instanceof TransactionRejected) return withContext(chain, null);
      throw error;
    }
  },
  getRecentPrioritizationFees: (params: Params, chain: LocalChain) => {
    const raw = params[0] === undefined ? [] : arrayParam(params, 0, 'account addresses');
    if (raw.length > MAX_PRIORITIZATION_FEE_ADDRESSES)
      throw invalidParams(`Too many inputs provided; max ${MAX_PRIORITIZATION_FEE_ADDRESSES}`);
    const addresses = new Set(raw.map((a, i) => parsePubkey(typeof a === 'string' ? a : '', `account address ${i}`).toBase58()));
    const firstSlot = Math.max(0, chain.slot - PRIORITIZATION_FEE_SLOTS + 1);
    const lowestBySlot = new Map<number, bigint>();
    for (const record of chain.signatures.since(firstSlot)) {
      const locksAddress = addresses.size === 0 || record.accountKeys.some((key, i) => record.writable[i] && addresses.has(key));
      if (!locksAddress) continue;
      const lowest = lowestBySlot.get(record.slot);
      if (lowest === undefined || record.computeUnitPrice < lowest) lowestBySlot.set(record.slot, record.computeUnitPrice);
    }
    const fees = [];
    for (let slot = firstSlot; slot <= chain.slot; slot++) fees.push({ slot, prioritizationFee: Number(lowestBySlot.get(slot) ?? 0n) });
    return fees;
  },
};
