// What a simulated container does on the local cluster's KWOK nodes, decided from what the Pod is.
// KWOK plays the kubelet but runs nothing, so something must say how long each container runs,
// how it exits, what it prints and when it turns Ready. That is decided here, from the Pod's image,
// command and args matched against rules the caller supplies (the demo ships its own, each test
// brings its own), and never by whoever created the Pod: the executor and the node agent create
// exactly the Pods they would create on a real cluster.
//
// The watcher decides once per Pod, before KWOK starts it: it writes the container's log file in
// the CRI format with a KWOK Logs object pointing at it (so the API's log endpoint serves it), then
// annotates the Pod for the stages of kwok-stages.ts. A Pod runs only once it carries the decided
// annotation, so a decision can never arrive after KWOK has started the Pod without it.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { SupervisedInformer } from '../runtime/informer.ts';
import { KubeApi, hasStatus } from '../runtime/kube-api.ts';
import { SIMULATION_ANNOTATIONS } from './kwok-stages.ts';

export interface SimulatedLogLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** What one simulated Pod does. Durations are Go durations ("2s", "150ms"). */
export interface SimulatedBehaviour {
  /** Before the container starts (an image pull): the Pod stays Pending meanwhile. */
  startAfter?: string;
  /** The image cannot be pulled: the container waits with ErrImagePull and this message, for ever. */
  pullError?: string;
  /** The container exits with this code after `runFor`; undefined: it runs until stopped (a service). */
  exitCode?: number;
  /** How long it runs before exiting (default 500ms). */
  runFor?: string;
  /** Killed for running out of memory: exit code 137, reason OOMKilled. */
  oomKilled?: boolean;
  /**
   * A service that runs until stopped turns Ready this long after it starts, or never (its health
   * checks keep failing). Undefined: Ready as soon as it runs. Ignored for a container that exits.
   */
  readyAfter?: string | 'never';
  /** What the container prints (the first container of the Pod). */
  logs?: SimulatedLogLine[];
}

export interface SimulationRule {
  /** Named in the decided annotation, so a test or the demo can tell which rule a Pod got. */
  name: string;
  /** Every given part must match the Pod's first container. */
  match: {
    image?: string | RegExp;
    /** Matched against the command and args joined with spaces. */
    commandLine?: RegExp;
  };
  then: SimulatedBehaviour;
}

export interface SimulationDecision {
  rule: string;
  annotations: Record<string, string>;
  logs: SimulatedLogLine[];
}

function matches(pattern: string | RegExp | undefined, text: string): boolean {
  if (pattern === undefined) return true;
  return typeof pattern === 'string' ? pattern === text : pattern.test(text);
}

/** The first rule that matches the Pod's first container decides; no rule, no decision. */
export function decideSimulation(pod: V1Pod, rules: readonly SimulationRule[]): SimulationDecision | undefined {
  const container = pod.spec?.containers[0];
  if (container === undefined) return undefined;
  const commandLine = [...(container.command ?? []), ...(container.args ?? [])].join(' ');
  const rule = rules.find(
    (candidate) => matches(candidate.match.image, container.image ?? '') && matches(candidate.match.commandLine, commandLine),
  );
  if (rule === undefined) return undefined;
  return { rule: rule.name, annotations: annotationsFor(rule.name, rule.then), logs: rule.then.logs ?? [] };
}

/** The annotations kwok-stages.ts reads for a behaviour. */
export function annotationsFor(rule: string, behaviour: SimulatedBehaviour): Record<string, string> {
  const annotations: Record<string, string> = { [SIMULATION_ANNOTATIONS.decided]: rule };
  if (behaviour.startAfter !== undefined) annotations[SIMULATION_ANNOTATIONS.startDelay] = behaviour.startAfter;
  if (behaviour.pullError !== undefined) {
    annotations[SIMULATION_ANNOTATIONS.pullError] = behaviour.pullError;
    return annotations;
  }
  if (behaviour.oomKilled === true) {
    annotations[SIMULATION_ANNOTATIONS.exitCode] = '137';
    annotations[SIMULATION_ANNOTATIONS.oomKilled] = 'true';
  } else if (behaviour.exitCode !== undefined) {
    annotations[SIMULATION_ANNOTATIONS.exitCode] = String(behaviour.exitCode);
  }
  if (annotations[SIMULATION_ANNOTATIONS.exitCode] !== undefined) {
    if (behaviour.runFor !== undefined) annotations[SIMULATION_ANNOTATIONS.runDuration] = behaviour.runFor;
  } else if (behaviour.readyAfter !== undefined) {
    annotations[SIMULATION_ANNOTATIONS.readyAfter] = behaviour.readyAfter;
  }
  return annotations;
}

