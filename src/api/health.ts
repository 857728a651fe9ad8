// What each phase of each resource means to the tools people watch it with: the
// conditions the operator sets, the kstatus result (Flux, `kubectl wait`, kpt, cli-utils)
// and the Argo CD health that deploy/argocd/*.lua computes. The controllers set conditions
// from this table and the tests hold the table, the kstatus rules and the Lua scripts to it.

import type { NosanaKind } from './crds/crd.ts';

export type ConditionType = 'Ready' | 'Posted' | 'Completed' | 'Failed' | 'Reconciling' | 'Stalled';
export type ConditionStatus = 'True' | 'False';
export type KstatusResult = 'InProgress' | 'Current' | 'Failed' | 'Terminating';
export type ArgoHealth = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended';

export interface HealthRow {
  kind: NosanaKind;
  /** status.phase (NosanaMarket has none) */
  phase?: string;
  /** the Ready condition's reason, which tells states of one phase apart */
  reason: string;
  when: string;
  conditions: Partial<Record<ConditionType, ConditionStatus>>;
  kstatus: KstatusResult;
  argo: ArgoHealth;
  /** nothing more will happen: the operator stops reconciling it */
  terminal: boolean;
}

const ended = { Posted: 'True', Completed: 'True', Reconciling: 'False' } as const;

