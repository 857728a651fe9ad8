// Transaction status and history: signature statuses (status cache, optionally the history),
// signatures by address and full transactions. Without history (keepHistory: false) the node
// answers like an Agave node without transaction history: only the status cache, and -32011 for
// address history and for status lookups that ask to search the history. When the lag fault
// picks a read, it is answered by a node that has processed only up to an older slot: what landed
// after it is unknown there, and confirmation levels are counted from that slot.
import bs58 from 'bs58';
import type { LocalChain } from '../chain.ts';
import type { ConfirmationStatus, TransactionRecord } from '../signature-store.ts';
import { decodeWireTransaction } from '../wire-transaction.ts';
import {
  arrayParam,
  checkMinContextSlot,
  commitmentOf,
  configParam,
  optionalBoolean,
  optionalInteger,
  optionalString,
  pubkeyParam,
  stringParam,
  type Config,
  type Params,
} from './params.ts';
import { withContext } from './response.ts';
import { RPC_ERROR, RpcError, invalidParams } from './rpc-error.ts';

const MAX_SIGNATURE_STATUSES = 256;
const MAX_SIGNATURES_FOR_ADDRESS = 1000;

const RANK: Record<ConfirmationStatus, number> = { processed: 0, confirmed: 1, finalized: 2 };

// History methods answer at confirmed or finalized only, as Solana's do.
function historyCommitment(config: Config): ConfirmationStatus {
  const commitment = commitmentOf(config);
  if (commitment === 'processed') throw invalidParams('Method does not support commitment below `confirmed`');
  return commitment;
}

function historyNotAvailable(): RpcError {
  return new RpcError(RPC_ERROR.transactionHistoryNotAvailable, 'Transaction history is not available from this node');
}

/** `slot`: the slot the read is answered at. */
function reaches(chain: LocalChain, record: TransactionRecord, commitment: ConfirmationStatus, slot: number): boolean {
  return RANK[chain.signatures.confirmationStatus(record, slot)] >= RANK[commitment];
}

function statusOf(chain: LocalChain, record: TransactionRecord, slot: number) {
  const confirmationStatus = chain.signatures.confirmationStatus(record, slot);
  return {
    slot: record.slot,
    confirmations: confirmationStatus === 'finalized' ? null : slot - record.slot,
    err: record.err,
    status: record.err ? { Err: record.err } : { Ok: null },
    confirmationStatus,
  };
}

function transactionJson(record: TransactionRecord, parsed: boolean) {
  const transaction = decodeWireTransaction(Buffer.from(record.wire, 'base64'));
  const keys = record.accountKeys;
  const signers = transaction.numRequiredSignatures;
  return {
    signatures: transaction.signatures.map((s) => bs58.encode(s)),
    message: {
      accountKeys: parsed
        ? keys.map((pubkey, i) => ({ pubkey, signer: i < signers, writable: record.writable[i] ?? false, source: 'transaction' }))
        : keys,
      header: {
        numRequiredSignatures: transaction.numRequiredSignatures,
        numReadonlySignedAccounts: transaction.numReadonlySigned,
        numReadonlyUnsignedAccounts: transaction.numReadonlyUnsigned,
      },
      instructions: transaction.instructions.map((ix) =>
        parsed
          ? {
              programId: keys[ix.programIndex],
              accounts: ix.accountIndexes.map((i) => keys[i]),
              data: bs58.encode(ix.data),
              stackHeight: null,
            }
          : { programIdIndex: ix.programIndex, accounts: ix.accountIndexes, data: bs58.encode(ix.data), stackHeight: null },
      ),
      recentBlockhash: transaction.recentBlockhash,
      ...(record.version === 0 ? { addressTableLookups: [] } : {}),
    },
  };
}

function metaJson(record: TransactionRecord, parsed: boolean) {
  return {
    err: record.err,
    status: record.err ? { Err: record.err } : { Ok: null },
    fee: Number(record.fee),
    preBalances: record.preBalances.map(Number),
    postBalances: record.postBalances.map(Number),
    innerInstructions: record.innerInstructions.map(({ index, instructions }) => ({
      index,
      instructions: instructions.map((ix) =>
        parsed
          ? {
              programId: record.accountKeys[ix.programIdIndex],
              accounts: ix.accounts.map((i) => record.accountKeys[i]),
              data: ix.data,
              stackHeight: ix.stackHeight,
            }
          : ix,
      ),
    })),
    logMessages: record.logs,
    preTokenBalances: record.preTokenBalances,
    postTokenBalances: record.postTokenBalances,
    rewards: [],
    loadedAddresses: { writable: [], readonly: [] },
    computeUnitsConsumed: record.unitsConsumed,
  };
}

