// Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules, so only one
// replica reconciles (two would post the same job twice).
//
// - A candidate takes the Lease when it is free (no holder, or released) or expired. Expired is
//   judged by the candidate's own monotonic clock: the holder's record must stay unchanged for
//   leaseDurationSeconds from when this process first saw it. Comparing the holder's renewTime
//   with the local wall clock would trust two clocks to agree; observing locally does not.
// - Every write carries the resourceVersion read just before (optimistic concurrency): of two
//   candidates racing for a free Lease, the API server lets exactly one win.
// - The leader renews every retryPeriod and stops considering itself leader once renewDeadline
//   has passed since its last successful renewal — before any follower can consider the Lease
//   expired (renewDeadline < leaseDuration), so two leaders never overlap.
// - After losing leadership the elector does not campaign again: reconciles of the old term may
//   still be running, so (like controller-runtime) the process should stop and start afresh.
// - On shutdown the leader releases the Lease (no holder, 1 s duration) so a successor takes
//   over at once instead of waiting out the lease.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { KubeApi, describeError, formatMicroTime, hasStatus, preciseNow } from './kube-api.ts';

export interface LeaderElectionOptions {
  namespace: string;
  /** The Lease's name (the operator's --leader-election-id). */
  name: string;
  /** Defaults to hostname_uuid: unique even for two processes on one host. */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading?: () => void;
  /** Called once when leadership ends: lost (renewals failed) or released by stop(). */
  onStoppedLeading?: () => void;
  /** Called when the observed holder changes (including to this identity). */
  onNewLeader?: (identity: string) => void;
}

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

// client-go's JitterFactor: candidates retry after retryPeriod × [1, 2.2) so they do not collide
const ACQUIRE_JITTER = 1.2;

export class LeaderElector {
  readonly identity: string;
  private readonly api: KubeApi;
  private readonly log: Logger;
  private readonly options: LeaderElectionOptions;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly leasePath: string;
  private readonly stopping = new AbortController();
  private observed: { spec: string; at: number; holder: string } | undefined;
  private leading = false;
  private lastRenewAt = 0;
  private running: Promise<void> | undefined;

