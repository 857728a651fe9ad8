// The Kubernetes side of end-to-end NosanaJob tests: a namespace with the nosana.io APIs, wallet
// Secrets, NosanaMarkets for markets of the test's own on the localnet, NosanaJob builders, and
// waits on what a user watches (phase, Ready reason, `kubectl wait --for=condition=…`).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventsV1Event, KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { EventsV1Api, PatchStrategy } from '@kubernetes/client-node';
import type { Keypair, PublicKey } from '@solana/web3.js';
import type { z } from 'zod';
import type { NosanaJobPhase, NosanaJobStatus, nosanaJobSpec } from '../../src/api/crds/nosana-job.ts';
import type { NosanaMarketStatus, nosanaMarketSpec } from '../../src/api/crds/nosana-market.ts';
import { serializeWallet } from '../../src/chain/wallet.ts';
import type { Localnet } from '../../src/localnet/localnet.ts';
import { REPO_ROOT } from '../../src/local-cluster/binaries.ts';
import type { ClusterContext } from './fixture.ts';
import { kubectl, type KubectlResult } from './kubectl.ts';
import { fundedWallet, openTestMarket, readLedger, type Funding, type LedgerReading, type TestMarketSettings } from './nosana-ledger.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';

export const NOSANA_API_VERSION = 'nosana.io/v1alpha1';
export const WALLET_KEY = 'keypair';

/** What a test writes: defaulted fields may be left out. */
export type NosanaJobSpecInput = z.input<typeof nosanaJobSpec>;
export type NosanaMarketSpecInput = z.input<typeof nosanaMarketSpec>;

export interface NosanaJobResource extends KubernetesObject {
  spec: NosanaJobSpecInput;
  status?: NosanaJobStatus;
}

export interface NosanaMarketResource extends KubernetesObject {
  spec: NosanaMarketSpecInput;
  status?: NosanaMarketStatus;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export function nosanaJob(namespace: string, name: string, spec: NosanaJobSpecInput): NosanaJobResource {
  return { apiVersion: NOSANA_API_VERSION, kind: 'NosanaJob', metadata: { name, namespace }, spec };
}

export function nosanaMarket(namespace: string, name: string, spec: NosanaMarketSpecInput): NosanaMarketResource {
  return { apiVersion: NOSANA_API_VERSION, kind: 'NosanaMarket', metadata: { name, namespace }, spec };
}

/** A wallet Secret as users create one from a Solana CLI keypair file. */
export function walletSecret(namespace: string, name: string, wallet: Keypair): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'Opaque',
    stringData: { [WALLET_KEY]: serializeWallet(wallet) },
  };
}

/** A job definition kept under test/fixtures (copied from Nosana's documentation). */
export async function definitionFixture(file: string): Promise<NonNullable<NosanaJobSpecInput['definition']>> {
  return JSON.parse(await readFile(join(REPO_ROOT, 'test', 'fixtures', file), 'utf8')) as NonNullable<NosanaJobSpecInput['definition']>;
}

/** A one-op definition running `cmd` in ubuntu. */
export function simpleDefinition(id = 'main', cmd = 'echo hello'): NonNullable<NosanaJobSpecInput['definition']> {
  return { version: '0.1', type: 'container', ops: [{ id, type: 'container/run', args: { image: 'ubuntu:24.04', cmd } }] };
}

export function conditionOf(object: { status?: { conditions?: readonly Condition[] } } | undefined, type: string): Condition | undefined {
  return object?.status?.conditions?.find((condition) => condition.type === type);
}

/** One line saying where a job is, for waits and assertion messages. */
export function describeJob(job: NosanaJobResource | undefined): string {
  if (job === undefined) return 'the NosanaJob does not exist';
  const ready = conditionOf(job, 'Ready');
  return `phase ${job.status?.phase ?? '(none)'}, Ready=${ready?.status ?? '?'} reason ${ready?.reason ?? '?'}: ${ready?.message ?? ''}`;
}

/** What a test starts from: a market and a wallet of its own, and the ledger before anything happened. */
export interface Stage {
  /** The NosanaMarket's name (spec.market of the test's jobs). */
  marketName: string;
  market: PublicKey;
  wallet: Keypair;
  walletSecretRef: { name: string; key: string };
  before: LedgerReading;
}

