// `nosana-operator run job.json`: runs a Nosana job definition on the current cluster as a Nosana
// node would, with no chain and no wallet, and prints the result document. A poster tries a job on
// their own cluster before paying for it; a GPU owner checks that their cluster runs Nosana jobs.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { planJob, unplannedFlow } from '../executor/plan.ts';
import { runPlan } from '../executor/runner.ts';
import type { ObservedOp } from '../executor/decide-run.ts';
import type { FlowState } from '../executor/flow-state.ts';
import { DEFAULT_EXECUTOR_SETTINGS } from '../executor/settings.ts';
import type { ExecutorSettings } from '../executor/settings.ts';
import { parseDuration } from '../api/duration.ts';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE } from './io.ts';
import type { CommandIo } from './io.ts';
import { loadKubeConfig } from './kube-config.ts';

export const RUN_USAGE = `Usage: nosana-operator run [options] JOB.json

Runs each op of a Nosana job definition as Pods on the current cluster, with the semantics of a
Nosana node (groups, depends_on, health checks, literals, results), and prints the result document.

Options:
  --kubeconfig PATH      kubeconfig to use (default $KUBECONFIG, else the in-cluster config)
  --namespace NS         where the job's objects live (default "default")
  --gpus-per-job N       GPUs each GPU op requests (default 1)
  --gpu-resource NAME    the GPU extended resource (default nvidia.com/gpu)
  --storage-class NAME   StorageClass of job volumes (default: the cluster's default)
  --dra-device-class N   Dynamic Resource Allocation: one ResourceClaim per job for --gpus-per-job
                         devices of this DeviceClass, shared by all its Pods (default: device plugin)
  --runtime-class NAME   a sandboxed runtime (gVisor, Kata) for the job's Pods
  --expose-domain D      publish exposed ports at <Nosana expose id>.D (default: Services only)
  --expose-kind K        ingress (default) or httproute
  --ingress-class NAME   the Ingress class of exposed ports
  --gateway NS/NAME      the Gateway an HTTPRoute attaches to (with --expose-kind httproute)
  --operator-image REF   the image whose download command fills resource caches
  --node-address A       what %%global.host%% stands for (default "local-node": no node serves the job)
  --project-address A    what %%global.project%% stands for (default "local-poster")
  --timeout D            the job's deadline, like "30m" (default 1h): running ops stop and succeed
  --image-pull-timeout D how long an image pull may keep failing before its op fails (default 2m)
  --scheduling-timeout D how long a Pod may wait for a node before its op fails (default 5m)
  --output text|json     text (default): a summary; json: only the result document on stdout
  -h, --help             this help

Progress goes to stderr. Ctrl-C stops the job and removes its objects.
Exit status: 0 when the flow succeeded, 1 when it failed, 2 for a usage error, 130 when interrupted.
`;

// The operator's own image runs resource downloads; `run` has no deployment to take it from.
const DEFAULT_OPERATOR_IMAGE = 'ghcr.io/nosana-operator/nosana-operator:latest';

