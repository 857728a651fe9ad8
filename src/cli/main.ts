// The `nosana-operator` command: dispatches to a subcommand. Every failure ends as a message
// and an exit code, never as a stack trace.
import { CONTROLLER_SUMMARY, runController } from './controller.ts';
import { DOWNLOAD_SUMMARY, runDownload } from './download.ts';
import { EXIT_OK, EXIT_USAGE, processIo } from './io.ts';
import type { CommandIo } from './io.ts';
import { JOB_SUMMARY, runJob } from './job.ts';
import { LOCALNET_SUMMARY, runLocalnet } from './localnet.ts';
import { POST_SUMMARY, runPost } from './post.ts';
import { RUN_SUMMARY, runRun } from './run.ts';
import { VALIDATE_SUMMARY, runValidate } from './validate.ts';

interface Subcommand {
  summary: string;
  run: (args: readonly string[], io: CommandIo) => Promise<number>;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  validate: { summary: VALIDATE_SUMMARY, run: runValidate },
  localnet: { summary: LOCALNET_SUMMARY, run: runLocalnet },
  post: { summary: POST_SUMMARY, run: runPost },
  job: { summary: JOB_SUMMARY, run: runJob },
  run: { summary: RUN_SUMMARY, run: runRun },
  controller: { summary: CONTROLLER_SUMMARY, run: runController },
  download: { summary: DOWNLOAD_SUMMARY, run: runDownload },
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
    return await command.run(args, io);
  } catch (failure) {
    const reason = failure instanceof Error ? failure.message : String(failure);
    io.stderr.write(`nosana-operator ${name}: internal error: ${reason}\n`);
    return EXIT_USAGE;
  }
}
