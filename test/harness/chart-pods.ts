// The chart's Pods as host processes. KWOK runs no containers, so a Pod of the chart's Deployments
// that KWOK reports Running gets what a kubelet would have started: `nosana-operator` with the
// Pod's own container arguments, its environment (Secret keys and the downward API resolved as the
// kubelet resolves them) and a token of the Pod's ServiceAccount, so every request it makes is
// checked against the chart's RBAC and named in the audit log. The ports it binds become free
// loopback ports, the only change to its arguments. When the Pod is deleted (a rolling update, an
// uninstall) the process gets SIGTERM, as the kubelet sends it.
import * as k8s from '@kubernetes/client-node';
import { freePorts } from '../../src/local-cluster/ports.ts';
import { OperatorProcess } from './operator-process.ts';
import { serviceAccountKubeconfig, type ServiceAccountKubeconfig } from './service-account-kubeconfig.ts';

const POLL_MS = 200;

export interface ChartPodProcess {
  pod: string;
  /** The Deployment's component label: the controller or the node agent. */
  component: string;
  process: OperatorProcess;
  identity: ServiceAccountKubeconfig;
  /** The Pod's terminationGracePeriodSeconds, in ms: SIGKILL follows SIGTERM after it. */
  graceMs: number;
  /** Set once the Pod was deleted and the process was told to stop. */
  stopped?: Promise<void>;
  /** When the process had exited after its Pod was deleted (ms epoch). */
  exitedAt?: number;
}

/** The host arguments of a container: its own, with loopback ports and the ServiceAccount's kubeconfig. */
export function hostArgs(args: readonly string[], ports: { metrics: number; probes: number }, kubeconfigPath: string): string[] {
  const replaced = args.map((arg) => {
    if (arg.startsWith('--metrics-bind-address=')) return `--metrics-bind-address=127.0.0.1:${ports.metrics}`;
    if (arg.startsWith('--health-probe-bind-address=')) return `--health-probe-bind-address=127.0.0.1:${ports.probes}`;
    return arg;
  });
  return [...replaced, '--kubeconfig', kubeconfigPath];
}

export class ChartPods {
  readonly #kubeConfig: k8s.KubeConfig;
  readonly #core: k8s.CoreV1Api;
  readonly #namespace: string;
  readonly #selector: string;
  /** Every process ever started, by Pod name (a Pod runs at most one). */
  readonly #processes = new Map<string, ChartPodProcess>();
  readonly #failures: Error[] = [];
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<void> = Promise.resolve();

  constructor(kubeConfig: k8s.KubeConfig, namespace: string, selector: string) {
    this.#kubeConfig = kubeConfig;
    this.#core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.#namespace = namespace;
    this.#selector = selector;
  }

  start(): void {
    const tick = (): void => {
      this.#pass = this.#sync()
        .catch((error: unknown) => {
          this.#failures.push(error as Error);
        })
        .finally(() => {
          if (this.#timer !== undefined) this.#timer = setTimeout(tick, POLL_MS);
        });
    };
    this.#timer = setTimeout(tick, 0);
  }

  /** Stops watching, stops every process still running (SIGTERM, as an uninstall would) and removes their logs. */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#pass;
    await Promise.all([...this.#processes.values()].map((entry) => this.#stopProcess(entry)));
    await Promise.all([...this.#processes.values()].map((entry) => entry.process.stop()));
  }

  /** Every process started so far, oldest first. */
  all(): ChartPodProcess[] {
    return [...this.#processes.values()];
  }

  /** The processes whose Pods still exist. */
  live(component?: string): ChartPodProcess[] {
    return this.all().filter((entry) => entry.stopped === undefined && (component === undefined || entry.component === component));
  }

  /** What went wrong starting or stopping processes (asserted empty by tests). */
  failures(): readonly Error[] {
    return this.#failures;
  }

  async #sync(): Promise<void> {
    const pods = (await this.#core.listNamespacedPod({ namespace: this.#namespace, labelSelector: this.#selector })).items;
    const present = new Set<string>();
    for (const pod of pods) {
      const name = pod.metadata?.name ?? '';
      const deleting = pod.metadata?.deletionTimestamp !== undefined;
      if (!deleting) present.add(name);
      const entry = this.#processes.get(name);
      if (entry === undefined && !deleting && pod.status?.phase === 'Running') {
        this.#processes.set(name, await this.#startProcess(pod));
      }
    }
    for (const entry of this.#processes.values()) {
      if (!present.has(entry.pod) && entry.stopped === undefined) entry.stopped = this.#stopProcess(entry);
    }
  }

  async #startProcess(pod: k8s.V1Pod): Promise<ChartPodProcess> {
    const name = pod.metadata?.name ?? '';
    const container = pod.spec?.containers[0];
    if (container === undefined) throw new Error(`Pod ${name} has no container`);
    if (container.command !== undefined) throw new Error(`Pod ${name} overrides the image's entrypoint; the chart never does`);
    const identity = await serviceAccountKubeconfig(this.#kubeConfig, this.#namespace, pod.spec?.serviceAccountName ?? 'default');
    const [metrics, probes] = await freePorts(2);
    if (metrics === undefined || probes === undefined) throw new Error('no free ports');
    const process = await OperatorProcess.start({
      name,
      args: hostArgs(container.args ?? [], { metrics, probes }, identity.kubeconfigPath),
      env: await this.#environment(pod, container),
      metricsPort: metrics,
      probePort: probes,
    });
    return {
      pod: name,
      component: pod.metadata?.labels?.['app.kubernetes.io/component'] ?? '',
      process,
      identity,
      graceMs: (pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000,
    };
  }

  /** The container's environment as the kubelet builds it; an unknown source fails loudly. */
  async #environment(pod: k8s.V1Pod, container: k8s.V1Container): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const variable of container.env ?? []) {
      const secretKey = variable.valueFrom?.secretKeyRef;
      const field = variable.valueFrom?.fieldRef?.fieldPath;
      if (variable.value !== undefined) env[variable.name] = variable.value;
      else if (secretKey !== undefined) {
        const secret = await this.#core.readNamespacedSecret({ namespace: this.#namespace, name: secretKey.name ?? '' });
        const value = secret.data?.[secretKey.key];
        if (value === undefined) throw new Error(`Secret ${secretKey.name} has no key ${secretKey.key} for $${variable.name}`);
        env[variable.name] = Buffer.from(value, 'base64').toString('utf8');
      } else if (field === 'metadata.name') env[variable.name] = pod.metadata?.name ?? '';
      else if (field === 'metadata.namespace') env[variable.name] = pod.metadata?.namespace ?? '';
      else throw new Error(`$${variable.name} of Pod ${pod.metadata?.name ?? ''} has a source this harness does not resolve`);
    }
    return env;
  }

  /** SIGTERM, then SIGKILL after the grace period; the logs stay for the test to read. */
  async #stopProcess(entry: ChartPodProcess): Promise<void> {
    if (entry.stopped !== undefined) return entry.stopped;
    if (entry.process.running) await entry.process.sigterm(entry.graceMs);
    entry.exitedAt ??= Date.now();
    await entry.identity.remove();
  }
}
