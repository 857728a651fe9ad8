// How `kubectl nosana` ends: an exit code a script can branch on, and one line saying what is
// wrong. Commands throw PluginError; the entry point turns it into that line and that code, so no
// stack trace ever reaches a user.
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE } from '../cli/io.ts';

export { EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE };
/** The thing asked about failed: a job that Failed, a wait that timed out, a write the API server refused. */
export const EXIT_FAILED = EXIT_PROBLEMS;
/** The object asked about does not exist, or the cluster cannot be reached or read. */
export const EXIT_UNAVAILABLE = 3;

export class PluginError extends Error {
  readonly exitCode: number;
  /** A usage error: the command's help follows the message. */
  readonly showHelp: boolean;

  constructor(message: string, exitCode: number, options: { showHelp?: boolean } = {}) {
    super(message);
    this.name = 'PluginError';
    this.exitCode = exitCode;
    this.showHelp = options.showHelp ?? false;
  }
}

export function usageError(message: string): PluginError {
  return new PluginError(message, EXIT_USAGE, { showHelp: true });
}

/** A value given on the command line that is wrong in itself: named, without the whole help. */
export function badValue(message: string): PluginError {
  return new PluginError(message, EXIT_USAGE);
}