/** The CRI log format the API's log endpoint serves: one timestamped, full line per entry. */
export function criLog(lines: readonly SimulatedLogLine[], start: Date): string {
  return lines.map((line, index) => `${new Date(start.getTime() + index).toISOString()} ${line.stream} F ${line.text}\n`).join('');
}

export interface SimulationWatcherOptions {
  kubeConfig: KubeConfig;
  /** Where KWOK reads log files from (the local cluster's kwok-logs directory). */
  logsDir: string;
  rules: readonly SimulationRule[];
  log: Logger;
  /** Watch only these namespaces; all when absent. */
  namespaces?: readonly string[];
}

/** Decides, once, what every new Pod does; Pods no rule matches stay Pending (nothing runs them). */
export class SimulationWatcher {
  readonly #options: SimulationWatcherOptions;
  readonly #api: KubeApi;
  readonly #pods: SupervisedInformer<V1Pod>;
  readonly #seen = new Set<string>();
  #running: Promise<void> | undefined;

  constructor(options: SimulationWatcherOptions) {
    this.#options = options;
    this.#api = new KubeApi(options.kubeConfig);
    this.#pods = new SupervisedInformer<V1Pod>(options.kubeConfig, '/api/v1/pods', options.log, {
      ...(options.namespaces === undefined ? {} : { namespaces: options.namespaces }),
    });
    this.#pods.on((event) => {
      if (event.type !== 'deleted') void this.#decide(event.object);
    });
  }

  start(): Promise<void> {
    this.#running ??= this.#pods.start();
    return this.#running;
  }

  async stop(): Promise<void> {
    await this.#pods.stop();
  }

  async #decide(pod: V1Pod): Promise<void> {
    const { namespace = '', name = '', uid = '' } = pod.metadata ?? {};
    if (pod.metadata?.annotations?.[SIMULATION_ANNOTATIONS.decided] !== undefined || this.#seen.has(uid)) return;
    const decision = decideSimulation(pod, this.#options.rules);
    if (decision === undefined) {
      this.#seen.add(uid);
      this.#options.log.warn({ namespace, pod: name }, 'no simulation rule matches this Pod; it stays Pending');
      return;
    }
    this.#seen.add(uid);
    try {
      const container = pod.spec?.containers[0]?.name ?? '';
      if (decision.logs.length > 0) await this.#writeLogs(namespace, name, container, decision.logs);
      await this.#api.request('PATCH', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`, {
        body: { metadata: { annotations: decision.annotations } },
        contentType: 'application/merge-patch+json',
      });
    } catch (error) {
      // A Pod deleted meanwhile needs nothing; anything else is tried again at its next event.
      if (!hasStatus(error, 404)) {
        this.#seen.delete(uid);
        this.#options.log.warn({ err: error, namespace, pod: name }, 'simulating a Pod failed');
      }
    }
  }

  async #writeLogs(namespace: string, pod: string, container: string, lines: readonly SimulatedLogLine[]): Promise<void> {
    const file = join(this.#options.logsDir, `${namespace}_${pod}_${container}.log`);
    await writeFile(file, criLog(lines, new Date()));
    await this.#createLogs(namespace, pod, container, file);
  }

  /** A Logs object left by an earlier Pod of the same name points at the same file, rewritten above. */
  async #createLogs(namespace: string, pod: string, container: string, file: string): Promise<void> {
    await this.#api
      .request('POST', `/apis/kwok.x-k8s.io/v1alpha1/namespaces/${encodeURIComponent(namespace)}/logs`, {
        body: {
          apiVersion: 'kwok.x-k8s.io/v1alpha1',
          kind: 'Logs',
          metadata: { name: pod, namespace },
          spec: { logs: [{ containers: [container], logsFile: file }] },
        },
      })
      .catch((error: unknown) => {
        if (!hasStatus(error, 409)) throw error;
      });
  }
}