  constructor(kubeConfig: KubeConfig, log: Logger, options: LeaderElectionOptions) {
    this.options = options;
    this.identity = options.identity ?? `${hostname()}_${randomUUID()}`;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (this.leaseDurationMs <= this.renewDeadlineMs) {
      throw new Error(
        `leader election: the lease duration (${this.leaseDurationMs} ms) must exceed the renew deadline (${this.renewDeadlineMs} ms)`,
      );
    }
    if (this.renewDeadlineMs <= this.retryPeriodMs * ACQUIRE_JITTER) {
      throw new Error(
        `leader election: the renew deadline (${this.renewDeadlineMs} ms) must exceed ${ACQUIRE_JITTER} × the retry period (${this.retryPeriodMs} ms)`,
      );
    }
    if (this.leaseDurationMs < 1000) throw new Error('leader election: the lease duration is whole seconds in the Lease: at least 1 s');
    this.api = new KubeApi(kubeConfig);
    this.log = log.child({ lease: `${options.namespace}/${options.name}`, identity: this.identity });
    this.leasePath = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(options.namespace)}/leases/${encodeURIComponent(options.name)}`;
  }

  /** True while this process holds a Lease it renewed within the renew deadline. */
  isLeader(): boolean {
    return this.leading && performance.now() - this.lastRenewAt < this.renewDeadlineMs;
  }

  /**
   * Campaigns until elected, then renews until leadership is lost or stop() is called; resolves
   * when that term is over (or when stopped before being elected). Never rejects: API errors are
   * retried.
   */
  run(): Promise<void> {
    this.running ??= this.campaignAndLead();
    return this.running;
  }

  /** Stops campaigning or renewing and, if leading, releases the Lease. */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('leader election stopped'));
    await this.running;
  }

  private async campaignAndLead(): Promise<void> {
    const stop = this.stopping.signal;
    this.log.info('waiting to acquire the leader Lease');
    while (!stop.aborted && !(await this.tryAcquireOrRenew(this.retryPeriodMs))) {
      await this.pause(this.retryPeriodMs * (1 + Math.random() * ACQUIRE_JITTER));
    }
    if (stop.aborted) return;
    this.leading = true;
    this.log.info('acquired the leader Lease');
    this.safely('onStartedLeading', () => this.options.onStartedLeading?.());
    while (!stop.aborted) {
      await this.pause(this.retryPeriodMs);
      if (stop.aborted) break;
      const renewed = await this.renewWithinDeadline();
      if (stop.aborted) break;
      if (!renewed) {
        this.leading = false;
        this.log.error(`could not renew the leader Lease for ${this.renewDeadlineMs} ms: leadership lost`);
        this.safely('onStoppedLeading', () => this.options.onStoppedLeading?.());
        return;
      }
    }
    // no longer the leader from the moment the release is sent: a successor may start at once
    this.leading = false;
    await this.release();
    this.safely('onStoppedLeading', () => this.options.onStoppedLeading?.());
  }

  /** Retries every retryPeriod until a renewal succeeds or renewDeadline has passed since the last one. */
  private async renewWithinDeadline(): Promise<boolean> {
    for (;;) {
      const remaining = this.lastRenewAt + this.renewDeadlineMs - performance.now();
      if (remaining <= 0 || this.stopping.signal.aborted) return false;
      if (await this.tryAcquireOrRenew(remaining)) return true;
      await this.pause(Math.min(this.retryPeriodMs, remaining));
    }
  }

  /** One round of client-go's tryAcquireOrRenew, all of it within `timeoutMs`. True when this identity holds the Lease now. */
  private async tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const request = { signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs)))]) };
    const now = formatMicroTime(preciseNow());
    try {
      const lease = await this.api.request<Lease>('GET', this.leasePath, request).catch((err: unknown) => {
        if (hasStatus(err, 404)) return undefined;
        throw err;
      });
      if (lease === undefined) {
        const created = await this.api.request<Lease>('POST', this.leasePath.slice(0, this.leasePath.lastIndexOf('/')), {
          ...request,
          body: this.lease({
            holderIdentity: this.identity,
            leaseDurationSeconds: this.leaseSeconds(),
            acquireTime: now,
            renewTime: now,
            leaseTransitions: 0,
          }),
        });
        this.renewed(created);
        return true;
      }
      const record = lease.spec ?? {};
      this.observe(record);
      const holder = record.holderIdentity ?? '';
      if (holder !== '' && holder !== this.identity && !this.observedExpired(record)) return false;
      const keep = holder === this.identity;
      const updated = await this.api.request<Lease>('PUT', this.leasePath, {
        ...request,
        body: this.lease(
          {
            holderIdentity: this.identity,
            leaseDurationSeconds: this.leaseSeconds(),
            acquireTime: keep ? (record.acquireTime ?? now) : now,
            renewTime: now,
            leaseTransitions: (record.leaseTransitions ?? 0) + (keep ? 0 : 1),
          },
          lease.metadata.resourceVersion,
        ),
      });
      this.renewed(updated);
      return true;
    } catch (err) {
      // 409: another candidate wrote first (or created the Lease first); anything else is retried.
      // A candidate failing is routine; a leader failing to renew is worth seeing.
      if (!this.stopping.signal.aborted)
        this.log[this.leading ? 'warn' : 'debug']({ err: describeError(err) }, 'leader Lease round failed');
      return false;
    }
  }

  /** Gives the Lease up so a successor need not wait out the lease duration. */
  private async release(): Promise<void> {
    const request = { timeoutMs: this.renewDeadlineMs };
    try {
      // read again: a renewal aborted by stop() may still have landed and moved the version on
      const lease = await this.api.request<Lease>('GET', this.leasePath, request);
      if (lease.spec?.holderIdentity !== this.identity) return;
      const now = formatMicroTime(preciseNow());
      await this.api.request<Lease>('PUT', this.leasePath, {
        ...request,
        body: this.lease(
          {
            holderIdentity: '',
            leaseDurationSeconds: 1,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: lease.spec.leaseTransitions ?? 0,
          },
          lease.metadata.resourceVersion,
        ),
      });
      this.log.info('released the leader Lease');
    } catch (err) {
      this.log.warn({ err: describeError(err) }, 'could not release the leader Lease; a successor waits for it to expire');
    }
  }

  private lease(spec: LeaseSpec, resourceVersion?: string): Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.options.name,
        namespace: this.options.namespace,
        ...(resourceVersion === undefined ? {} : { resourceVersion }),
      },
      spec,
    };
  }

  private leaseSeconds(): number {
    return Math.round(this.leaseDurationMs / 1000);
  }

  private renewed(lease: Lease): void {
    this.observe(lease.spec ?? {});
    this.lastRenewAt = performance.now();
  }

  /** Remembers when (by the local clock) the record last changed, and who holds it. */
  private observe(record: LeaseSpec): void {
    const spec = JSON.stringify([
      record.holderIdentity ?? '',
      record.leaseDurationSeconds ?? 0,
      record.acquireTime ?? '',
      record.renewTime ?? '',
      record.leaseTransitions ?? 0,
    ]);
    if (this.observed?.spec === spec) return;
    const holder = record.holderIdentity ?? '';
    const holderChanged = this.observed?.holder !== holder;
    this.observed = { spec, at: performance.now(), holder };
    if (holderChanged && holder !== '') {
      this.log.info({ holder }, 'new leader observed');
      this.safely('onNewLeader', () => this.options.onNewLeader?.(holder));
    }
  }

  private observedExpired(record: LeaseSpec): boolean {
    if (this.observed === undefined) return false;
    return performance.now() >= this.observed.at + (record.leaseDurationSeconds ?? 0) * 1000;
  }

  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }

  private safely(name: string, callback: () => void): void {
    try {
      callback();
    } catch (err) {
      this.log.error({ err }, `leader election ${name} callback threw`);
    }
  }
}
