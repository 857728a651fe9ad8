// Saving a ledger to a JSON state file and loading it back, so a restarted localnet continues
// with the same accounts, transaction history, genesis (blockhashes) and clock offset. Writes are
// atomic: a temporary file renamed over the old one.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { PublicKey } from '@solana/web3.js';
import { z } from 'zod';
import type { ChainSnapshot, LocalChain } from './chain.ts';
import type { TransactionRecord } from './signature-store.ts';

const FORMAT = 'nosana-operator-localnet-ledger/1';

const bigintText = z
  .string()
  .regex(/^\d+$/, 'expected an unsigned integer string')
  .transform((v) => BigInt(v));
const pubkeyText = z.string().transform((value, ctx) => {
  try {
    return new PublicKey(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `not a base58 public key: ${value}` });
    return z.NEVER;
  }
});
const uiTokenAmount = z.object({ amount: z.string(), decimals: z.number(), uiAmount: z.number().nullable(), uiAmountString: z.string() });
const tokenBalance = z.object({ accountIndex: z.number(), mint: z.string(), owner: z.string(), programId: z.string(), uiTokenAmount });
const instructionError = z.union([z.string(), z.object({ Custom: z.number() })]);
const transactionError = z.union([
  z.string(),
  z.object({ InstructionError: z.tuple([z.number(), instructionError]) }),
  z.object({ InsufficientFundsForRent: z.object({ account_index: z.number() }) }),
  z.object({ DuplicateInstruction: z.number() }),
]);

const stateFileSchema = z.object({
  format: z.literal(FORMAT),
  genesisSeed: z.string().regex(/^[0-9a-f]{64}$/),
  genesisMs: z.number(),
  clockOffsetMs: z.number(),
  burnedFees: bigintText,
  accounts: z.array(
    z.object({
      address: z.string(),
      lamports: bigintText,
      owner: pubkeyText,
      data: z.base64(),
      executable: z.boolean(),
    }),
  ),
  transactions: z.array(
    z.object({
      signature: z.string(),
      slot: z.number(),
      blockTime: z.number(),
      err: transactionError.nullable(),
      fee: bigintText,
      logs: z.array(z.string()),
      unitsConsumed: z.number(),
      computeUnitPrice: bigintText,
      wire: z.base64(),
      version: z.union([z.literal('legacy'), z.literal(0)]),
      accountKeys: z.array(z.string()),
      writable: z.array(z.boolean()),
      innerInstructions: z.array(
        z.object({
          index: z.number(),
          instructions: z.array(
            z.object({ programIdIndex: z.number(), accounts: z.array(z.number()), data: z.string(), stackHeight: z.number() }),
          ),
        }),
      ),
      preBalances: z.array(bigintText),
      postBalances: z.array(bigintText),
      preTokenBalances: z.array(tokenBalance),
      postTokenBalances: z.array(tokenBalance),
    }),
  ),
});

function recordToJson(record: TransactionRecord) {
  return {
    ...record,
    fee: record.fee.toString(),
    computeUnitPrice: record.computeUnitPrice.toString(),
    preBalances: record.preBalances.map(String),
    postBalances: record.postBalances.map(String),
  };
}

export function saveSnapshot(file: string, snapshot: ChainSnapshot): void {
  const content = {
    format: FORMAT,
    genesisSeed: snapshot.genesisSeed.toString('hex'),
    genesisMs: snapshot.genesisMs,
    clockOffsetMs: snapshot.clockOffsetMs,
    burnedFees: snapshot.burnedFees.toString(),
    accounts: snapshot.accounts.map(([address, account]) => ({
      address,
      lamports: account.lamports.toString(),
      owner: account.owner.toBase58(),
      data: account.data.toString('base64'),
      executable: account.executable,
    })),
    transactions: snapshot.transactions.map(recordToJson),
  };
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(content));
  renameSync(temporary, file);
}

/** The saved ledger, or undefined when the file does not exist yet. */
export function loadSnapshot(file: string): ChainSnapshot | undefined {
  if (!existsSync(file)) return undefined;
  let parsed: z.infer<typeof stateFileSchema>;
  try {
    parsed = stateFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (error) {
    const detail = error instanceof z.ZodError ? z.prettifyError(error) : (error as Error).message;
    throw new Error(`localnet state file ${file} is not a valid ledger: ${detail}`, { cause: error });
  }
  return {
    genesisSeed: Buffer.from(parsed.genesisSeed, 'hex'),
    genesisMs: parsed.genesisMs,
    clockOffsetMs: parsed.clockOffsetMs,
    burnedFees: parsed.burnedFees,
    accounts: parsed.accounts.map((a) => [
      a.address,
      { lamports: a.lamports, owner: a.owner, data: Buffer.from(a.data, 'base64'), executable: a.executable },
    ]),
    transactions: parsed.transactions,
  };
}

/** Saves the chain when it changed since the last save (ledger writes or clock advances). */
export class StateFileWriter {
  readonly #file: string;
  readonly #chain: LocalChain;
  #savedVersion = -1;
  #savedOffsetMs = -1;

  constructor(file: string, chain: LocalChain) {
    this.#file = file;
    this.#chain = chain;
  }

  saveIfChanged(): void {
    const version = this.#chain.ledger.version;
    const offsetMs = this.#chain.clock.offsetMs;
    if (version === this.#savedVersion && offsetMs === this.#savedOffsetMs) return;
    saveSnapshot(this.#file, this.#chain.snapshot());
    this.#savedVersion = version;
    this.#savedOffsetMs = offsetMs;
  }
}