export const HEALTH_TABLE: readonly HealthRow[] = [
  // --- NosanaJob ---------------------------------------------------------------------------
  {
    kind: 'NosanaJob',
    phase: 'Pending',
    reason: 'Pending',
    when: 'resolving the definition, market and wallet before posting',
    conditions: { Ready: 'False', Posted: 'False', Completed: 'False', Failed: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Progressing',
    terminal: false,
  },
  {
    kind: 'NosanaJob',
    phase: 'Pending',
    reason: 'InvalidDefinition',
    when: 'the definition fails validation; nothing was pinned or spent; editing the spec retries',
    conditions: { Ready: 'False', Posted: 'False', Completed: 'False', Failed: 'False', Reconciling: 'False', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaJob',
    phase: 'Pending',
    reason: 'OverBudget',
    when: 'price × timeout exceeds maxCost; nothing was spent',
    conditions: { Ready: 'False', Posted: 'False', Completed: 'False', Failed: 'False', Reconciling: 'False', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaJob',
    phase: 'Pending',
    reason: 'InsufficientFunds',
    when: 'the wallet lacks SOL or NOS; retried with backoff until funded',
    conditions: { Ready: 'False', Posted: 'False', Completed: 'False', Failed: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaJob',
    phase: 'Pending',
    reason: 'MarketQueueFull',
    when: 'the market cannot take another job now; retried later',
    conditions: { Ready: 'False', Posted: 'False', Completed: 'False', Failed: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Progressing',
    terminal: false,
  },
  {
    kind: 'NosanaJob',
    phase: 'Pending',
    reason: 'MarketNotFound',
    when: 'the market (a NosanaMarket or an address) cannot be found or read yet; retried with backoff',
    conditions: { Ready: 'False', Posted: 'False', Completed: 'False', Failed: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaJob',
    phase: 'Pending',
    reason: 'WalletUnavailable',
    when: 'the wallet Secret is missing or malformed (the message names the Secret and key, never its content); retried with backoff',
    conditions: { Ready: 'False', Posted: 'False', Completed: 'False', Failed: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaJob',
    phase: 'Pending',
    reason: 'DefinitionUnavailable',
    when: 'the definitionFrom ConfigMap or key is missing; retried with backoff',
    conditions: { Ready: 'False', Posted: 'False', Completed: 'False', Failed: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaJob',
    phase: 'Pending',
    reason: 'SpendLimitReached',
    when: "posting would exceed the market's dailySpendLimit; retried when the rolling day allows",
    conditions: { Ready: 'False', Posted: 'False', Completed: 'False', Failed: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaJob',
    phase: 'Pending',
    reason: 'MarketDisabled',
    when: "the market's job type is 255 (disabled): the program would keep the deposit without queueing the job",
    conditions: { Ready: 'False', Posted: 'False', Completed: 'False', Failed: 'False', Reconciling: 'False', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaJob',
    phase: 'Pending',
    reason: 'PublicCredentials',
    when: 'the definition carries credentials and would be pinned to public IPFS; set spec.allowPublicCredentials to accept',
    conditions: { Ready: 'False', Posted: 'False', Completed: 'False', Failed: 'False', Reconciling: 'False', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaJob',
    phase: 'Pending',
    reason: 'WalletNotAllowed',
    when: "the market's default wallet does not serve this namespace (allowedNamespaces)",
    conditions: { Ready: 'False', Posted: 'False', Completed: 'False', Failed: 'False', Reconciling: 'False', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaJob',
    phase: 'Posting',
    reason: 'Posting',
    when: 'the post transaction is recorded and broadcast, awaiting confirmation',
    conditions: { Ready: 'False', Posted: 'False', Completed: 'False', Failed: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Progressing',
    terminal: false,
  },
  {
    kind: 'NosanaJob',
    phase: 'Posting',
    reason: 'PostOutcomeUnknown',
    when: 'the RPC cannot tell whether the post landed; a person must confirm before anything is re-posted',
    conditions: { Ready: 'False', Posted: 'False', Completed: 'False', Failed: 'False', Reconciling: 'False', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Suspended',
    terminal: false,
  },
  {
    kind: 'NosanaJob',
    phase: 'Queued',
    reason: 'Queued',
    when: 'posted, waiting in the market queue for a node',
    conditions: { Ready: 'False', Posted: 'True', Completed: 'False', Failed: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Progressing',
    terminal: false,
  },
  {
    kind: 'NosanaJob',
    phase: 'Running',
    reason: 'Running',
    when: 'a node runs the job (a batch job: no exposed ports)',
    conditions: { Ready: 'False', Posted: 'True', Completed: 'False', Failed: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Progressing',
    terminal: false,
  },
  {
    kind: 'NosanaJob',
    phase: 'Running',
    reason: 'ServiceRunning',
    when: 'a node runs the job and it exposes ports: the service is up, which is what was asked for',
    conditions: { Ready: 'True', Posted: 'True', Completed: 'False', Failed: 'False', Reconciling: 'False', Stalled: 'False' },
    kstatus: 'Current',
    argo: 'Healthy',
    terminal: false,
  },
  {
    kind: 'NosanaJob',
    phase: 'Succeeded',
    reason: 'Succeeded',
    when: 'the job ended and every op succeeded',
    conditions: { Ready: 'True', ...ended, Failed: 'False', Stalled: 'False' },
    kstatus: 'Current',
    argo: 'Healthy',
    terminal: true,
  },
  {
    kind: 'NosanaJob',
    phase: 'Failed',
    reason: 'OpFailed',
    when: 'the job ended with an op or the flow failed (the message names the op and exit code)',
    conditions: { Ready: 'False', ...ended, Failed: 'True', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Degraded',
    terminal: true,
  },
  {
    kind: 'NosanaJob',
    phase: 'Stopped',
    reason: 'Stopped',
    when: 'the job was stopped before it finished (ended by the poster, quit by the node, or expired)',
    conditions: { Ready: 'False', ...ended, Failed: 'False', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Degraded',
    terminal: true,
  },

  {
    kind: 'NosanaJob',
    phase: 'Failed',
    reason: 'NoResult',
    when: 'the job was ended without a result: its node went silent past the timeout, or no result arrived within the wait',
    conditions: { Ready: 'False', ...ended, Failed: 'True', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Degraded',
    terminal: true,
  },
  {
    kind: 'NosanaJob',
    phase: 'Stopped',
    reason: 'NodeQuit',
    when: 'the node quit the job and no retries are left (spec.retries)',
    conditions: { Ready: 'False', ...ended, Failed: 'False', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Degraded',
    terminal: true,
  },
  {
    kind: 'NosanaJob',
    phase: 'Stopped',
    reason: 'QueueTimeout',
    when: 'no node took the job within spec.queueTimeout; it was delisted and the deposit refunded',
    conditions: { Ready: 'False', ...ended, Failed: 'False', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Degraded',
    terminal: true,
  },
  {
    kind: 'NosanaJob',
    phase: 'Stopped',
    reason: 'PriceAboveMaxCost',
    when: 'the market price changed before the post landed so the job would cost more than maxCost; it was delisted at once',
    conditions: { Ready: 'False', ...ended, Failed: 'False', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Degraded',
    terminal: true,
  },
  {
    kind: 'NosanaJob',
    phase: 'Stopped',
    reason: 'Cancelled',
    when: 'the job was delisted or ended outside this resource (by its wallet through another tool)',
    conditions: { Ready: 'False', ...ended, Failed: 'False', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Degraded',
    terminal: true,
  },

  // --- NosanaMarket ------------------------------------------------------------------------
  {
    kind: 'NosanaMarket',
    reason: 'Refreshing',
    when: 'the market account has not been read yet',
    conditions: { Ready: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Progressing',
    terminal: false,
  },
  {
    kind: 'NosanaMarket',
    reason: 'Synced',
    when: 'the status mirrors the market account as last read',
    conditions: { Ready: 'True', Reconciling: 'False', Stalled: 'False' },
    kstatus: 'Current',
    argo: 'Healthy',
    terminal: false,
  },
  {
    kind: 'NosanaMarket',
    reason: 'RpcUnavailable',
    when: 'the RPC does not answer; retried with backoff, the last values stay',
    conditions: { Ready: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaMarket',
    reason: 'DirectoryUnavailable',
    when: 'the market directory that resolves the slug does not answer; retried with backoff',
    conditions: { Ready: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaMarket',
    reason: 'SettingsInvalid',
    when: 'a Secret or ConfigMap the network settings name is missing or malformed, or a Secret whose content would be sent lacks the label nosana.io/use for that use (the message names it); retried with backoff',
    conditions: { Ready: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaMarket',
    reason: 'MarketNotFound',
    when: 'no market account at the address, or the slug is unknown on the network',
    conditions: { Ready: 'False', Reconciling: 'False', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Degraded',
    terminal: false,
  },

  // --- NosanaNode --------------------------------------------------------------------------
  {
    kind: 'NosanaNode',
    phase: 'Idle',
    reason: 'Joining',
    when: 'checking the key, stake and market before entering the queue',
    conditions: { Ready: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Progressing',
    terminal: false,
  },
  {
    kind: 'NosanaNode',
    phase: 'Idle',
    reason: 'LowBalance',
    when: "the node holds too little SOL for a run's rent and fees; it joins once someone sends it SOL",
    conditions: { Ready: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaNode',
    phase: 'Idle',
    reason: 'NoCapacity',
    when: 'the cluster has no room for one more job of this node now (its GPUs taken or unschedulable); out of the queue until it has',
    conditions: { Ready: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Progressing',
    terminal: false,
  },
  {
    kind: 'NosanaNode',
    phase: 'Idle',
    reason: 'Paused',
    when: 'spec.paused: not queued, taking no jobs',
    conditions: { Ready: 'True', Reconciling: 'False', Stalled: 'False' },
    kstatus: 'Current',
    argo: 'Suspended',
    terminal: false,
  },
  {
    kind: 'NosanaNode',
    phase: 'Queued',
    reason: 'Queued',
    when: 'in the market queue, waiting for a job',
    conditions: { Ready: 'True', Reconciling: 'False', Stalled: 'False' },
    kstatus: 'Current',
    argo: 'Healthy',
    terminal: false,
  },
  {
    kind: 'NosanaNode',
    phase: 'Running',
    reason: 'Running',
    when: 'running a job',
    conditions: { Ready: 'True', Reconciling: 'False', Stalled: 'False' },
    kstatus: 'Current',
    argo: 'Healthy',
    terminal: false,
  },
  {
    kind: 'NosanaNode',
    phase: 'Draining',
    reason: 'Draining',
    when: 'paused or deleted while running: finishing the current job, then leaving the queue',
    conditions: { Ready: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Progressing',
    terminal: false,
  },
  {
    kind: 'NosanaNode',
    phase: 'Error',
    reason: 'KeyUnavailable',
    when: 'the key Secret is missing or malformed (the message names the Secret and key, never its content): the node signs nothing new (an ending signed before is still sent)',
    conditions: { Ready: 'False', Reconciling: 'False', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaNode',
    phase: 'Error',
    reason: 'MarketUnavailable',
    when: 'the market cannot be found, or is disabled (job type 255) and queues no node; looked at again now and then',
    conditions: { Ready: 'False', Reconciling: 'False', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaNode',
    phase: 'Error',
    reason: 'StakeBelowMinimum',
    when: "the node's xNOS stake is below the market's nodeXnosMinimum; looked at again now and then",
    conditions: { Ready: 'False', Reconciling: 'False', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaNode',
    phase: 'Error',
    reason: 'AccessKeyRequired',
    when: 'the market admits only nodes holding an access key of its collection, which this agent does not check or present yet, so the node does not join; looked at again now and then',
    conditions: { Ready: 'False', Reconciling: 'False', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaNode',
    phase: 'Error',
    reason: 'PlacementRefused',
    when: "the agent's containment refuses this node's jobs: spec.pods.namespace is not a namespace an administrator marked for jobs, or spec.limits exceed the agent's ceilings; looked at again now and then",
    conditions: { Ready: 'False', Reconciling: 'False', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaNode',
    phase: 'Error',
    reason: 'EndingFailed',
    when: "signed versions of a run's ending (finish, complete or quit) failed on chain too often; none is sent until a person looks (the run's record keeps the last)",
    conditions: { Ready: 'False', Reconciling: 'False', Stalled: 'True' },
    kstatus: 'Failed',
    argo: 'Degraded',
    terminal: false,
  },
];

export function healthRow(kind: HealthRow['kind'], phase: string | undefined, reason: string): HealthRow | undefined {
  return HEALTH_TABLE.find((row) => row.kind === kind && row.phase === phase && row.reason === reason);
}

interface ObjectWithConditions {
  metadata?: { generation?: number; deletionTimestamp?: string | Date };
  status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] };
}

/**
 * kstatus' generic rules for a custom resource (kubernetes-sigs/cli-utils pkg/kstatus):
 * deletion → Terminating; an unobserved generation → InProgress; Reconciling=True →
 * InProgress; Stalled=True → Failed; otherwise Current. Ready is not consulted, which is
 * why the operator maintains Reconciling and Stalled beside it.
 */
export function kstatusOf(object: ObjectWithConditions): KstatusResult {
  if (object.metadata?.deletionTimestamp) return 'Terminating';
  const generation = object.metadata?.generation;
  const observed = object.status?.observedGeneration;
  if (generation !== undefined && observed !== undefined && observed !== generation) return 'InProgress';
  const conditions = object.status?.conditions ?? [];
  if (conditions.some((c) => c.type === 'Reconciling' && c.status === 'True')) return 'InProgress';
  if (conditions.some((c) => c.type === 'Stalled' && c.status === 'True')) return 'Failed';
  return 'Current';
}

const CONDITION_COLUMNS: ConditionType[] = ['Ready', 'Posted', 'Completed', 'Failed', 'Reconciling', 'Stalled'];

/** The table as Markdown, for docs/conditions.md. */
export function healthTableMarkdown(kind: NosanaKind): string {
  const rows = HEALTH_TABLE.filter((row) => row.kind === kind);
  const columns = CONDITION_COLUMNS.filter((c) => rows.some((row) => row.conditions[c] !== undefined));
  const header = ['phase', 'Ready reason', ...columns, 'kstatus', 'Argo CD', 'terminal', 'when'];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const row of rows) {
    lines.push(
      `| ${[row.phase ?? '–', row.reason, ...columns.map((c) => row.conditions[c] ?? '–'), row.kstatus, row.argo, row.terminal ? 'yes' : 'no', row.when].join(' | ')} |`,
    );
  }
  return lines.join('\n') + '\n';
}
