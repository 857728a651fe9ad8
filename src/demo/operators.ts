// The controller and the node agent inside the demo's own process: the same runManager and
// runNodeAgent the `controller` and `node` commands run, each with its own stop signal and its own
// JSON log file, so the demo's output stays readable and the logs are there for whoever wants them.
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import type { Logger } from 'pino';
import { runManager } from '../controllers/manager.ts';
import { runNodeAgent } from '../controllers/node-agent.ts';
import type { ManagerExit } from '../controllers/process-lifecycle.ts';
import { createLogger } from '../runtime/logger.ts';
import type { DemoManagerSettings, DemoNodeAgentSettings } from './operator-settings.ts';

/** One long-running part of the operator, started in this process. */
export class InProcessOperator {
  readonly title: string;
  readonly logFile: string;
  readonly #stop = new AbortController();
  readonly #running: Promise<ManagerExit>;

  constructor(title: string, logFile: string, run: (stop: AbortSignal) => Promise<ManagerExit>) {
    this.title = title;
    this.logFile = logFile;
    this.#running = run(this.#stop.signal);
    // Observed here so an early failure is never an unhandled rejection; `ended` reports it.
    this.#running.catch(() => undefined);
  }

  /**
   * Settles only if the part ends on its own: a part that stops while the demo still needs it is a
   * failure, whatever its exit, and the rejection says where its log is.
   */
  ended(): Promise<never> {
    return this.#running.then(
      (exit) => Promise.reject(new Error(`${this.title} stopped (${exit}); its log: ${this.logFile}`)),
      (error: unknown) => Promise.reject(new Error(`${this.title} failed: ${(error as Error).message}; its log: ${this.logFile}`)),
    );
  }

  /** Asks it to stop and waits until everything it started has stopped. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running.catch(() => undefined);
  }
}

export function fileLogger(logFile: string): Logger {
  return createLogger({ level: 'info', destination: pino.destination({ dest: logFile, mkdir: true, sync: true }) });
}

function kubeConfigFrom(path: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  return kubeConfig;
}

export function startController(kubeconfigPath: string, logsDir: string, settings: DemoManagerSettings): InProcessOperator {
  const logFile = join(logsDir, 'controller.log');
  const options = { ...settings, kubeConfig: kubeConfigFrom(kubeconfigPath), log: fileLogger(logFile) };
  return new InProcessOperator('the controller', logFile, (stop) => runManager(options, stop));
}

export function startNodeAgent(kubeconfigPath: string, logsDir: string, settings: DemoNodeAgentSettings): InProcessOperator {
  const logFile = join(logsDir, 'node-agent.log');
  const options = { ...settings, kubeConfig: kubeConfigFrom(kubeconfigPath), log: fileLogger(logFile) };
  return new InProcessOperator('the node agent', logFile, (stop) => runNodeAgent(options, stop));
}
