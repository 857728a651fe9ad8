// Crash testing: a process started with NOSANA_KILL_AT=<label> (or several, comma-separated)
// SIGKILLs itself when it reaches a step with that label, the way a power cut or an OOM kill
// would stop it: no finally blocks, no flushed buffers. NOSANA_KILL_AFTER=<n> lets the n-th
// arrival die instead of the first. Without the variable a kill point costs one Set lookup.
const armed = new Set(
  (process.env['NOSANA_KILL_AT'] ?? '')
    .split(',')
    .map((label) => label.trim())
    .filter((label) => label !== ''),
);
const killAfter = Number(process.env['NOSANA_KILL_AFTER'] ?? '1');
const arrivals = new Map<string, number>();

export function killPoint(label: string): void {
  if (!armed.has(label)) return;
  const count = (arrivals.get(label) ?? 0) + 1;
  arrivals.set(label, count);
  if (count < killAfter) return;
  // a marker on stderr lets the test tell "died here" from "crashed elsewhere"
  process.stderr.write(`nosana-kill-point ${label}\n`);
  process.kill(process.pid, 'SIGKILL');
}

/** The labels production code passes to killPoint; tests iterate over them. */
export const POST_KILL_POINTS = [
  'post:after-pin',
  'post:after-record',
  'post:after-broadcast',
  'post:after-landing',
  'post:before-status',
] as const;

/** The NosanaDeployment controller's kill points: around the creation of a replica. */
export const DEPLOYMENT_KILL_POINTS = ['deployment:before-create', 'deployment:after-create'] as const;

/** Cancelling (a deletion's delist or end) and paying for a raised spec.timeout. */
export const CANCEL_KILL_POINTS = ['cancel:after-send'] as const;
export const EXTEND_KILL_POINTS = ['extend:after-ledger', 'extend:after-send'] as const;
