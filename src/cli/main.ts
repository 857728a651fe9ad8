// The `nosana-operator` command: dispatches to a subcommand. Every failure ends as a message
// and an exit code, never as a stack trace.
import { EXIT_OK, EXIT_USAGE, processIo } from './io.ts';
import type { CommandIo } from './io.ts';

type Run = (args: readonly string[], io: CommandIo) => Promise<number>;

interface Subcommand {
  summary: string;
  /** Loaded only when the subcommand runs: a resource download must not wait for the controller's code. */
  load: () => Promise<Run>;
}

// The summaries are written here, not imported, so listing them loads nothing.
const SUBCOMMANDS: Record<string, Subcommand> = {
  validate: {
    summary: 'check Nosana job definitions (JSON files or NosanaJob manifests)',
    load: async () => (await import('./validate.ts')).runValidate,
  },
  localnet: {
    summary: 'run a local Nosana network (Solana RPC + IPFS) for demos and tests',
    load: async () => (await import('./localnet.ts')).runLocalnet,
  },
  post: { summary: 'pin a job definition and post it to a market, exactly once', load: async () => (await import('./post.ts')).runPost },
  job: { summary: "show a job's on-chain state", load: async () => (await import('./job.ts')).runJob },
  run: {
    summary: 'run a job definition on the current cluster as a Nosana node would (no chain, no wallet)',
    load: async () => (await import('./run.ts')).runRun,
  },
  download: {
    summary: "fetch one resource of a job definition into a directory (the executor's resource init containers)",
    load: async () => (await import('./download.ts')).runDownload,
  },
  controller: {
    summary: 'run the NosanaJob and NosanaMarket controllers against a cluster',
    load: async () => (await import('./controller.ts')).runController,
  },
  node: {
    summary: 'run the node agent: NosanaNodes serve Nosana markets from this cluster',
    load: async () => (await import('./node.ts')).runNode,
  },
  demo: {
    summary: 'see it work: a job posted, run by a node and paid, on a local cluster and network',
    load: async () => (await import('./demo.ts')).runDemoCommand,
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(SUBCOMMANDS).map((name) => name.length));
  const commands = Object.entries(SUBCOMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`);
  return `Usage: nosana-operator <command> [options]

Commands:
${commands.join('\n')}

Run "nosana-operator <command> --help" for the options of a command.
`;
}

export async function main(argv: readonly string[], io: CommandIo = processIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    io.stderr.write(usage());
    return EXIT_USAGE;
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    io.stdout.write(usage());
    return EXIT_OK;
  }
  const command = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
  if (command === undefined) {
    io.stderr.write(`nosana-operator: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return EXIT_USAGE;
  }
  try {
    return await (
      await command.load()
    )(args, io);
  } catch (failure) {
    const reason = failure instanceof Error ? failure.message : String(failure);
    io.stderr.write(`nosana-operator ${name}: internal error: ${reason}\n`);
    return EXIT_USAGE;
  }
}