/** A namespace of one test file, with the helpers that create and watch its Nosana objects. */
export class NosanaNamespace {
  readonly ctx: ClusterContext;
  readonly localnet: Localnet;
  readonly name: string;

  constructor(ctx: ClusterContext, localnet: Localnet, name: string) {
    this.ctx = ctx;
    this.localnet = localnet;
    this.name = name;
  }

  #header(kind: 'NosanaJob' | 'NosanaMarket', name: string) {
    return { apiVersion: NOSANA_API_VERSION, kind, metadata: { name, namespace: this.name } };
  }

  /**
   * Opens a market of its own on the localnet and mirrors it as a NosanaMarket; waits until the
   * controller has read it (Ready=True) unless the market is not meant to be usable.
   */
  async market(
    name: string,
    options: { settings?: TestMarketSettings; spec?: Partial<NosanaMarketSpecInput>; waitReady?: boolean } = {},
  ): Promise<PublicKey> {
    const address = await openTestMarket(this.localnet, options.settings);
    await this.ctx.objects.create(nosanaMarket(this.name, name, { address: address.toBase58(), network: 'localnet', ...options.spec }));
    if (options.waitReady ?? true) {
      await waitFor(
        async () => {
          const market = await this.ctx.objects.read<NosanaMarketResource>(this.#header('NosanaMarket', name));
          const ready = conditionOf(market, 'Ready');
          if (ready?.status === 'True') return true;
          throw new Error(`Ready=${ready?.status ?? '?'} ${ready?.reason ?? ''} ${ready?.message ?? ''}`);
        },
        { what: `NosanaMarket ${this.name}/${name} to be Ready`, timeoutMs: 60_000, intervalMs: 200 },
      );
    }
    return address;
  }

  /** A NosanaMarket `name` on a market of its own, and a funded wallet in Secret `<name>-wallet`. */
  async stage(
    name: string,
    options: { settings?: TestMarketSettings; spec?: Partial<NosanaMarketSpecInput>; funding?: Funding } = {},
  ): Promise<Stage> {
    const market = await this.market(name, {
      ...(options.settings === undefined ? {} : { settings: options.settings }),
      ...(options.spec === undefined ? {} : { spec: options.spec }),
    });
    const walletName = `${name}-wallet`;
    const wallet = await this.wallet(walletName, options.funding);
    const before = await readLedger(this.localnet, { poster: wallet.publicKey, market });
    return { marketName: name, market, wallet, walletSecretRef: { name: walletName, key: WALLET_KEY }, before };
  }

  /** A funded wallet of its own, stored as a Secret (Solana CLI JSON array under key "keypair"). */
  async wallet(secretName: string, funding: Funding = { sol: 1n, nos: 10_000_000n }): Promise<Keypair> {
    const wallet = fundedWallet(this.localnet, funding);
    await this.ctx.core.createNamespacedSecret({ namespace: this.name, body: walletSecret(this.name, secretName, wallet) });
    return wallet;
  }

  /** A Secret with arbitrary content (e.g. a malformed wallet). */
  async secret(name: string, stringData: Record<string, string>): Promise<void> {
    await this.ctx.core.createNamespacedSecret({ namespace: this.name, body: { metadata: { name }, stringData } });
  }

  async createJob(name: string, spec: NosanaJobSpecInput): Promise<NosanaJobResource> {
    return this.ctx.objects.create(nosanaJob(this.name, name, spec));
  }

  async job(name: string): Promise<NosanaJobResource | undefined> {
    try {
      return await this.ctx.objects.read<NosanaJobResource>(this.#header('NosanaJob', name));
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
  }

  /** A JSON merge patch of the NosanaJob (spec edits as `kubectl patch --type=merge` makes them). */
  async patchJob(
    name: string,
    patch: { spec?: Partial<NosanaJobSpecInput>; metadata?: { annotations?: Record<string, string | null> } },
  ): Promise<NosanaJobResource> {
    return this.ctx.objects.patch(
      {
        apiVersion: NOSANA_API_VERSION,
        kind: 'NosanaJob',
        metadata: { name, namespace: this.name, ...patch.metadata },
        ...(patch.spec === undefined ? {} : { spec: patch.spec }),
      } as NosanaJobResource,
      undefined,
      undefined,
      undefined,
      undefined,
      PatchStrategy.MergePatch,
    );
  }

  async deleteJob(name: string): Promise<void> {
    await this.ctx.objects.delete(this.#header('NosanaJob', name));
  }

  /** Waits until the NosanaJob satisfies `accept`; on timeout the message says where it stood. */
  async waitForJob(
    name: string,
    what: string,
    accept: (job: NosanaJobResource) => boolean,
    timeoutMs = 60_000,
  ): Promise<NosanaJobResource> {
    return waitFor(
      async () => {
        const job = await this.job(name);
        if (job !== undefined && accept(job)) return job;
        throw new Error(describeJob(job));
      },
      { what: `NosanaJob ${this.name}/${name} ${what}`, timeoutMs, intervalMs: 200 },
    );
  }

  /** Waits for a phase (and Ready reason, when given). */
  async waitForPhase(name: string, phase: NosanaJobPhase, reason?: string, timeoutMs = 60_000): Promise<NosanaJobResource> {
    return this.waitForJob(
      name,
      `to reach phase ${phase}${reason === undefined ? '' : ` with reason ${reason}`}`,
      (job) => job.status?.phase === phase && (reason === undefined || conditionOf(job, 'Ready')?.reason === reason),
      timeoutMs,
    );
  }

  async waitForJobGone(name: string, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      async () => {
        const job = await this.job(name);
        if (job === undefined) return true;
        throw new Error(`still there (finalizers ${JSON.stringify(job.metadata?.finalizers ?? [])}); ${describeJob(job)}`);
      },
      { what: `NosanaJob ${this.name}/${name} to be deleted`, timeoutMs, intervalMs: 200 },
    );
  }

  /** The reasons of the Events recorded about a NosanaJob, oldest first (what `kubectl describe` lists). */
  async eventReasons(name: string): Promise<string[]> {
    const events = await this.ctx.kubeConfig.makeApiClient(EventsV1Api).listNamespacedEvent({
      namespace: this.name,
      fieldSelector: `regarding.kind=NosanaJob,regarding.name=${name}`,
    });
    const time = (event: EventsV1Event) => new Date(event.eventTime ?? event.deprecatedFirstTimestamp ?? 0).getTime();
    return events.items.sort((a, b) => time(a) - time(b)).map((event) => event.reason ?? '?');
  }

  /** `kubectl wait --for=condition=<condition> nosanajob/<name>`, as a user scripts it. */
  kubectlWait(name: string, condition: string, timeoutSeconds = 60): Promise<KubectlResult> {
    return kubectl(this.ctx, [
      'wait',
      `--for=condition=${condition}`,
      `--timeout=${timeoutSeconds}s`,
      '-n',
      this.name,
      `nosanajob/${name}`,
    ]);
  }

  /**
   * End-of-file cleanup while the controller still runs: every NosanaJob is deleted (its chain job
   * cancelled by the finalizer); whatever is still held after the deadline loses its finalizers,
   * so a stopped controller never leaves the namespace stuck terminating.
   */
  async releaseJobs(timeoutMs = 30_000): Promise<string[]> {
    const list = await this.ctx.objects.list<NosanaJobResource>(NOSANA_API_VERSION, 'NosanaJob', this.name);
    await Promise.allSettled(list.items.map((job) => this.deleteJob(job.metadata!.name!)));
    const deadline = Date.now() + timeoutMs;
    let left = list.items.map((job) => job.metadata!.name!);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      left = (await this.ctx.objects.list<NosanaJobResource>(NOSANA_API_VERSION, 'NosanaJob', this.name)).items.map(
        (job) => job.metadata!.name!,
      );
    }
    for (const name of left) {
      await this.ctx.objects
        .patch(
          {
            apiVersion: NOSANA_API_VERSION,
            kind: 'NosanaJob',
            metadata: { name, namespace: this.name, finalizers: null },
          } as unknown as KubernetesObject,
          undefined,
          undefined,
          undefined,
          undefined,
          PatchStrategy.MergePatch,
        )
        .catch(() => undefined);
    }
    return left;
  }
}
