// How the runtime sees a program: the LocalProgram contract plus what only built-ins need (the
// loader that owns their account, raw runtime log lines like the System program's).
import type { LocalProgram, ProgramContext } from '../program.ts';

/** native: System/ComputeBudget (no "consumed" log line); bpf-loader-2: SPL programs; upgradeable: Nosana's. */
export type ProgramLoader = 'native' | 'bpf-loader-2' | 'bpf-loader-upgradeable';

export interface RuntimeContext extends ProgramContext {
  /** A log line without the "Program log: " prefix, as Solana's built-in programs print them. */
  logRaw(line: string): void;
}

export interface RuntimeProgram extends Omit<LocalProgram, 'execute'> {
  readonly loader: ProgramLoader;
  execute(ctx: RuntimeContext): void;
}
