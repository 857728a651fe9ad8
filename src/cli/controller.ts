// `nosana-operator controller`: the operator's controllers, as a Deployment runs them. The cluster
// and network flags, and how the process runs, are shared with `node` (process-flags.ts); this file
// adds what posting and mirroring jobs need.
import { runManager } from '../controllers/manager.ts';
import type { ManagerOptions } from '../controllers/manager.ts';
import type { CommandIo } from './io.ts';
import {
  PROCESS_OPTIONS,
  clusterHelp,
  duration,
  networksHelp,
  parseProcessFlags,
  positiveInteger,
  processSettings,
  runProcessCommand,
} from './process-flags.ts';

/** The status tail of each op's logs; the full logs go to the logs ConfigMap. */
const LOG_TAIL_MAX_BYTES = 2048;
const DEFAULT_LEASE_NAME = 'nosana-operator';

const HELP = `Usage: nosana-operator controller [options]

Runs the NosanaJob and NosanaMarket controllers: posts NosanaJobs to Nosana markets and mirrors
them and the markets from the chain. Logs are JSON lines on stdout.

${clusterHelp({ namespaces: 'namespaces to watch', workers: 'concurrent reconciles per controller', leaseName: DEFAULT_LEASE_NAME })}
${networksHelp('definitions')}
Jobs:
  --poll-interval D                  how often queued and running jobs are read (default 5s)
  --dead-node-grace D                a running job past its timeout by this much is ended (default 2m)
  --result-wait D                    how long an ended job waits for its result (default 5m)
  --logs-configmap-max-bytes N       cap of each job's <name>-logs ConfigMap (default 1048576)

Durations D are like "30s", "2m" or "1h30m".
  -h, --help                         this help
`;

const OPTIONS = {
  ...PROCESS_OPTIONS,
  'poll-interval': { type: 'string', default: '5s' },
  'dead-node-grace': { type: 'string', default: '2m' },
  'result-wait': { type: 'string', default: '5m' },
  'logs-configmap-max-bytes': { type: 'string', default: '1048576' },
} as const;

/** The manager's options, apart from the kubeconfig and the logger (built from these). */
export interface ControllerSettings extends Omit<ManagerOptions, 'kubeConfig' | 'log'> {
  kubeconfig: string | undefined;
  logLevel: string;
}

/** Reads the flags and environment into the manager's settings; throws a usage error naming the flag. */
export async function parseControllerArgs(args: readonly string[], env: NodeJS.ProcessEnv): Promise<ControllerSettings | 'help'> {
  const values = parseProcessFlags(args, OPTIONS);
  if (values === 'help') return 'help';
  return {
    ...(await processSettings(values, env, DEFAULT_LEASE_NAME)),
    jobs: {
      pollIntervalMs: duration(values['poll-interval'], '--poll-interval'),
      deadNodeGraceMs: duration(values['dead-node-grace'], '--dead-node-grace'),
      resultWaitMs: duration(values['result-wait'], '--result-wait'),
      logsConfigMapMaxBytes: positiveInteger(values['logs-configmap-max-bytes'], '--logs-configmap-max-bytes'),
      logTailMaxBytes: LOG_TAIL_MAX_BYTES,
    },
  };
}

export async function runController(args: readonly string[], io: CommandIo): Promise<number> {
  return runProcessCommand(
    { name: 'controller', title: 'the controller', help: HELP, parse: parseControllerArgs, run: runManager },
    args,
    io,
  );
}
