// `kubectl nosana`: the kubectl plugin (kubectl runs the `kubectl-nosana` executable on PATH for
// `kubectl nosana …`). Dispatches to a command, loaded only when it runs, and turns every failure
// into one line and an exit code: 0 ok, 1 what was asked about failed, 2 usage, 3 not found or
// cluster unreachable.
import type { PluginIo, RunCommand } from './command.ts';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, PluginError } from './errors.ts';

interface CommandEntry {
  summary: string;
  load: () => Promise<RunCommand>;
}

// Summaries are written here, not imported, so that the command list loads no command.
const COMMANDS: Record<string, CommandEntry> = {
  get: {
    summary: 'list NosanaJobs, NosanaMarkets or NosanaNodes, or follow them (-w)',
    load: async () => (await import('./get.ts')).runGet,
  },
  logs: {
    summary: "print a job's logs: live from its Pods, or as kept when it ended (-f follows)",
    load: async () => (await import('./logs.ts')).runLogs,
  },
  result: { summary: "print a job's result: each op's logs and exit code", load: async () => (await import('./result.ts')).runResult },
  post: {
    summary: 'post a Nosana job definition (JSON) to a market as a NosanaJob',
    load: async () => (await import('./post.ts')).runPost,
  },
  stop: { summary: 'delete a NosanaJob, which cancels its job on chain', load: async () => (await import('./stop.ts')).runStop },
  extend: { summary: "raise a job's timeout (the extension is paid on chain)", load: async () => (await import('./extend.ts')).runExtend },
  markets: {
    summary: 'list NosanaMarkets with their price, job timeout and queue',
    load: async () => (await import('./markets.ts')).runMarkets,
  },
  wait: {
    summary: 'wait until a job completes (exit 0 when it succeeded) or meets a condition',
    load: async () => (await import('./wait.ts')).runWait,
  },
};

export function pluginUsage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`);
  return `Usage: kubectl nosana <command> [options]

Nosana GPU jobs from kubectl: post them, follow them, read their logs and results.

Commands:
${lines.join('\n')}

Run "kubectl nosana <command> --help" for the options of a command.
Exit status: 0 ok, 1 what was asked about failed (a job that failed, a wait that timed out),
2 usage error, 3 not found or the cluster cannot be reached.
`;
}

export async function runPlugin(argv: readonly string[], io: PluginIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    io.stderr.write(pluginUsage());
    return EXIT_USAGE;
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    io.stdout.write(pluginUsage());
    return EXIT_OK;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    io.stderr.write(`kubectl nosana: unknown command "${name}"\n\n${pluginUsage()}`);
    return EXIT_USAGE;
  }
  try {
    return await (
      await command.load()
    )(args, io);
  } catch (failure) {
    if (failure instanceof PluginError) {
      const hint = failure.showHelp ? `\nRun "kubectl nosana ${name} --help" for usage.` : '';
      io.stderr.write(`kubectl nosana ${name}: ${failure.message}${hint}\n`);
      return failure.exitCode;
    }
    if (io.signal.aborted) return EXIT_INTERRUPTED;
    io.stderr.write(`kubectl nosana ${name}: internal error: ${failure instanceof Error ? failure.message : String(failure)}\n`);
    return EXIT_FAILED;
  }
}