const OPTIONS = {
  kubeconfig: { type: 'string' },
  namespace: { type: 'string', default: 'default' },
  'gpus-per-job': { type: 'string', default: '1' },
  'gpu-resource': { type: 'string', default: 'nvidia.com/gpu' },
  'storage-class': { type: 'string' },
  'dra-device-class': { type: 'string' },
  'runtime-class': { type: 'string' },
  'expose-domain': { type: 'string' },
  'expose-kind': { type: 'string', default: 'ingress' },
  'ingress-class': { type: 'string' },
  gateway: { type: 'string' },
  'operator-image': { type: 'string', default: DEFAULT_OPERATOR_IMAGE },
  'node-address': { type: 'string', default: 'local-node' },
  'project-address': { type: 'string', default: 'local-poster' },
  timeout: { type: 'string', default: '1h' },
  'image-pull-timeout': { type: 'string', default: '2m' },
  'scheduling-timeout': { type: 'string', default: '5m' },
  output: { type: 'string', default: 'text' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runRun(args: readonly string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr.write(`nosana-operator run: ${(error as Error).message}\n\n${RUN_USAGE}`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    io.stdout.write(RUN_USAGE);
    return EXIT_OK;
  }
  const usage = (message: string): number => {
    io.stderr.write(`nosana-operator run: ${message}\n`);
    return EXIT_USAGE;
  };
  const [file] = positionals;
  if (file === undefined || positionals.length > 1) return usage('give exactly one job definition file');
  if (values.output !== 'text' && values.output !== 'json') return usage('--output must be text or json');
  const gpus = Number(values['gpus-per-job']);
  if (!Number.isInteger(gpus) || gpus < 0) return usage('--gpus-per-job must be a whole number');
  let timeoutMs: number;
  let bounds: { imagePullMs: number; schedulingMs: number };
  try {
    timeoutMs = parseDuration(values.timeout, '--timeout');
    bounds = {
      imagePullMs: parseDuration(values['image-pull-timeout'], '--image-pull-timeout'),
      schedulingMs: parseDuration(values['scheduling-timeout'], '--scheduling-timeout'),
    };
  } catch (error) {
    return usage((error as Error).message);
  }
  const placement = placementSettings(values);
  if (typeof placement === 'string') return usage(placement);

  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch (error) {
    return usage(`${file}: ${(error as Error).message}`);
  }

  // A name of its own, so two runs in one namespace never share objects.
  const jobId = `run-${randomBytes(6).toString('hex')}`;
  const plan = planJob(raw, jobId);
  if ('invalid' in plan || 'initError' in plan) {
    const flow = unplannedFlow(plan, Date.now());
    for (const error of flow.errors ?? []) io.stderr.write(`${file}: ${String(error)}\n`);
    writeResult(io, values.output, flow);
    return EXIT_PROBLEMS;
  }

  const kubeConfig = loadKubeConfig(values.kubeconfig, process.env);
  const stop = new AbortController();
  const interrupt = (): void => {
    io.stderr.write('stopping the job and removing its objects…\n');
    stop.abort();
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const started = Date.now();
  const progress = new ProgressLine(io);
  try {
    const result = await runPlan(plan, {
      kubeConfig,
      settings: {
        ...DEFAULT_EXECUTOR_SETTINGS,
        namespace: values.namespace,
        gpusPerJob: gpus,
        gpuResourceName: values['gpu-resource'],
        operatorImage: values['operator-image'],
        ...(values['storage-class'] === undefined ? {} : { storageClassName: values['storage-class'] }),
        ...placement,
      },
      log: pino({ level: 'warn' }, pino.destination(2)),
      // As on a node, an empty global counts as unset and fails the op that reads it: `run` has no
      // node or poster, so it stands in names the user can set.
      globals: { job: jobId, project: values['project-address'], host: values['node-address'], frps_address: '' },
      deadline: () => started + timeoutMs,
      signal: stop.signal,
      onClusterFailure: 'fail-op',
      bounds,
      onProgress: (flow, ops) => progress.show(flow, ops),
    });
    writeResult(io, values.output, result.flow);
    if (stop.signal.aborted) return EXIT_INTERRUPTED;
    return result.flow.status === 'success' ? EXIT_OK : EXIT_PROBLEMS;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}

type RunValues = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

/** The settings of DRA, runtime class and exposure the flags give, or what is wrong with them. */
function placementSettings(values: RunValues): Pick<ExecutorSettings, 'dra' | 'runtimeClassName' | 'exposure'> | string {
  const kind = values['expose-kind'];
  if (kind !== 'ingress' && kind !== 'httproute') return '--expose-kind must be ingress or httproute';
  const gateway = values.gateway?.split('/');
  if (gateway !== undefined && (gateway.length !== 2 || gateway.some((part) => part === ''))) {
    return '--gateway must be NAMESPACE/NAME';
  }
  if (kind === 'httproute' && values['expose-domain'] !== undefined && gateway === undefined) {
    return '--expose-kind httproute needs --gateway NAMESPACE/NAME';
  }
  const gpus = Number(values['gpus-per-job']);
  const domain = values['expose-domain'];
  return {
    ...(values['dra-device-class'] === undefined ? {} : { dra: { deviceClassName: values['dra-device-class'], count: gpus } }),
    ...(values['runtime-class'] === undefined ? {} : { runtimeClassName: values['runtime-class'] }),
    ...(domain === undefined
      ? {}
      : {
          exposure: {
            baseDomain: domain,
            kind: kind === 'ingress' ? ('Ingress' as const) : ('HTTPRoute' as const),
            ...(values['ingress-class'] === undefined ? {} : { ingressClass: values['ingress-class'] }),
            ...(gateway === undefined ? {} : { gateway: { namespace: gateway[0] ?? '', name: gateway[1] ?? '' } }),
          },
        }),
  };
}

function writeResult(io: CommandIo, output: string, flow: FlowState): void {
  if (output === 'json') {
    io.stdout.write(`${JSON.stringify(flow, null, 2)}\n`);
    return;
  }
  const elapsed = flow.endTime === null ? '' : ` in ${((flow.endTime - flow.startTime) / 1000).toFixed(1)}s`;
  io.stdout.write(`flow ${flow.status}${elapsed}\n`);
  for (const op of flow.opStates) {
    io.stdout.write(`- ${op.operationId}: ${op.status}${op.exitCode === null ? '' : ` (exit code ${op.exitCode})`}\n`);
    for (const entry of op.logs) io.stdout.write(`    ${entry.log.replace(/\n$/, '')}\n`);
    for (const [key, value] of Object.entries(op.results ?? {})) io.stdout.write(`    result ${key}: ${JSON.stringify(value)}\n`);
    for (const error of op.errors) io.stdout.write(`    error ${error.event}: ${error.message}\n`);
  }
}

/** One line per op on stderr, written again only when something changed. */
class ProgressLine {
  readonly #io: CommandIo;
  #last = '';

  constructor(io: CommandIo) {
    this.#io = io;
  }

  show(flow: FlowState, ops: Readonly<Record<string, ObservedOp>>): void {
    const parts = flow.opStates.map((state) => {
      const observed = ops[state.operationId];
      const phase = state.status === 'init' ? (observed?.phase ?? 'waiting') : state.status;
      return `${state.operationId}: ${phase}`;
    });
    const line = parts.join(' | ');
    if (line === this.#last) return;
    this.#last = line;
    this.#io.stderr.write(`[${((Date.now() - flow.startTime) / 1000).toFixed(1)}s] ${line}\n`);
  }
}
