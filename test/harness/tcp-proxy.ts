// A loopback TCP proxy to put between a client and the API server, so a test can break the
// network the way real networks break: cut every live connection (a reset), refuse new ones
// (an API server that is down), or stall the live ones (they stay open and carry nothing: the
// half-open link a NAT or firewall leaves behind, which only a client-side deadline notices,
// while new connections still get through). TLS passes through untouched: the API server's
// certificate names 127.0.0.1, which is where the proxy listens too.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

interface Link {
  client: Socket;
  upstream: Socket;
}

export class TcpProxy {
  private readonly server: Server;
  private readonly target: { host: string; port: number };
  private readonly links = new Set<Link>();
  private refusing = false;

  private constructor(server: Server, target: { host: string; port: number }) {
    this.server = server;
    this.target = target;
    server.on('connection', (client) => this.onConnection(client));
  }

  /** Listens on 127.0.0.1 (an ephemeral port) and forwards to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, target);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  /** A proxy in front of the current cluster of `kubeConfig`. */
  static forKubeConfig(kubeConfig: KubeConfig): Promise<TcpProxy> {
    const server = kubeConfig.getCurrentCluster()?.server;
    if (server === undefined) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(server);
    return TcpProxy.start({ host: url.hostname, port: Number(url.port || 443) });
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy is not listening');
    return address.port;
  }

  /** A copy of `kubeConfig` whose current cluster is reached through this proxy. */
  kubeConfig(kubeConfig: KubeConfig): KubeConfig {
    const current = kubeConfig.getCurrentCluster();
    const copy = new KubeConfig();
    copy.loadFromOptions({
      clusters: kubeConfig.clusters.map((cluster) =>
        cluster.name === current?.name ? { ...cluster, server: `https://127.0.0.1:${this.port}` } : cluster,
      ),
      users: kubeConfig.users,
      contexts: kubeConfig.contexts,
      currentContext: kubeConfig.currentContext,
    });
    return copy;
  }

  /** Resets every live connection (both sides), as a network failure would. */
  sever(): void {
    for (const link of this.links) this.drop(link);
  }

  /** New connections are reset at once until allow(). */
  refuse(): void {
    this.refusing = true;
  }

  allow(): void {
    this.refusing = false;
  }

  /** The live connections stay open but carry nothing more, either way, until severed; new ones work. */
  stall(): void {
    for (const link of this.links) {
      link.client.unpipe();
      link.upstream.unpipe();
      link.client.pause();
      link.upstream.pause();
    }
  }

  async close(): Promise<void> {
    this.sever();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(client: Socket): void {
    if (this.refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(this.target.port, this.target.host);
    const link: Link = { client, upstream };
    this.links.add(link);
    client.on('error', () => this.drop(link));
    client.on('close', () => this.drop(link));
    upstream.on('error', () => this.drop(link));
    upstream.on('close', () => this.drop(link));
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private drop(link: Link): void {
    if (!this.links.delete(link)) return;
    if (!link.client.destroyed) link.client.resetAndDestroy();
    if (!link.upstream.destroyed) link.upstream.resetAndDestroy();
  }
}
