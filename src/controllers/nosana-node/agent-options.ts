// The node agent's own settings: how often it looks, when it gives up, and the containment every
// job gets. They come from the `nosana-operator node` flags (and so from Helm values), never from a
// NosanaNode: whoever may edit a NosanaNode must not be able to loosen what a job may do.
import type { ResourceLimits } from '../../executor/settings.ts';

/** What bounds every job the agent runs, whatever a NosanaNode's spec says. */
export interface Containment {
  /** Egress job Pods may never reach (the executor's deniedCidrs). */
  deniedCidrs: string[];
  /** The most a NosanaNode's spec.limits may give a job container; a spec above it is refused by a condition. */
  ceilings?: Partial<ResourceLimits>;
  /** The image holding the operator's CLI, whose `download` subcommand fills resource caches. */
  operatorImage: string;
  /** Size of each job volume and resource cache. */
  volumeSize: string;
  /** The namespace of the ingress controller or gateway proxies that carry exposed traffic to job Pods. */
  exposureNamespace?: string;
  /** The agent's own Pods (their namespace and labels), admitted to job Pods for the health checks probes cannot express. */
  agentPods?: { namespace: string; podLabels: Record<string, string> };
}

/** How the agent paces itself and when it gives a job up (decision.ts's NodeSettings, less the clock). */
export interface NodeTimings {
  /** How often a queued or running node looks at the chain. */
  pollIntervalMs: number;
  /** How often conditions that raise no Kubernetes event (stake, market, access key) are looked at again. */
  recheckMs: number;
  /** How long a sent `work` may take to show before another is sent; also how long a fresh agent waits before its first. */
  joinSettleMs: number;
  /** How long to wait before fetching a definition again after a failed fetch. */
  startRetryMs: number;
  /** After this many signed versions of one ending failed on chain, the node stops and says so. */
  maxEndingFailures: number;
  /** Below this many lamports a node does not join. */
  lowBalanceLamports: bigint;
  /** How long a job's Pods may stay unschedulable before the job is quit (the executor's scheduling bound). */
  unschedulableMs: number;
}

export const DEFAULT_NODE_TIMINGS: NodeTimings = {
  pollIntervalMs: 5_000,
  recheckMs: 60_000,
  // Longer than a blockhash lives (about 60 to 90 s): a `work` sent before a crash has landed or
  // expired by the time a fresh agent may send another.
  joinSettleMs: 90_000,
  startRetryMs: 15_000,
  maxEndingFailures: 5,
  // 0.01 SOL: a run account's rent and a few fees.
  lowBalanceLamports: 10_000_000n,
  unschedulableMs: 5 * 60_000,
};
