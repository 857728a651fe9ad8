// A component of the operator run as a real child process (`nosana-operator <subcommand> …`), the
// way a Deployment runs it: tests read its JSON logs and metrics, probe its health endpoints, and
// stop it gracefully or with kill -9 — or arm named kill points (src/runtime/kill-points.ts) so it
// SIGKILLs itself at an exact step and the test can tell it died there. The controller uses it
// (controller-process.ts); so can the node agent, with its own subcommand and flags.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../src/local-cluster/binaries.ts';
import { parsePrometheusText, type MetricSample } from './prometheus-text.ts';
import { startWatchdog } from '../../src/local-cluster/processes.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';

const CLI = join(REPO_ROOT, 'bin', 'nosana-operator.js');
/**
 * When set, the launcher the processes run instead of the checkout's (which runs src/): the
 * benchmarks point it at the compiled build the image runs (bench/build.ts).
 */
export const OPERATOR_ENTRY_VARIABLE = 'NOSANA_OPERATOR_ENTRY';
/**
 * When set, a JSON object of V8 old-space limits in MiB by subcommand (`{"controller":256}`): the
 * heap a process would get from its Pod's memory limit (bench/deployed.ts).
 */
export const OPERATOR_HEAP_VARIABLE = 'NOSANA_OPERATOR_HEAP_MIB';
/** What kill-points.ts writes on stderr just before the SIGKILL. */
const KILL_MARKER = 'nosana-kill-point ';
// Variables of the test runner's environment that would change the child's behaviour behind the
// test's back; the test passes what it wants explicitly.
const SCRUBBED_ENV = [
  'NODE_TEST_CONTEXT',
  OPERATOR_ENTRY_VARIABLE,
  OPERATOR_HEAP_VARIABLE,
  'NOSANA_KILL_AT',
  'NOSANA_KILL_AFTER',
  'NOSANA_WATCH_NAMESPACES',
  'NOSANA_LOG_LEVEL',
  'KUBECONFIG',
];

export interface OperatorProcessSpec {
  /** Names the log files and messages, to tell processes apart. */
  name: string;
  /** The subcommand and its flags, e.g. ['controller', '--kubeconfig', …]. */
  args: readonly string[];
  env?: Readonly<Record<string, string>>;
  /** Kill point label(s) to arm (NOSANA_KILL_AT). */
  killAt?: string | readonly string[];
  /** Let the n-th arrival at an armed point die instead of the first (NOSANA_KILL_AFTER). */
  killAfter?: number;
  /** The loopback ports its /metrics and its /healthz and /readyz listen on, when it serves them. */
  metricsPort?: number;
  probePort?: number;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One JSON log line (pino): `level` is a label ("warn") or pino's number (40). */
export type LogLine = Record<string, unknown> & { level?: number | string; msg?: string };

const PINO_LEVELS: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** Whether a log line is at `level` or more severe. */
export function logsAtLeast(line: LogLine, level: 'warn' | 'error'): boolean {
  const value = typeof line.level === 'string' ? PINO_LEVELS[line.level] : line.level;
  return value !== undefined && value >= PINO_LEVELS[level]!;
}

/**
 * Node's flags for a process: its heap when OPERATOR_HEAP_VARIABLE sizes it, and the profilers.
 * With NOSANA_CPU_PROF_DIR set, each process writes a V8 CPU profile there when it exits cleanly
 * (SIGTERM; a kill -9 writes none), named after it: how a benchmark's worst ratio is profiled.
 * Node refuses --cpu-prof in NODE_OPTIONS, so it goes on the command line.
 */
function nodeFlags(name: string, subcommand: string | undefined): string[] {
  const flags: string[] = [];
  const heapMiB = heapLimits()[subcommand ?? ''];
  if (heapMiB !== undefined) flags.push(`--max-old-space-size=${heapMiB}`);
  const dir = process.env['NOSANA_CPU_PROF_DIR'];
  if (dir !== undefined && dir !== '')
    flags.push('--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}.${Date.now()}.cpuprofile`);
  const snapshots = heapSnapshotDir();
  if (snapshots !== undefined) flags.push(`--heapsnapshot-signal=${HEAP_SNAPSHOT_SIGNAL}`, `--diagnostic-dir=${snapshots}`);
  return flags;
}

/**
 * With NOSANA_HEAP_SNAPSHOT_DIR set, each process writes a V8 heap snapshot there on
 * `heapSnapshot()` (a signal Node answers itself, so nothing in production code is added for it):
 * how a benchmark's memory is broken down by what retains it.
 */
const HEAP_SNAPSHOT_SIGNAL = 'SIGUSR2';

function heapLimits(): Record<string, number> {
  const text = process.env[OPERATOR_HEAP_VARIABLE];
  if (text === undefined || text === '') return {};
  const limits = JSON.parse(text) as unknown;
  if (
    typeof limits !== 'object' ||
    limits === null ||
    Object.values(limits).some((mib) => !Number.isInteger(mib) || (mib as number) <= 0)
  ) {
    throw new Error(`${OPERATOR_HEAP_VARIABLE} must map subcommands to whole MiB, got ${text}`);
  }
  return limits as Record<string, number>;
}

function heapSnapshotDir(): string | undefined {
  const dir = process.env['NOSANA_HEAP_SNAPSHOT_DIR'];
  return dir === undefined || dir === '' ? undefined : dir;
}

function childEnv(spec: OperatorProcessSpec): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of SCRUBBED_ENV) delete env[name];
  if (spec.killAt !== undefined) env['NOSANA_KILL_AT'] = typeof spec.killAt === 'string' ? spec.killAt : spec.killAt.join(',');
  if (spec.killAfter !== undefined) env['NOSANA_KILL_AFTER'] = String(spec.killAfter);
  return { ...env, ...spec.env };
}

