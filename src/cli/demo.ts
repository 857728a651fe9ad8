// `nosana-operator demo`: the one command that shows the operator's main job working on a fresh
// clone (`npm run demo`). Flags, signals and exit codes here; what the demo does is src/demo's.
import { parseArgs } from 'node:util';
import { runDemo } from '../demo/demo.ts';
import type { DemoOutcome } from '../demo/demo.ts';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE } from './io.ts';
import type { CommandIo } from './io.ts';
import { duration } from './process-flags.ts';

const DEFAULT_TIMEOUT = '5m';

export const DEMO_USAGE = `Usage: nosana-operator demo [options]

Runs the whole Nosana loop on this machine, with nothing to set up and nothing paid: a local
Kubernetes control plane with simulated GPU nodes (KWOK), the embedded local Nosana network
(Solana RPC and IPFS on 127.0.0.1), the operator's CRDs and admission policy, and its controller
and node agent. The seeds' story job is applied as a NosanaJob, posted to the local market, taken
by a NosanaNode and run as a GPU Pod; each step is printed as it happens, then the result CID, the
cost and the logs. The containers are simulated: the story is canned text.

Options:
  --keep         keep everything running after the job ended, print KUBECONFIG and example
                 kubectl commands, and stop on Ctrl-C
  --timeout D    how long the demo may take, from its start to the job's end, before it gives
                 up and says where things stood (default ${DEFAULT_TIMEOUT})
  -h, --help     this help

Needs the control plane built by "npm run control-plane" (npm run demo builds it first).
Exit status: 0 when the job succeeded, 1 when it failed or timed out, 2 for a usage error,
130 when interrupted. Everything the demo started is stopped before it exits.
`;

const OPTIONS = {
  keep: { type: 'boolean' },
  timeout: { type: 'string', default: DEFAULT_TIMEOUT },
  help: { type: 'boolean', short: 'h' },
} as const;

const EXIT_CODES: Record<DemoOutcome, number> = {
  succeeded: EXIT_OK,
  failed: EXIT_PROBLEMS,
  'timed-out': EXIT_PROBLEMS,
  interrupted: EXIT_INTERRUPTED,
};

export async function runDemoCommand(args: readonly string[], io: CommandIo): Promise<number> {
  let keep: boolean;
  let timeoutMs: number;
  try {
    const { values } = parseArgs({ args: [...args], options: OPTIONS, strict: true });
    if (values.help === true) {
      io.stdout.write(DEMO_USAGE);
      return EXIT_OK;
    }
    keep = values.keep === true;
    timeoutMs = duration(values.timeout, '--timeout');
  } catch (error) {
    io.stderr.write(`nosana-operator demo: ${(error as Error).message}\n\n${DEMO_USAGE}`);
    return EXIT_USAGE;
  }

  const interrupt = new AbortController();
  const onSignal = (): void => {
    io.stdout.write('\nstopping… (press Ctrl-C again to stop at once)\n');
    interrupt.abort();
  };
  // once: a second signal gets Node's default handling and ends the process at once; the local
  // cluster's watchdog then stops its processes.
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const outcome = await runDemo({ keep, timeoutMs }, io.stdout, interrupt.signal);
    // With --keep, Ctrl-C is how a finished demo ends: the job's outcome decides.
    return EXIT_CODES[outcome];
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
