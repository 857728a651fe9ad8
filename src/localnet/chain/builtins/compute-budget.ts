// The ComputeBudget program. Its instructions are read before execution (they set the unit limit
// and the priority fee of the whole transaction); executing them afterwards does nothing.
import { COMPUTE_BUDGET_PROGRAM_ID } from '../addresses.ts';
import type { MessageView } from '../wire-transaction.ts';
import { TransactionRejected } from '../transaction-errors.ts';
import type { RuntimeProgram } from './runtime-program.ts';

export const DEFAULT_INSTRUCTION_UNIT_LIMIT = 200_000;
export const MAX_TRANSACTION_UNIT_LIMIT = 1_400_000;
const BUILTIN_UNITS = 150;
const MIN_HEAP_FRAME = 32 * 1024;
const MAX_HEAP_FRAME = 256 * 1024;

const REQUEST_HEAP_FRAME = 1;
const SET_COMPUTE_UNIT_LIMIT = 2;
const SET_COMPUTE_UNIT_PRICE = 3;
const SET_LOADED_ACCOUNTS_DATA_SIZE_LIMIT = 4;

export interface ComputeBudget {
  unitLimit: number;
  /** Micro-lamports per compute unit. */
  unitPrice: bigint;
}

/** The transaction's budget, or TransactionRejected for malformed or repeated budget instructions. */
export function readComputeBudget(message: MessageView): ComputeBudget {
  const budgetProgram = COMPUTE_BUDGET_PROGRAM_ID.toBase58();
  let unitLimit: number | undefined;
  let unitPrice: bigint | undefined;
  let otherInstructions = 0;
  const seen = new Set<number>();
  message.instructions.forEach((ix, index) => {
    if (message.accountKeys[ix.programIndex]?.toBase58() !== budgetProgram) {
      otherInstructions++;
      return;
    }
    const invalid = (): never => {
      throw new TransactionRejected({ InstructionError: [index, 'InvalidInstructionData'] });
    };
    const kind = ix.data[0];
    if (kind === undefined) invalid();
    if (seen.has(kind as number)) throw new TransactionRejected({ DuplicateInstruction: index });
    seen.add(kind as number);
    switch (kind) {
      case REQUEST_HEAP_FRAME: {
        if (ix.data.length !== 5) invalid();
        const bytes = ix.data.readUInt32LE(1);
        if (bytes % 1024 !== 0 || bytes < MIN_HEAP_FRAME || bytes > MAX_HEAP_FRAME) invalid();
        break;
      }
      case SET_COMPUTE_UNIT_LIMIT:
        if (ix.data.length !== 5) invalid();
        unitLimit = ix.data.readUInt32LE(1);
        break;
      case SET_COMPUTE_UNIT_PRICE:
        if (ix.data.length !== 9) invalid();
        unitPrice = ix.data.readBigUInt64LE(1);
        break;
      case SET_LOADED_ACCOUNTS_DATA_SIZE_LIMIT:
        if (ix.data.length !== 5) invalid();
        break;
      default:
        invalid();
    }
  });
  const defaultLimit = otherInstructions * DEFAULT_INSTRUCTION_UNIT_LIMIT;
  return {
    unitLimit: Math.min(unitLimit ?? defaultLimit, MAX_TRANSACTION_UNIT_LIMIT),
    unitPrice: unitPrice ?? 0n,
  };
}

export const computeBudgetProgram: RuntimeProgram = {
  programId: COMPUTE_BUDGET_PROGRAM_ID,
  name: 'compute_budget_program',
  loader: 'native',
  execute(ctx) {
    ctx.consume(BUILTIN_UNITS);
  },
};
