// Runs a Reconciler the way controller-runtime runs one: keys from a WorkQueue, N workers, one
// reconcile per key at a time, failures retried with per-key backoff, results counted under
// controller-runtime's metric names. Informer handlers call enqueue(); the manager calls start()
// once this process leads and stop() on shutdown.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ControllerMetrics, ReconcileResult, RuntimeMetrics } from './metrics.ts';
import type { ObjectKey, ReconcileContext, ReconcileOutcome, Reconciler } from './types.ts';
import { keyString } from './types.ts';
import { WorkQueue, systemClock } from './work-queue.ts';
import type { BackoffSettings, Clock } from './work-queue.ts';

export interface ControllerOptions {
  /** The `controller` metric label and log field; also the work queue's name. */
  name: string;
  reconciler: Reconciler;
  workers: number;
  log: Logger;
  metrics: RuntimeMetrics;
  /** Per-key retry backoff after a failed reconcile; defaults to 5 ms doubling up to 5 minutes. */
  backoff?: BackoffSettings;
  /** For tests; defaults to the system clock. */
  clock?: Clock;
}

export interface StopOptions {
  /** How long in-flight reconciles may take to finish before their AbortSignal fires. */
  drainTimeoutMs: number;
}

/** What a reconcile ended with. A "panic" is a reconciler breaking its contract (see runReconcile). */
type Attempt = { ok: true; outcome: ReconcileOutcome | undefined } | { ok: false; error: unknown; panic: boolean };

export class Controller {
  readonly name: string;
  private readonly reconciler: Reconciler;
  private readonly workerCount: number;
  private readonly log: Logger;
  private readonly metrics: ControllerMetrics;
  private readonly clock: Clock;
  private readonly queue: WorkQueue;
  private readonly shutdown = new AbortController();
  private workers: Promise<void>[] = [];
  private started = false;

  constructor(options: ControllerOptions) {
    if (!Number.isSafeInteger(options.workers) || options.workers < 1) {
      throw new RangeError(`controller ${options.name}: workers must be an integer >= 1, got ${options.workers}`);
    }
    this.name = options.name;
    this.reconciler = options.reconciler;
    this.workerCount = options.workers;
    this.log = options.log.child({ controller: options.name });
    this.metrics = options.metrics.controller(options.name);
    this.clock = options.clock ?? systemClock;
    this.queue = new WorkQueue({
      name: options.name,
      metrics: options.metrics.workQueue(options.name),
      clock: this.clock,
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
    });
  }

  /**
   * Asks for a reconcile of `key`, now or after `afterMs`. Safe to call before start() (keys wait
   * for the workers, one entry each) and after stop() (ignored).
   */
  enqueue(key: ObjectKey, afterMs?: number): void {
    if (afterMs === undefined) this.queue.add(keyString(key));
    else this.queue.addAfter(keyString(key), afterMs);
  }

  /** Starts the workers. Call it once, when this process leads. */
  start(): void {
    if (this.started) throw new Error(`controller ${this.name} was already started`);
    if (this.queue.isShuttingDown) throw new Error(`controller ${this.name} was stopped and cannot start again`);
    this.started = true;
    this.metrics.setMaxConcurrentReconciles(this.workerCount);
    this.workers = Array.from({ length: this.workerCount }, () => this.runWorker());
    this.log.info({ workers: this.workerCount }, 'controller started');
  }

  /**
   * Stops taking keys and waits for in-flight reconciles. When the drain time runs out their
   * AbortSignal fires and stop() returns without waiting further: a reconciler that ignores the
   * signal must not hold up the process exit. Resolves to whether every reconcile finished in time.
   */
  async stop(options: StopOptions): Promise<boolean> {
    const drained = this.queue
      .shutDownWithDrain()
      .then(() => Promise.all(this.workers))
      .then(() => true);
    let cancelTimer = (): void => {};
    const timedOut = new Promise<false>((resolve) => {
      const timer = setTimeout(() => resolve(false), options.drainTimeoutMs);
      cancelTimer = () => clearTimeout(timer);
    });
    const finished = await Promise.race([drained, timedOut]);
    cancelTimer();
    if (finished) {
      this.log.info('controller stopped: in-flight reconciles finished');
    } else {
      this.log.warn({ drainTimeoutMs: options.drainTimeoutMs }, 'controller stopped: drain time ran out, aborting in-flight reconciles');
      this.shutdown.abort(new Error(`controller ${this.name} is shutting down and its drain time ran out`));
    }
    return finished;
  }

  private async runWorker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    const objectKey = parseKey(key);
    const reconcileId = randomUUID();
    const log = this.log.child({ namespace: objectKey.namespace, name: objectKey.name, reconcileID: reconcileId });
    const started = this.clock.now();
    this.metrics.activeWorkers(1);
    let result: ReconcileResult = 'error';
    try {
      const attempt = await runReconcile(this.reconciler, objectKey, { log, reconcileId, signal: this.shutdown.signal });
      result = this.settle(key, attempt, log);
    } finally {
      this.queue.done(key);
      this.metrics.activeWorkers(-1);
      this.metrics.reconciled(result, (this.clock.now() - started) / 1000);
    }
  }

  /** Queues the key again as the outcome asks, like controller-runtime's reconcileHandler. */
  private settle(key: string, attempt: Attempt, log: Logger): ReconcileResult {
    if (!attempt.ok) {
      this.metrics.reconcileError();
      if (attempt.panic) this.metrics.reconcilePanic();
      this.queue.addRateLimited(key);
      log.error(
        { err: attempt.error, panic: attempt.panic, consecutiveFailures: this.queue.failureCount(key) },
        `reconcile failed: ${describe(attempt.error)}`,
      );
      return 'error';
    }
    const after = attempt.outcome?.requeueAfterMs;
    if (after === undefined) {
      this.queue.forget(key);
      log.debug('reconciled');
      return 'success';
    }
    if (after > 0) {
      // A poll is not a failure: the next one must not inherit an error backoff.
      this.queue.forget(key);
      this.queue.addAfter(key, after);
      log.debug({ requeueAfterMs: after }, 'reconciled, looking again later');
      return 'requeue_after';
    }
    // "Look again right away" (0 or less): rate-limited so that a reconciler stuck saying so
    // backs off instead of spinning, like controller-runtime's Result{Requeue: true}.
    this.queue.addRateLimited(key);
    log.debug('reconciled, requeued with backoff');
    return 'requeue';
  }
}

/**
 * Runs one reconcile and never throws. Counted as a panic (besides being an error): a
 * synchronous throw (the reconciler did not return a promise, a contract violation) or a
 * throw/rejection with a value that is not an Error (nothing well-behaved does that). Ordinary
 * Error subclasses, TypeError included, are errors only: the project throws TypeError and
 * RangeError on purpose, so their class says nothing about whether the failure was expected.
 */
async function runReconcile(reconciler: Reconciler, key: ObjectKey, context: ReconcileContext): Promise<Attempt> {
  let pending: Promise<ReconcileOutcome | undefined>;
  try {
    pending = reconciler.reconcile(key, context);
  } catch (error) {
    return { ok: false, error, panic: true };
  }
  try {
    return { ok: true, outcome: await pending };
  } catch (error) {
    return { ok: false, error, panic: !(error instanceof Error) };
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return `a non-Error value was thrown (${typeof error})`;
}

/** Queue keys are keyString(key); namespaces and names cannot contain "/", so the first one splits them. */
function parseKey(key: string): ObjectKey {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
