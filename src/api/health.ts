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
  /**
   * What to check or do on seeing this reason (Markdown: fields, Secrets and commands in code
   * spans), true to what the controller does next; "Nothing to do" for a state that is fine.
   */
  fix: string;
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
    fix: "Nothing to do: the operator is reading what the post needs and moves on within seconds. If it stays, the Ready message (`kubectl describe nosanajob NAME`) says why: a read that failed, or a post the chain refused or would refuse, which are retried with backoff; for `spec.jobAddress`, a job that does not exist on the market's network (check the address).",
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
    fix: 'The Ready message (`kubectl describe nosanajob NAME`) lists each problem with its path in the definition; `nosana-operator validate job.json` checks a file the same way. Fix `spec.definition` (the edit retries at once) or the ConfigMap `spec.definitionFrom` names (read again every 30 seconds). Nothing was pinned or spent.',
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
    fix: "The deposit, the market's price × `spec.timeout`, is more than `spec.maxCost`: raise `spec.maxCost` or lower `spec.timeout`; the edit retries at once (`kubectl get nosanamarket` shows the price per second). It is also checked again every 5 minutes, in case the price falls. Nothing was spent.",
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
    fix: "The message names the wallet's address and what it lacks: send it that SOL (rent and fees) and NOS (the deposit). The post is tried again with backoff, at most 5 minutes apart, until the wallet can pay. Nothing was spent.",
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
    fix: "Nothing to do: the market's job queue is at its capacity and the post is tried again every 30 seconds, as nodes take jobs. To go elsewhere, point `spec.market` at another market (possible until the post is recorded).",
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
    fix: "Check `spec.market`: the name of a NosanaMarket in the job's namespace (`kubectl get nosanamarkets -n NAMESPACE`) or a market address. A NosanaMarket that is not Ready has no address yet: its own reason says why (`kubectl describe nosanamarket NAME`). Retried with backoff; nothing was spent.",
    conditions: { Ready: 'False', Posted: 'False', Completed: 'False', Failed: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaJob',
    phase: 'Pending',
    reason: 'WalletUnavailable',
    when: 'the wallet Secret is missing or malformed, or the operator may not read it (the message names the Secret and key, never its content); retried with backoff',
    fix: "The message names the Secret and key. If it says the operator may not read it, an administrator opens the namespace to the controller (the chart's `controller.secretNamespaces`, or a RoleBinding of its `-secrets` ClusterRole). Otherwise create the Secret in the job's namespace (`kubectl create secret generic NAME --from-file=keypair=wallet.json`, holding a Solana CLI keypair or a base58 secret key), fix `spec.walletSecretRef.key` (default `keypair`), or, for a job that names no wallet, give its NosanaMarket a `spec.walletSecretRef`. Retried with backoff; nothing was spent.",
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
    fix: "Create the ConfigMap and key that `spec.definitionFrom.configMapKeyRef` names, in the job's namespace: `kubectl create configmap NAME --from-file=KEY=job.json`. Retried with backoff; nothing was spent.",
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
    fix: "This cluster's jobs have paid close to the NosanaMarket's `spec.dailySpendLimit` into the market in the last 24 hours. The message says when the post fits again, and it is tried then; to post sooner, raise the limit (`kubectl edit nosanamarket NAME`). A deposit larger than the limit on its own never fits: raise the limit or lower `spec.timeout`. If the message says the limit cannot be checked, the spend ledger ConfigMap `nosana-spend-…` in the NosanaMarket's namespace cannot be read (retried with backoff).",
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
    fix: 'The market is disabled on chain (job type 255): a post would lose its deposit. Point `spec.market` at another market; this one is looked at again every 5 minutes in case it is enabled. Nothing was spent.',
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
    fix: 'The message lists the paths of the credentials in the definition. Remove them, or set `spec.allowPublicCredentials: true` to publish them knowingly: anyone can read a pinned definition. This waits for a change of the NosanaJob: after fixing a `spec.definitionFrom` ConfigMap, change the NosanaJob (a label will do) to have it read again. Nothing was pinned or spent.',
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
    fix: "The job names no wallet, and the NosanaMarket whose default wallet would pay does not list the job's namespace in `spec.allowedNamespaces`. Set `spec.walletSecretRef` to a wallet Secret of the job's namespace, or have the market's owner add the namespace. Looked at again every 5 minutes; nothing was spent.",
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
    fix: 'Nothing to do: the signed post is recorded in the `nosana.io/pending-post` annotation and sent again, unchanged, until the chain confirms it or it can no longer land; it is never paid for twice. If it stays for minutes, the message says what cannot be read (usually the RPC).',
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
    fix: "Nothing moves until a person decides. Look up the job address in the message on the market's network (an explorer, or `solana account ADDRESS`). If it exists, run `kubectl annotate nosanajob/NAME nosana.io/confirm-post=landed` and the job is followed; only if you are certain it never landed, run `kubectl annotate nosanajob/NAME nosana.io/confirm-post=not-landed` and a new post is prepared (refused while the job account exists).",
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
    fix: "Nothing to do: the job waits in the market's queue for a node (`status.queuePosition`, 0 is next). With `spec.queueTimeout` set it is delisted, its deposit refunded, when no node takes it in time.",
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
    fix: 'Nothing to do: a node runs the job (`status.node`). `kubectl nosana logs NAME -f` follows its logs while a NosanaNode of this cluster runs it.',
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
    fix: 'Nothing to do: the service is up; `status.serviceUrls` lists its URLs.',
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
    fix: "Nothing to do. `kubectl nosana result NAME` prints each op's result and logs; the full logs are in the ConfigMap `status.logsConfigMap` names.",
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
    fix: 'The message names the op and its exit code; `kubectl nosana result NAME`, `kubectl nosana logs NAME --op ID` and `status.ops` show what happened. The job ran and was paid for. To run it again, fix the definition and apply it as a new NosanaJob: an ended NosanaJob is not reconciled any more.',
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
    fix: '`kubectl describe nosanajob NAME` and `kubectl get events --field-selector involvedObject.name=NAME` say who stopped it; `status.attempts` lists each on-chain job with its outcome. To run it again, apply it as a new NosanaJob.',
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
    fix: "The job ended without a result document: its node went silent past the job's timeout (the operator ended the job), or no result arrived within the controller's `--result-wait` (default 5m) of the end. `status.node` and `status.attempts` name the node. Apply the job again as a new NosanaJob, on another market if the same node keeps failing.",
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
    fix: "A node quit every attempt (`status.attempts` lists them, each with its node) and `spec.retries` are used up; the deposit of every quit job posted here was recovered (an adopted job's stays in the market until its project recovers it). Apply the job again with more `spec.retries` (at most 10) or on another market.",
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
    fix: "No node took the job within `spec.queueTimeout`; it was delisted and its deposit refunded. Check the market's queue (`kubectl get nosanamarket`: a queue of Jobs means jobs wait for nodes) and apply the job again with a longer `spec.queueTimeout` or on another market.",
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
    fix: "The market's price rose before the post landed, so the job would have cost more than `spec.maxCost`; it was taken back at once (a queued job delisted, its deposit refunded; a running one ended, paying for the time it ran). Check the price (`kubectl get nosanamarket`) and apply the job again with a higher `spec.maxCost`.",
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
    fix: 'The job was delisted or ended with its wallet outside this resource: another tool, or another cluster, holding the same wallet key. Find who else uses that key; apply the job again to run it.',
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
    fix: 'Nothing to do: the market account is read within seconds.',
    conditions: { Ready: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Progressing',
    terminal: false,
  },
  {
    kind: 'NosanaMarket',
    reason: 'Synced',
    when: 'the status mirrors the market account as last read',
    fix: 'Nothing to do. `status.lastRefreshed` says when the account was last read; `spec.refreshInterval` how often it is.',
    conditions: { Ready: 'True', Reconciling: 'False', Stalled: 'False' },
    kstatus: 'Current',
    argo: 'Healthy',
    terminal: false,
  },
  {
    kind: 'NosanaMarket',
    reason: 'RpcUnavailable',
    when: 'the RPC does not answer; retried with backoff, the last values stay',
    fix: "The message says what failed. Check the RPC: `spec.rpc.url` (else the `spec.settingsFrom` ConfigMap's `rpcUrl`, else the controller's `--rpc-url` for `spec.network`) and, for a provider that authenticates by header, `spec.rpc.headersSecretRef`; an RPC of another network than `spec.network` fails too. Retried with backoff, at least once per `spec.refreshInterval`; the last values stay meanwhile.",
    conditions: { Ready: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaMarket',
    reason: 'DirectoryUnavailable',
    when: 'the market directory that resolves the slug does not answer; retried with backoff',
    fix: "The market directory that turns `spec.slug` into an address does not answer (the controller's `--market-directory-url`, else Nosana's). Retried with backoff; set `spec.address` instead of `spec.slug` to do without it.",
    conditions: { Ready: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaMarket',
    reason: 'SettingsInvalid',
    when: 'a Secret or ConfigMap the network settings name is missing or malformed, or a Secret whose content would be sent lacks the label nosana.io/use for that use (the message names it); retried with backoff',
    fix: "The message names the Secret or ConfigMap and the field. Create it or fix its key. A Secret whose content is sent needs the label for that use: `kubectl label secret NAME nosana.io/use=pinning` for `spec.ipfs.pinning.credentialsSecretRef`, `nosana.io/use=rpc-headers` for `spec.rpc.headersSecretRef` (never label a wallet). Retried with backoff; the market's NosanaJobs wait meanwhile.",
    conditions: { Ready: 'False', Reconciling: 'True', Stalled: 'False' },
    kstatus: 'InProgress',
    argo: 'Degraded',
    terminal: false,
  },
  {
    kind: 'NosanaMarket',
    reason: 'MarketNotFound',
    when: 'no market account at the address, or the slug is unknown on the network',
    fix: 'No market account at `spec.address`, or `spec.slug` is unknown, on `spec.network`: check both (a devnet market with `network: mainnet`, for instance). An edit of the spec reads again at once; otherwise it is read again every `spec.refreshInterval`.',
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
    fix: "Nothing to do: the agent creates the node's accounts, or has sent `work` and waits for the chain to show it. If it stays, `kubectl describe nosananode NAME` shows the message and `status.lastError`.",
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
    fix: "Send SOL to the node's address (`status.nodeAddress`): it joins once its balance reaches the agent's `--low-balance` (default 0.01 SOL). Looked at again with backoff.",
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
    fix: 'The reason of the `NoCapacity` condition (`kubectl describe nosananode NAME`) says why. `GpusInUse`: nothing to do, the node joins again when GPUs are free. `NoSuitableNode`: no Kubernetes node that matches `spec.pods.nodeSelector` and `spec.pods.tolerations` has the GPUs one job needs (`spec.gpusPerJob` of `spec.gpuResourceName`, or `spec.dra`); check the labels, taints and the device plugin (`kubectl describe node`). `CapacityUnknown`: the DeviceClass `spec.dra.deviceClassName` is missing or not understood (`kubectl get deviceclasses`).',
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
    fix: 'Nothing to do: `spec.paused` is set. To take jobs again: `kubectl patch nosananode NAME --type merge -p \'{"spec":{"paused":false}}\'`.',
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
    fix: "Nothing to do: the node waits in the market's queue for a job (`status.queuePosition`, 0 is next).",
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
    fix: 'Nothing to do: the node runs the job `status.currentJob` names.',
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
    fix: 'Nothing to do: the node finishes its current job, then leaves the queue; a deleted NosanaNode is kept by its `nosana.io/drain-node` finalizer until then.',
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
    fix: "The message names the Secret and key (`spec.keySecretRef`, key default `keypair`) in the NosanaNode's namespace: create the Secret or fix the key, holding a Solana CLI keypair or a base58 secret key (`kubectl create secret generic NAME --from-file=keypair=node.json`). Use the node's own key: another key is another node, without this one's stake, earnings or run records. Retried with backoff.",
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
    fix: "Check `spec.market` (a NosanaMarket of the node's namespace, or a market address) and that market (`kubectl describe nosanamarket NAME`); a disabled market (job type 255) queues no node: serve another. Looked at again every `--recheck-interval` of the agent (default 1m).",
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
    fix: "Stake NOS for the node's address (`status.nodeAddress`) until its xNOS reaches the market's minimum (`kubectl get nosanamarket NAME -o jsonpath='{.status.nodeXnosMinimum}'`, in base units; the message gives both amounts). Looked at again every `--recheck-interval` of the agent (default 1m).",
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
    fix: "The market admits only nodes holding an access key (an NFT of its collection), which this agent cannot present yet. Serve an open market instead: one whose `status.nodeAccessKey` reads `open` (`kubectl get nosanamarket NAME -o jsonpath='{.status.nodeAccessKey}'`).",
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
    fix: "The message names the rule. Set `spec.pods.namespace` (the NosanaNode's own namespace, the default, is refused) to a namespace that holds no NosanaNode and that an administrator marked for jobs (`kubectl label namespace NAMESPACE nosana.io/jobs=allowed`), and keep `spec.limits` within the agent's ceilings (`--max-cpu`, `--max-memory`, `--max-ephemeral-storage`). Looked at again every `--recheck-interval` of the agent (default 1m).",
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
    fix: "`kubectl describe nosananode NAME` (the message, `status.lastError`, the EndingFailed Event) says which ending failed and why; the run's record is a ConfigMap of the node's namespace (`kubectl get configmap -l nosana.io/run-record=NAME`). Fix the cause: SOL for fees at `status.nodeAddress`, an RPC that accepts transactions, or, when the record says another key signed it, the node's own key back in its Secret. Then restart the agent (`kubectl rollout restart deployment/nosana-operator-node -n nosana-system` with the chart's defaults), with a higher `--max-ending-failures` (default 5) when that many failed. Never delete the record: it holds an ending that may still land.",
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
