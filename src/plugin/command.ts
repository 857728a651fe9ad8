// What a `kubectl nosana` command is to the entry point: a name, a one-line summary, its help, and
// a run function given its arguments and its surroundings (output streams, environment, the
// Ctrl-C signal and a clock), so that tests can run a command as a plain function.
import type { CommandIo } from '../cli/io.ts';

export interface PluginIo extends CommandIo {
  env: NodeJS.ProcessEnv;
  /** Aborted by Ctrl-C (SIGINT) or SIGTERM: stop waiting or watching and return. */
  signal: AbortSignal;
  /** ms since the epoch (ages in tables). */
  now: () => number;
}

export type RunCommand = (args: readonly string[], io: PluginIo) => Promise<number>;

/** Prints `help` and says so when -h was given; the commands' first check. */
export function printedHelp(values: { help?: boolean | undefined }, help: string, io: PluginIo): boolean {
  if (values.help !== true) return false;
  io.stdout.write(help);
  return true;
}