export const historyMethods = {
  getSignatureStatuses: (params: Params, chain: LocalChain) => {
    const signatures = arrayParam(params, 0, 'signatures');
    if (signatures.length > MAX_SIGNATURE_STATUSES) throw invalidParams(`Too many inputs provided; max ${MAX_SIGNATURE_STATUSES}`);
    const searchHistory = optionalBoolean(configParam(params, 1), 'searchTransactionHistory') ?? false;
    if (searchHistory && !chain.signatures.keepHistory) throw historyNotAvailable();
    // Agave takes no minContextSlot here; a client compares the context slot instead.
    const slot = chain.readSlot();
    return withContext(
      chain,
      signatures.map((signature, i) => {
        if (typeof signature !== 'string') throw invalidParams(`Invalid params: signature ${i} must be a string`);
        const record = chain.signatures.get(signature, slot);
        if (!record) return null;
        const answerable = chain.signatures.inStatusCache(record, slot) || searchHistory;
        return answerable ? statusOf(chain, record, slot) : null;
      }),
      slot,
    );
  },
  getSignaturesForAddress: (params: Params, chain: LocalChain) => {
    const address = pubkeyParam(params, 0, 'account address');
    const config = configParam(params, 1);
    if (!chain.signatures.keepHistory) throw historyNotAvailable();
    const commitment = historyCommitment(config);
    const slot = chain.readSlot();
    // As Agave: refused unless the slot at the asked commitment (the root for finalized) has reached it.
    checkMinContextSlot(config, chain.slotAt(commitment, slot));
    const limit = optionalInteger(config, 'limit') ?? MAX_SIGNATURES_FOR_ADDRESS;
    if (limit < 1 || limit > MAX_SIGNATURES_FOR_ADDRESS) throw invalidParams(`Invalid limit; max ${MAX_SIGNATURES_FOR_ADDRESS}`);
    const before = optionalString(config, 'before');
    const until = optionalString(config, 'until');
    let records = chain.signatures.forAddress(address.toBase58(), slot).filter((r) => reaches(chain, r, commitment, slot));
    if (before !== undefined) {
      const start = records.findIndex((r) => r.signature === before);
      records = start === -1 ? [] : records.slice(start + 1);
    }
    if (until !== undefined) {
      const end = records.findIndex((r) => r.signature === until);
      if (end !== -1) records = records.slice(0, end);
    }
    return records.slice(0, limit).map((record) => ({
      signature: record.signature,
      slot: record.slot,
      err: record.err,
      memo: null,
      blockTime: record.blockTime,
      confirmationStatus: chain.signatures.confirmationStatus(record, slot),
    }));
  },
  getTransaction: (params: Params, chain: LocalChain) => {
    const signature = stringParam(params, 0, 'signature');
    const config = configParam(params, 1);
    const commitment = historyCommitment(config);
    const encoding = optionalString(config, 'encoding') ?? 'json';
    if (!['json', 'jsonParsed', 'base64', 'base58'].includes(encoding))
      throw invalidParams(`Invalid params: unknown encoding \`${encoding}\``);
    const maxVersion = optionalInteger(config, 'maxSupportedTransactionVersion');
    // Agave takes no minContextSlot here either.
    const slot = chain.readSlot();
    const record = chain.signatures.get(signature, slot);
    if (!record || !reaches(chain, record, commitment, slot)) return null;
    if (record.version === 0 && maxVersion === undefined) {
      throw new RpcError(
        RPC_ERROR.unsupportedTransactionVersion,
        'Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": 0',
      );
    }
    const parsed = encoding === 'jsonParsed';
    const transaction =
      encoding === 'base64'
        ? [record.wire, 'base64']
        : encoding === 'base58'
          ? [bs58.encode(Buffer.from(record.wire, 'base64')), 'base58']
          : transactionJson(record, parsed);
    return {
      slot: record.slot,
      blockTime: record.blockTime,
      transaction,
      meta: metaJson(record, parsed),
      ...(maxVersion === undefined ? {} : { version: record.version }),
    };
  },
};
