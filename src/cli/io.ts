// Where commands write. Injected, so that tests can run a command as a plain function.

export interface TextOutput {
  write(text: string): unknown;
}

export interface CommandIo {
  stdout: TextOutput;
  stderr: TextOutput;
}

export const processIo: CommandIo = { stdout: process.stdout, stderr: process.stderr };

/** Exit codes shared by all commands. */
export const EXIT_OK = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_USAGE = 2;
/** Stopped by Ctrl-C (SIGINT) or SIGTERM after cleaning up: the shell's 128 + SIGINT. */
export const EXIT_INTERRUPTED = 130;
