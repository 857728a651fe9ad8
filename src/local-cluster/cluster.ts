// A real Kubernetes control plane on this machine, for `nosana-operator run`, the demo and the
// tests: etcd, kube-apiserver, kube-controller-manager and kube-scheduler built from Go modules,
// KWOK playing the kubelets of simulated GPU nodes, and a small on-demand volume provisioner.
// Everything listens on loopback. What a simulated container does is simulation.ts's business.
// Fault tests can SIGKILL a component and restart it in place (kill, restart): the same flags,
// ports and data directory, so etcd keeps its data and clients find the API server where it was.
import { writeFileSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { controlPlaneBinaries, REPO_ROOT, type ControlPlaneBinaries } from './binaries.ts';
import { generateClusterPki, type CertificatePair } from './pki.ts';
import { freePorts } from './ports.ts';
import { Component, startWatchdog, type ComponentSpec } from './processes.ts';
import { kwokStagesYaml } from './kwok-stages.ts';
import { waitFor } from './wait.ts';
import { publishSimulatedGpus } from './dra.ts';
import { registerGpuNodes, type GpuNodeOptions } from './gpu-nodes.ts';
import { LOCAL_STORAGE_CLASS, installStorageClass } from './storage.ts';

export interface ClusterOptions extends Partial<GpuNodeOptions> {
  /** keep the work directory (logs, audit log) after stop; also via NOSANA_KEEP_CLUSTER=1 */
  keepWorkDir?: boolean;
}

/** The processes of a local cluster, as kill() and restart() name them. */
export type ComponentName = 'etcd' | 'kube-apiserver' | 'kube-scheduler' | 'kube-controller-manager' | 'kwok' | 'volume-provisioner';

/** What another process needs to use a cluster this one started. */
export interface ClusterHandle {
  workDir: string;
  kubeconfigPath: string;
  auditLogPath: string;
  server: string;
  version: string;
  gpuNodes: string[];
  storageClass: string;
  kwokLogsDir: string;
}

export class LocalCluster {
  private components: Component[] = [];
  /** How restart() knows a component serves again; only those others depend on have one. */
  private readonly readinessChecks = new Map<ComponentName, () => Promise<boolean>>();
  private watchdog: { update(): void; cancel(): void } | undefined;
  private readonly exitHandler = (): void => this.killNow();
  handle!: ClusterHandle;
  kubeConfig!: k8s.KubeConfig;

  readonly workDir: string;
  private readonly options: ClusterOptions;

  private constructor(workDir: string, options: ClusterOptions) {
    this.workDir = workDir;
    this.options = options;
  }

  static async start(options: ClusterOptions = {}): Promise<LocalCluster> {
    const workDir = await mkdtemp(join(tmpdir(), 'nosana-local-cluster-'));
    const cluster = new LocalCluster(workDir, options);
    try {
      await cluster.boot(await controlPlaneBinaries());
    } catch (err) {
      await cluster.stop({ keepWorkDir: true });
      throw new Error(`the local cluster failed to start (logs in ${workDir}): ${(err as Error).message}`, { cause: err });
    }
    return cluster;
  }

  private async boot(bin: ControlPlaneBinaries): Promise<void> {
    const started = Date.now();
    const dirs = {
      pki: join(this.workDir, 'pki'),
      logs: join(this.workDir, 'logs'),
      etcd: join(this.workDir, 'etcd'),
      config: join(this.workDir, 'config'),
      kwokLogs: join(this.workDir, 'kwok-logs'),
    };
    await Promise.all(Object.values(dirs).map((d) => mkdir(d, { recursive: true })));
    process.once('exit', this.exitHandler);

    const [pki, [etcdPort, etcdPeerPort, apiPort, kwokPort]] = await Promise.all([generateClusterPki(dirs.pki), freePorts(4)]);
    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfigs = {
      admin: join(dirs.config, 'admin.kubeconfig'),
      scheduler: join(dirs.config, 'scheduler.kubeconfig'),
      controllerManager: join(dirs.config, 'controller-manager.kubeconfig'),
    };
    await Promise.all([
      writeFile(kubeconfigs.admin, kubeconfigYaml(server, pki.caCert, pki.admin, 'admin')),
      writeFile(kubeconfigs.scheduler, kubeconfigYaml(server, pki.caCert, pki.scheduler, 'system:kube-scheduler')),
      writeFile(kubeconfigs.controllerManager, kubeconfigYaml(server, pki.caCert, pki.controllerManager, 'system:kube-controller-manager')),
    ]);

    const etcd = this.launch(dirs.logs, {
      name: 'etcd',
      command: bin.etcd,
      args: [
        `--data-dir=${dirs.etcd}`,
        `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=default=http://127.0.0.1:${etcdPeerPort}`,
        // a local cluster's data is disposable: skip fsync, as envtest does
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ],
    });
    this.readinessChecks.set('etcd', async () => (await fetch(`http://127.0.0.1:${etcdPort}/health`)).ok);
    await waitFor(
      async () => {
        etcd.assertRunning();
        return this.readinessChecks.get('etcd')!();
      },
      { what: 'etcd to be healthy', timeoutMs: 30_000 },
    );

    const auditLogPath = join(dirs.logs, 'audit.log');
    const auditPolicy = join(dirs.config, 'audit-policy.yaml');
    await writeFile(auditPolicy, AUDIT_POLICY);
    const apiserver = this.launch(dirs.logs, {
      name: 'kube-apiserver',
      command: bin.kubeApiserver,
      args: [
        `--etcd-servers=http://127.0.0.1:${etcdPort}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        `--tls-cert-file=${pki.apiServer.cert}`,
        `--tls-private-key-file=${pki.apiServer.key}`,
        `--client-ca-file=${pki.caCert}`,
        `--service-account-key-file=${pki.serviceAccountPublicKey}`,
        `--service-account-signing-key-file=${pki.serviceAccountKey}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        '--service-cluster-ip-range=10.0.0.0/24',
        '--authorization-mode=Node,RBAC',
        '--allow-privileged=true',
        `--kubelet-client-certificate=${pki.apiServerKubeletClient.cert}`,
        `--kubelet-client-key=${pki.apiServerKubeletClient.key}`,
        `--kubelet-certificate-authority=${pki.caCert}`,
        '--kubelet-preferred-address-types=InternalIP',
        `--audit-policy-file=${auditPolicy}`,
        `--audit-log-path=${auditLogPath}`,
        '--audit-log-format=json',
        '--audit-log-maxsize=200',
        '--audit-log-mode=batch',
        '--audit-log-batch-max-wait=1s',
        '--audit-log-batch-max-size=100',
        '--endpoint-reconciler-type=none',
      ],
    });
    const adminTls = { ca: await readFile(pki.caCert), cert: await readFile(pki.admin.cert), key: await readFile(pki.admin.key) };
    this.readinessChecks.set('kube-apiserver', async () => (await httpsGet(`${server}/readyz`, adminTls)) === 200);
    await waitFor(
      async () => {
        apiserver.assertRunning();
        return this.readinessChecks.get('kube-apiserver')!();
      },
      { what: 'kube-apiserver /readyz', timeoutMs: 60_000, intervalMs: 200 },
    );

    this.kubeConfig = new k8s.KubeConfig();
    this.kubeConfig.loadFromFile(kubeconfigs.admin);

    const schedulerConfig = join(dirs.config, 'scheduler.yaml');
    await writeFile(schedulerConfig, schedulerConfigYaml(kubeconfigs.scheduler));
    this.launch(dirs.logs, {
      name: 'kube-scheduler',
      command: bin.kubeScheduler,
      args: [`--config=${schedulerConfig}`, '--secure-port=0'],
    });
    this.launch(dirs.logs, {
      name: 'kube-controller-manager',
      command: bin.kubeControllerManager,
      args: [
        `--kubeconfig=${kubeconfigs.controllerManager}`,
        '--secure-port=0',
        '--leader-elect=false',
        '--use-service-account-credentials=true',
        `--service-account-private-key-file=${pki.serviceAccountKey}`,
        `--root-ca-file=${pki.caCert}`,
        `--cluster-signing-cert-file=${pki.caCert}`,
        `--cluster-signing-key-file=${pki.caKey}`,
        // the local cluster registers its Nodes itself; nothing allocates Pod CIDRs
        '--allocate-node-cidrs=false',
      ],
    });

    await this.applyManifestFile(join(bin.kwokCrdDir, 'kwok.x-k8s.io_logs.yaml'));
    await this.applyManifestFile(join(bin.kwokCrdDir, 'kwok.x-k8s.io_clusterlogs.yaml'));
    await waitForCrdsEstablished(this.kubeConfig, ['logs.kwok.x-k8s.io', 'clusterlogs.kwok.x-k8s.io']);

    const kwokConfig = join(dirs.config, 'kwok.yaml');
    await writeFile(kwokConfig, kwokStagesYaml());
    this.launch(dirs.logs, {
      name: 'kwok',
      command: bin.kwok,
      args: [
        `--kubeconfig=${kubeconfigs.admin}`,
        `--config=${kwokConfig}`,
        '--manage-all-nodes=false',
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        '--node-ip=127.0.0.1',
        `--node-port=${kwokPort}`,
        `--server-address=127.0.0.1:${kwokPort}`,
        `--tls-cert-file=${pki.kubelet.cert}`,
        `--tls-private-key-file=${pki.kubelet.key}`,
        '--enable-crds=Logs,ClusterLogs',
        '--cidr=10.244.0.0/16',
      ],
    });
    this.launch(dirs.logs, {
      name: 'volume-provisioner',
      command: process.execPath,
      args: [join(REPO_ROOT, 'src', 'local-cluster', 'local-provisioner.ts'), kubeconfigs.admin],
    });

    await installStorageClass(this.kubeConfig);
    const nodeOptions: GpuNodeOptions = {
      count: this.options.count ?? 4,
      gpusPerNode: this.options.gpusPerNode ?? 8,
      gpuProduct: this.options.gpuProduct ?? 'NVIDIA-A100-SXM4-80GB',
      gpuMemoryMiB: this.options.gpuMemoryMiB ?? 81920,
    };
    const gpuNodes = await registerGpuNodes(this.kubeConfig, nodeOptions);
    await publishSimulatedGpus(this.kubeConfig, { nodes: gpuNodes, ...nodeOptions });
    await this.waitForNodesReady(gpuNodes);
    // Pods are refused until the controller manager has made the namespace's ServiceAccount: a
    // cluster handed out before that fails the first Pod anyone creates in "default".
    const core = this.kubeConfig.makeApiClient(k8s.CoreV1Api);
    await waitFor(
      async () => (await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' }).catch(() => undefined)) !== undefined,
      {
        what: 'the ServiceAccount default/default',
        timeoutMs: 60_000,
      },
    );

    const version = await this.kubeConfig.makeApiClient(k8s.VersionApi).getCode();
    this.handle = {
      workDir: this.workDir,
      kubeconfigPath: kubeconfigs.admin,
      auditLogPath,
      server,
      version: version.gitVersion,
      gpuNodes,
      storageClass: LOCAL_STORAGE_CLASS,
      kwokLogsDir: dirs.kwokLogs,
    };
    await writeFile(join(this.workDir, 'cluster.json'), JSON.stringify(this.handle, null, 2));
    if (process.env.NOSANA_TEST_VERBOSE) {
      console.error(`local cluster ${version.gitVersion} ready in ${Date.now() - started} ms at ${server}`);
    }
  }

  private launch(logDir: string, spec: ComponentSpec & { name: ComponentName }): Component {
    const component = new Component(spec, logDir);
    this.components.push(component);
    this.recordPids();
    return component;
  }

  /** Re-arms the watchdog and rewrites <workDir>/pids after a component started or restarted. */
  private recordPids(): void {
    if (this.watchdog) this.watchdog.update();
    else this.watchdog = startWatchdog(process.pid, () => this.pids(), this.workDir);
    writeFileSync(join(this.workDir, 'pids'), this.pids().join('\n') + '\n');
  }

  private component(name: ComponentName): Component {
    const component = this.components.find((c) => c.name === name);
    if (component === undefined) throw new Error(`the local cluster has no component ${name}`);
    return component;
  }

  /** SIGKILLs one component (a crash, not a stop): it stays down until restart(name). */
  async kill(name: ComponentName): Promise<void> {
    await this.component(name).kill();
  }

  /**
   * Starts a component again with the flags, ports and data directory it had (SIGKILLing it
   * first if it still runs); for etcd and the API server, resolves once they serve again.
   */
  async restart(name: ComponentName, options: { timeoutMs?: number } = {}): Promise<void> {
    const old = this.component(name);
    if (old.running) await old.kill();
    const fresh = old.relaunch();
    // same place in the list, so stop() still stops clients before etcd
    this.components[this.components.indexOf(old)] = fresh;
    this.recordPids();
    const ready = this.readinessChecks.get(name);
    if (ready === undefined) return;
    await waitFor(
      async () => {
        fresh.assertRunning();
        return ready();
      },
      { what: `${name} to serve again after its restart`, timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 200 },
    );
  }

  private async applyManifestFile(path: string): Promise<void> {
    const objects = k8s.loadAllYaml(await readFile(path, 'utf8')) as k8s.KubernetesObject[];
    const client = k8s.KubernetesObjectApi.makeApiClient(this.kubeConfig);
    for (const object of objects) {
      await client.create(object);
    }
  }

  private async waitForNodesReady(names: string[]): Promise<void> {
    const core = this.kubeConfig.makeApiClient(k8s.CoreV1Api);
    await waitFor(
      async () => {
        for (const c of this.components) c.assertRunning();
        const nodes = await core.listNode();
        const ready = nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return names.every((name) => ready.some((n) => n.metadata?.name === name));
      },
      { what: `nodes ${names.join(', ')} to be Ready`, timeoutMs: 60_000, intervalMs: 200 },
    );
  }

  /** Process ids of the components (also in <workDir>/pids). */
  pids(): number[] {
    return this.components.flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
  }

  async stop(options: { keepWorkDir?: boolean } = {}): Promise<void> {
    // stop in reverse start order: clients first, etcd last
    for (const component of [...this.components].reverse()) await component.stop();
    this.watchdog?.cancel();
    process.removeListener('exit', this.exitHandler);
    const keep = options.keepWorkDir ?? this.options.keepWorkDir ?? process.env.NOSANA_KEEP_CLUSTER === '1';
    if (!keep) await rm(this.workDir, { recursive: true, force: true });
  }

  private killNow(): void {
    for (const component of this.components) component.killNow();
  }
}

async function waitForCrdsEstablished(kc: k8s.KubeConfig, names: string[]): Promise<void> {
  const api = kc.makeApiClient(k8s.ApiextensionsV1Api);
  await waitFor(
    async () => {
      for (const name of names) {
        const crd = await api.readCustomResourceDefinition({ name });
        if (!crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return false;
      }
      return true;
    },
    { what: `CRDs ${names.join(', ')} to be Established` },
  );
}

function httpsGet(url: string, tls: { ca: Buffer; cert: Buffer; key: Buffer }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...tls, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function kubeconfigYaml(server: string, caFile: string, client: CertificatePair, user: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: nosana-local
  cluster:
    server: ${server}
    certificate-authority: ${caFile}
users:
- name: ${JSON.stringify(user)}
  user:
    client-certificate: ${client.cert}
    client-key: ${client.key}
contexts:
- name: nosana-local
  context:
    cluster: nosana-local
    user: ${JSON.stringify(user)}
current-context: nosana-local
`;
}

function schedulerConfigYaml(kubeconfig: string): string {
  return `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: ${kubeconfig}
  qps: 100
  burst: 200
leaderElection:
  leaderElect: false
`;
}

// Metadata for every request: enough to derive the RBAC the operator really uses,
// without request bodies (which would carry Secrets).
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
`;