// Every process still running when the test process exits is killed (a failed assertion must
// not leave a controller posting jobs); the watchdog covers a kill -9 of the test process itself.
const running = new Set<OperatorProcess>();
process.once('exit', () => {
  for (const component of running) component.killNow();
});

export class OperatorProcess {
  readonly name: string;
  readonly stdoutPath: string;
  readonly stderrPath: string;
  readonly args: readonly string[];
  readonly exited: Promise<ProcessExit>;
  readonly #child: ChildProcess;
  readonly #logDir: string;
  readonly #watchdog: { cancel(): void };
  readonly #metricsUrl: string | undefined;
  readonly #probesUrl: string | undefined;
  #exit: ProcessExit | undefined;

  private constructor(spec: OperatorProcessSpec, logDir: string) {
    this.name = spec.name;
    this.#logDir = logDir;
    this.args = spec.args;
    this.#metricsUrl = spec.metricsPort === undefined ? undefined : `http://127.0.0.1:${spec.metricsPort}/metrics`;
    this.#probesUrl = spec.probePort === undefined ? undefined : `http://127.0.0.1:${spec.probePort}`;
    this.stdoutPath = join(logDir, `${spec.name}.stdout.log`);
    this.stderrPath = join(logDir, `${spec.name}.stderr.log`);
    const stdout = openSync(this.stdoutPath, 'a');
    const stderr = openSync(this.stderrPath, 'a');
    try {
      // its own process group, so the watchdog's group kill reaches it and nothing else
      const entry = process.env[OPERATOR_ENTRY_VARIABLE] || CLI;
      this.#child = spawn(process.execPath, [...nodeFlags(spec.name, spec.args[0]), entry, ...spec.args], {
        cwd: REPO_ROOT,
        env: childEnv(spec),
        stdio: ['ignore', stdout, stderr],
        detached: true,
      });
    } finally {
      closeSync(stdout);
      closeSync(stderr);
    }
    this.exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        running.delete(this);
        this.#watchdog.cancel();
        resolve(this.#exit);
      });
    });
    running.add(this);
    const pid = this.#child.pid;
    // the watchdog also removes the log directory once the test process is gone
    this.#watchdog = startWatchdog(process.pid, () => (pid === undefined ? [] : [pid]), logDir);
  }

  /** Starts the process; it is not ready yet (see waitReady). */
  static async start(spec: OperatorProcessSpec): Promise<OperatorProcess> {
    return new OperatorProcess(spec, await mkdtemp(join(tmpdir(), `nosana-${spec.name}-`)));
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** Waits until /readyz answers 200 (caches synced); fails at once if the process dies. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const outcome = await waitFor(
      async () => {
        if (this.#exit !== undefined) return 'exited';
        return (await this.probe('/readyz')) === 200 ? 'ready' : false;
      },
      { what: `${this.name} /readyz to answer 200`, timeoutMs, intervalMs: 100 },
    );
    if (outcome === 'exited') this.assertRunning();
  }

  /** The HTTP status of a probe endpoint (/healthz, /readyz), or undefined when nothing answers. */
  async probe(path: string): Promise<number | undefined> {
    if (this.#probesUrl === undefined) throw new Error(`${this.name} serves no probes`);
    try {
      const response = await fetch(`${this.#probesUrl}${path}`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return undefined;
    }
  }

  /** Throws, with the end of its logs, when the process has exited. */
  assertRunning(): void {
    if (this.#exit !== undefined) {
      throw new Error(`${this.name} exited (${describeExit(this.#exit)})\n${this.diagnostics()}`);
    }
  }

  /** kill -9, as a node failure or the OOM killer would. */
  async sigkill(): Promise<ProcessExit> {
    this.#signal('SIGKILL');
    return this.exited;
  }

  /** A graceful stop (what Kubernetes sends first); kill -9 after `graceMs` as the kubelet would. */
  async sigterm(graceMs = 30_000): Promise<ProcessExit & { forced: boolean }> {
    this.#signal('SIGTERM');
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      this.#signal('SIGKILL');
    }, graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return { ...exit, forced };
  }

  /** Waits for the process to exit by itself (a kill point, a crash). */
  async waitForExit(timeoutMs: number): Promise<ProcessExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.name} did not exit within ${timeoutMs} ms\n${this.diagnostics()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** True when the process SIGKILLed itself at the kill point `label`. */
  diedAtKillPoint(label: string): boolean {
    return this.#exit?.signal === 'SIGKILL' && this.stderr().split('\n').includes(`${KILL_MARKER}${label}`);
  }

  /** Stops it if still running (gracefully, then by force) and removes its log files, unless NOSANA_KEEP_CONTROLLER_LOGS=1. */
  async stop(): Promise<void> {
    if (this.running) await this.sigterm(10_000);
    if (process.env['NOSANA_KEEP_CONTROLLER_LOGS'] === '1') {
      console.error(`# ${this.name} logs kept in ${this.#logDir}`);
      return;
    }
    await rm(this.#logDir, { recursive: true, force: true });
  }

  /** Synchronous last resort for process 'exit' handlers. */
  killNow(): void {
    this.#signal('SIGKILL');
  }

  stdout(): string {
    return readText(this.stdoutPath);
  }

  stderr(): string {
    return readText(this.stderrPath);
  }

  /** The JSON log lines written so far (anything else on stdout is skipped). */
  logs(): LogLine[] {
    const lines: LogLine[] = [];
    for (const line of this.stdout().split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // a line cut short by a kill -9
      }
    }
    return lines;
  }

  /** The end of stderr and of the log, for assertion messages. */
  diagnostics(lines = 25): string {
    const tail = (text: string): string => text.trimEnd().split('\n').slice(-lines).join('\n');
    return `--- ${this.name} stderr (${this.stderrPath}):\n${tail(this.stderr())}\n--- ${this.name} stdout:\n${tail(this.stdout())}`;
  }

  /** GET /metrics, parsed. */
  async scrape(): Promise<MetricSample[]> {
    if (this.#metricsUrl === undefined) throw new Error(`${this.name} serves no metrics`);
    const response = await fetch(this.#metricsUrl, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`${this.name} ${this.#metricsUrl} answered ${response.status}`);
    return parsePrometheusText(await response.text());
  }

  /**
   * Has the process write a heap snapshot into NOSANA_HEAP_SNAPSHOT_DIR and waits until it is
   * complete; the snapshot's path, or undefined when the variable is not set.
   */
  async heapSnapshot(timeoutMs = 300_000): Promise<string | undefined> {
    const dir = heapSnapshotDir();
    if (dir === undefined) return undefined;
    const pid = this.#child.pid;
    if (this.#exit !== undefined || pid === undefined) throw new Error(`${this.name} is not running`);
    const existing = new Set(await readdir(dir));
    process.kill(pid, HEAP_SNAPSHOT_SIGNAL);
    // Node names it Heap.<date>.<time>.<pid>.<tid>.<seq>.heapsnapshot and writes it from the main
    // thread, which answers nothing else meanwhile: complete once /metrics answers again.
    const path = await waitFor(
      async () => {
        const fresh = (await readdir(dir)).find(
          (file) => !existing.has(file) && file.endsWith('.heapsnapshot') && file.includes(`.${pid}.`),
        );
        return fresh === undefined ? undefined : join(dir, fresh);
      },
      { what: `${this.name} to start its heap snapshot`, timeoutMs, intervalMs: 500 },
    );
    await waitFor(async () => (await this.scrape(), true), {
      what: `${this.name} to finish its heap snapshot`,
      timeoutMs,
      intervalMs: 1_000,
    });
    return path;
  }

  #signal(signal: NodeJS.Signals): void {
    const pid = this.#child.pid;
    if (this.#exit !== undefined || pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function describeExit(exit: ProcessExit): string {
  return exit.signal === null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
}
