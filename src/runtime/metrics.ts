// Prometheus metrics of the controller runtime. The series carry controller-runtime's names so
// existing dashboards and alerts work unchanged. The registry is shared: the controllers register
// their domain series (money, chain, wallets: controllers/nosana-metrics.ts) on the same one.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, exponentialBuckets } from 'prom-client';

/** What the work queue reads at scrape time (no timer in the queue keeps these fresh). */
export interface WorkQueueGauges {
  depth: number;
  unfinishedWorkSeconds: number;
  longestRunningProcessorSeconds: number;
}

/** One work queue's series (label `name`). */
export interface WorkQueueMetrics {
  added(): void;
  /** Seconds between a key being added and a worker getting it. */
  queued(seconds: number): void;
  /** Seconds a worker held a key. */
  worked(seconds: number): void;
  retried(): void;
  /** Registers the queue's gauges source; a later call for the same name replaces it. */
  observe(source: () => WorkQueueGauges): void;
}

/** controller-runtime's result label values (`requeue` is a rate-limited requeue without an error). */
export const RECONCILE_RESULTS = ['success', 'error', 'requeue', 'requeue_after'] as const;
export type ReconcileResult = (typeof RECONCILE_RESULTS)[number];

/** One controller's series (label `controller`). */
export interface ControllerMetrics {
  setMaxConcurrentReconciles(workers: number): void;
  /** A worker started (+1) or finished (-1) a reconcile. */
  activeWorkers(delta: 1 | -1): void;
  reconciled(result: ReconcileResult, seconds: number): void;
  reconcileError(): void;
  reconcilePanic(): void;
}

/** What the work queue, the controller and leader election report through. */
export interface RuntimeMetrics {
  /** Series for the queue `name`, its label values set to zero now. */
  workQueue(name: string): WorkQueueMetrics;
  /** Series for the controller `name`, every result label set to zero now. */
  controller(name: string): ControllerMetrics;
  /** leader_election_master_status{name}: 1 while this process holds the lease `name`. */
  setLeader(name: string, isLeader: boolean): void;
}

export interface Metrics {
  registry: Registry;
  runtime: RuntimeMetrics;
}

/** A registry with the process metrics and the runtime's series; other series register on it after. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return { registry, runtime: createRuntimeMetrics(registry) };
}

// client-go's work queue buckets: 10 ns to 1000 s, one per power of ten.
const WORKQUEUE_BUCKETS = exponentialBuckets(1e-8, 10, 12);
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60];

function createRuntimeMetrics(registry: Registry): RuntimeMetrics {
  const registers = [registry];
  const queueSources = new Map<string, () => WorkQueueGauges>();
  // Sampled at scrape time from every registered queue.
  const queueGauge = (name: string, help: string, pick: (gauges: WorkQueueGauges) => number): void =>
    void new Gauge({
      name,
      help,
      labelNames: ['name'],
      registers,
      collect() {
        for (const [queue, source] of queueSources) this.set({ name: queue }, pick(source()));
      },
    });
  queueGauge('workqueue_depth', 'Current depth of the work queue.', (gauges) => gauges.depth);
  queueGauge(
    'workqueue_unfinished_work_seconds',
    'Seconds of work in progress that no worker has finished yet.',
    (gauges) => gauges.unfinishedWorkSeconds,
  );
  queueGauge(
    'workqueue_longest_running_processor_seconds',
    'Seconds the longest-running worker has held its key.',
    (gauges) => gauges.longestRunningProcessorSeconds,
  );
  const adds = new Counter({ name: 'workqueue_adds_total', help: 'Keys added to the work queue.', labelNames: ['name'], registers });
  const retries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Rate-limited re-adds (retries after a failure).',
    labelNames: ['name'],
    registers,
  });
  const queueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'Seconds a key waits in the queue before a worker takes it.',
    labelNames: ['name'],
    buckets: WORKQUEUE_BUCKETS,
    registers,
  });
  const workDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'Seconds a worker spends on one key.',
    labelNames: ['name'],
    buckets: WORKQUEUE_BUCKETS,
    registers,
  });

  const reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Reconciles per controller and result.',
    labelNames: ['controller', 'result'],
    registers,
  });
  const reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Reconciles that failed (threw or rejected).',
    labelNames: ['controller'],
    registers,
  });
  const reconcilePanics = new Counter({
    name: 'controller_runtime_reconcile_panics_total',
    help: 'Reconciles that broke the reconciler contract: threw synchronously or threw something that is not an Error.',
    labelNames: ['controller'],
    registers,
  });
  const reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Seconds per reconcile.',
    labelNames: ['controller'],
    buckets: RECONCILE_BUCKETS,
    registers,
  });
  const maxConcurrent = new Gauge({
    name: 'controller_runtime_max_concurrent_reconciles',
    help: 'Workers configured per controller.',
    labelNames: ['controller'],
    registers,
  });
  const activeWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Workers currently reconciling.',
    labelNames: ['controller'],
    registers,
  });

  const leaderStatus = new Gauge({
    name: 'leader_election_master_status',
    help: '1 while this process holds the leader election lease, else 0.',
    labelNames: ['name'],
    registers,
  });

  return {
    workQueue(name) {
      const labels = { name };
      adds.inc(labels, 0);
      retries.inc(labels, 0);
      queueDuration.zero(labels);
      workDuration.zero(labels);
      return {
        added: () => adds.inc(labels),
        queued: (seconds) => queueDuration.observe(labels, seconds),
        worked: (seconds) => workDuration.observe(labels, seconds),
        retried: () => retries.inc(labels),
        observe: (source) => void queueSources.set(name, source),
      };
    },
    controller(controller) {
      const labels = { controller };
      for (const result of RECONCILE_RESULTS) reconcileTotal.inc({ controller, result }, 0);
      reconcileErrors.inc(labels, 0);
      reconcilePanics.inc(labels, 0);
      reconcileTime.zero(labels);
      activeWorkers.set(labels, 0);
      maxConcurrent.set(labels, 0);
      return {
        setMaxConcurrentReconciles: (workers) => maxConcurrent.set(labels, workers),
        activeWorkers: (delta) => activeWorkers.inc(labels, delta),
        reconciled: (result, seconds) => {
          reconcileTotal.inc({ controller, result });
          reconcileTime.observe(labels, seconds);
        },
        reconcileError: () => reconcileErrors.inc(labels),
        reconcilePanic: () => reconcilePanics.inc(labels),
      };
    },
    setLeader(name, isLeader) {
      leaderStatus.set({ name }, isLeader ? 1 : 0);
    },
  };
}
