// The programs a localnet runs: the built-ins (System, ComputeBudget, SPL Token, Associated
// Token) plus whatever programs the caller registers, and the executable accounts that make them
// visible on the ledger.
import { PublicKey } from '@solana/web3.js';
import { BPF_LOADER_2_ID, BPF_LOADER_UPGRADEABLE_ID, NATIVE_LOADER_ID } from './addresses.ts';
import { associatedTokenProgram } from './builtins/associated-token.ts';
import { computeBudgetProgram } from './builtins/compute-budget.ts';
import type { ProgramLoader, RuntimeProgram } from './builtins/runtime-program.ts';
import { systemProgram } from './builtins/system.ts';
import { tokenProgram } from './builtins/token.ts';
import type { Ledger } from './ledger.ts';
import type { LocalProgram } from './program.ts';
import { rentExemptMinimum } from './rent.ts';

export const BUILTIN_PROGRAMS: readonly RuntimeProgram[] = [systemProgram, computeBudgetProgram, tokenProgram, associatedTokenProgram];

export interface ProgramRegistry {
  find(programId: string): RuntimeProgram | undefined;
  all(): readonly RuntimeProgram[];
}

/** Registers `programs` (deployed by the upgradeable BPF loader, like Nosana's) next to the built-ins. */
export function createProgramRegistry(programs: readonly LocalProgram[]): ProgramRegistry {
  const byId = new Map<string, RuntimeProgram>();
  const add = (program: RuntimeProgram) => {
    const id = program.programId.toBase58();
    const existing = byId.get(id);
    if (existing) throw new Error(`program ${id} (${program.name}) is already registered as ${existing.name}`);
    byId.set(id, program);
  };
  for (const builtin of BUILTIN_PROGRAMS) add(builtin);
  for (const program of programs) {
    add({
      programId: program.programId,
      name: program.name,
      loader: 'bpf-loader-upgradeable',
      execute: (ctx) => program.execute(ctx),
      ...(program.failureLog ? { failureLog: (failure) => program.failureLog?.(failure) } : {}),
    });
  }
  const all = [...byId.values()];
  return { find: (id) => byId.get(id), all: () => all };
}

const LOADER_IDS: Record<ProgramLoader, PublicKey> = {
  native: NATIVE_LOADER_ID,
  'bpf-loader-2': BPF_LOADER_2_ID,
  'bpf-loader-upgradeable': BPF_LOADER_UPGRADEABLE_ID,
};

/** Writes (or rewrites, after a state file was loaded) the executable account of every program. */
export function installProgramAccounts(ledger: Ledger, registry: ProgramRegistry): void {
  for (const program of registry.all()) {
    const data = programAccountData(program);
    ledger.put(program.programId, {
      lamports: rentExemptMinimum(data.length),
      owner: LOADER_IDS[program.loader],
      data,
      executable: true,
    });
  }
}

function programAccountData(program: RuntimeProgram): Buffer {
  switch (program.loader) {
    // Native program accounts hold the program's name.
    case 'native':
      return Buffer.from(program.name);
    // The ELF itself: the localnet has none, the program runs in TypeScript.
    case 'bpf-loader-2':
      return Buffer.alloc(0);
    // UpgradeableLoaderState::Program { programdata_address }.
    case 'bpf-loader-upgradeable': {
      const [programData] = PublicKey.findProgramAddressSync([program.programId.toBytes()], BPF_LOADER_UPGRADEABLE_ID);
      const data = Buffer.alloc(36);
      data.writeUInt32LE(2, 0);
      programData.toBuffer().copy(data, 4);
      return data;
    }
  }
}
