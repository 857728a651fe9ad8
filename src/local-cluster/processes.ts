// Child processes of a local control plane. Each component writes to its own log file
// (printed when it dies early, so a failed start explains itself), is stopped with
// SIGTERM then SIGKILL, and is also covered by a watchdog: a detached shell that kills
// every component once the Node process that started them is gone, even after kill -9,
// so a crashed run never leaves an API server behind. Fault tests kill a component with
// SIGKILL and start it again from the same spec (same flags, ports and data directory).
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ComponentSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
}

export class Component {
  readonly name: string;
  readonly logFile: string;
  private readonly spec: ComponentSpec;
  private readonly logDir: string;
  private readonly child: ChildProcess;
  private exited = false;
  private exitDescription = '';
  readonly exitedPromise: Promise<void>;

  constructor(spec: ComponentSpec, logDir: string) {
    this.name = spec.name;
    this.spec = spec;
    this.logDir = logDir;
    this.logFile = join(logDir, `${spec.name}.log`);
    // appended, so a restarted component's log continues the one it replaced
    const fd = openSync(this.logFile, 'a');
    try {
      this.child = spawn(spec.command, spec.args, {
        stdio: ['ignore', fd, fd],
        env: { ...process.env, ...spec.env },
        // its own process group, so a stop reaches anything it forks
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    this.exitedPromise = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exited = true;
        this.exitDescription = signal ? `signal ${signal}` : `exit code ${code}`;
        resolve();
      });
      this.child.once('error', (err) => {
        this.exited = true;
        this.exitDescription = err.message;
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.exited;
  }

  /** Throws with the tail of the component's log when it has died. */
  assertRunning(): void {
    if (this.exited) {
      throw new Error(`${this.name} exited (${this.exitDescription}); last log lines:\n${this.logTail(30)}`);
    }
  }

  logTail(lines: number): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async stop(graceMs = 5000): Promise<void> {
    if (this.exited || this.child.pid === undefined) return;
    signalGroup(this.child.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(this.child.pid!, 'SIGKILL'), graceMs);
    await this.exitedPromise;
    clearTimeout(timer);
  }

  /** SIGKILL with no grace, as a crash or the OOM killer ends it; resolves once it is gone. */
  async kill(): Promise<void> {
    this.killNow();
    await this.exitedPromise;
  }

  /** A new process from the same spec (flags, ports, data directory); this one must have exited. */
  relaunch(): Component {
    if (!this.exited) throw new Error(`${this.name} is still running; kill or stop it before relaunching`);
    return new Component(this.spec, this.logDir);
  }

  /** Synchronous last resort for process 'exit' handlers. */
  killNow(): void {
    if (!this.exited && this.child.pid !== undefined) signalGroup(this.child.pid, 'SIGKILL');
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Starts a detached shell that waits for `ownerPid` to disappear, then kills the given
 * process groups and removes `workDir`. `update` re-arms it with the current groups;
 * `cancel` disarms it (on a clean stop).
 */
export function startWatchdog(ownerPid: number, groups: () => number[], workDir: string): { update(): void; cancel(): void } {
  let watchdog: ChildProcess | undefined;
  const launch = (): void => {
    watchdog?.kill('SIGKILL');
    const pids = groups().join(' ');
    const script = `
      while kill -0 ${ownerPid} 2>/dev/null; do sleep 1; done
      for p in ${pids}; do kill -TERM -- -$p 2>/dev/null; done
      sleep 3
      for p in ${pids}; do kill -KILL -- -$p 2>/dev/null; done
      rm -rf '${workDir.replace(/'/g, '')}'`;
    watchdog = spawn('bash', ['-c', script], { stdio: 'ignore', detached: true });
    watchdog.unref();
  };
  launch();
  return {
    update: launch,
    cancel: () => {
      watchdog?.kill('SIGKILL');
      watchdog = undefined;
    },
  };
}
