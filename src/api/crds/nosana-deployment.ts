// NosanaDeployment: N replicas of a Nosana job kept running the way a Deployment keeps Pods. It
// owns NosanaJobs as a ReplicaSet owns Pods, so each replica is posted once and cancelled on
// deletion by the NosanaJob controller; the deployment decides how many there are, of which
// template, and when one is replaced.
import type { KubernetesObject } from '@kubernetes/client-node';
import { z } from 'zod';
import { CEL_DURATION_PATTERN, baseUnits, conditions, intOrString, nosAmountString, observedGeneration, timestamp } from './common.ts';
import type { CrdDefinition } from './crd.ts';
import { nosanaJobSpec } from './nosana-job.ts';

export const NOSANA_DEPLOYMENT_PHASES = ['Starting', 'Running', 'Stopping', 'Stopped', 'Completed', 'Waiting', 'Paused', 'Failed'] as const;
export type NosanaDeploymentPhase = (typeof NOSANA_DEPLOYMENT_PHASES)[number];

export const DEPLOYMENT_MODES = ['Continuous', 'Once', 'Extend', 'Scheduled'] as const;
export type DeploymentMode = (typeof DEPLOYMENT_MODES)[number];

/** The longest deployment name: its replicas' names (name-revision-number) stay valid label values. */
export const MAX_DEPLOYMENT_NAME_LENGTH = 40;

const duration = (description: string, fallback: string) =>
  z.string().max(32).default(fallback).describe(`${description} A duration such as "90s" or "1h30m"; default ${fallback}.`);

const intOrPercent = (description: string) =>
  z.union([z.int().min(0), z.string().max(8)]).describe(description).meta({ 'x-kubernetes-int-or-string': true });

/**
 * A replica's spec: a NosanaJob's, less what the deployment owns. jobAddress (a replica is always
 * posted, never adopted), deletionPolicy (removing a replica cancels it) and retries (a replica
 * whose node quits is replaced by the deployment, with its crash-loop back-off, not re-posted in place).
 */
export const replicaJobSpec = nosanaJobSpec
  .omit({ jobAddress: true, deletionPolicy: true, retries: true })
  .describe('The NosanaJob spec of every replica: market, definition or definitionFrom, timeout, maxCost, walletSecretRef, …');

const template = z.object({
  metadata: z.object({
    labels: z.record(z.string(), z.string().max(63)).optional().describe('Labels added to every replica NosanaJob.'),
    annotations: z.record(z.string(), z.string().max(4096)).optional().describe('Annotations added to every replica NosanaJob (a change rolls the replicas, like kubectl rollout restart).'),
  }).optional().describe('Labels and annotations of the replicas.'),
  spec: replicaJobSpec,
}).describe('What each replica is: a NosanaJob template. A change of it is a new revision, rolled out by spec.strategy.');

const strategy = z.object({
  type: z.enum(['RollingUpdate', 'Recreate']).default('RollingUpdate')
    .describe('RollingUpdate: replicas of a new revision are posted and must be ready before old ones are cancelled (no downtime). Recreate: every old replica is cancelled first, then the new ones are posted.'),
  rollingUpdate: z.object({
    maxSurge: intOrPercent('How many replicas above spec.replicas may exist during an update or a rotation: a number or a percentage ("25%"), rounded up. Default 1.').optional(),
    maxUnavailable: intOrPercent('How many of spec.replicas may be unready during an update: a number or a percentage, rounded down. Default 0.').optional(),
  }).optional().describe('Bounds of a rolling update.'),
}).describe('How a new revision replaces the old one.');

const schedule = z.object({
  cron: z.string().min(1).max(128).describe('When a round starts: a cron expression of five fields ("0 3 * * *") or a macro ("@daily"), as a CronJob\'s schedule; a sixth, leading field gives seconds ("*/30 * * * * *"). No round is started for a time before the deployment was created.'),
  timeZone: z.string().max(64).optional().describe('The IANA time zone of the cron expression ("Europe/Amsterdam"); default UTC.'),
  concurrencyPolicy: z.enum(['Forbid', 'Replace', 'Allow']).default('Forbid')
    .describe('When a round is due while the previous one still runs: Forbid waits for it to end, Replace cancels it first, Allow runs both (at most three rounds at once).'),
  startingDeadline: z.string().max(32).default('10m').describe('A round not started within this long of its time is skipped (a controller that was down does not post every missed round). Default 10m.'),
}).describe('The rounds of a Scheduled deployment.');

const health = z.object({
  unreachableAfter: duration('A replica whose health checks fail for this long is cancelled and replaced, with an Event naming the endpoint.', '60s'),
  probeInterval: duration('How often each replica\'s endpoints are probed.', '10s'),
  maxReplacementsPerHour: z.int().min(0).max(1000).default(6)
    .describe('The most replicas replaced for failing health checks in any hour; 0 never replaces, only reports.'),
}).describe('Health-driven replacement, for definitions whose exposed ports have HTTP health checks: the operator probes each replica\'s service URL from the cluster.');

const failSafe = z.object({
  rapidFailureWindow: duration('A replica that ends within this long of its creation, without succeeding, is a rapid failure.', '5m'),
  initialBackoff: duration('The wait after the first rapid failure before the next replica is posted; it doubles after each one.', '30s'),
  maxBackoff: duration('The longest wait between replicas after rapid failures.', '1h'),
  maxRapidFailures: z.int().min(1).max(100).default(8)
    .describe('After this many rapid failures in a row the deployment stops posting (ReplicaFailure, reason RapidFailures) until annotated nosana.io/reset-failures=<anything new>.'),
}).describe('The crash-loop fail-safe that protects the wallet from replicas that keep failing.');

export const nosanaDeploymentSpec = z.object({
  replicas: z.int().min(0).max(100).default(1).describe('How many replicas to keep (0 stops every replica). Changed by kubectl scale and HorizontalPodAutoscalers through the scale subresource.'),
  template,
  strategy: strategy.default({ type: 'RollingUpdate' }),
  mode: z.enum(DEPLOYMENT_MODES).default('Continuous')
    .describe('Continuous: keep the replicas running, posting a replacement spec.rotateBefore ahead of each one\'s timeout. Once: run each replica once to its end. Extend: keep each replica running by raising its timeout while the budget allows. Scheduled: run a round of replicas on spec.schedule.'),
  rotateBefore: duration('Continuous: how long before a replica\'s timeout its replacement is posted; Extend: how long before it the timeout is raised.', '10m'),
  extendBy: duration('Extend: how much each raise of a replica\'s timeout adds.', '1h'),
  schedule: schedule.optional(),
  budget: intOrString('The most NOS the whole deployment may commit in any 24 hours: deposits and extensions, less refunds of replicas that ended early. Unset: no budget.').optional(),
  health: health.optional(),
  failSafe: failSafe.optional(),
  endpointsConfigMap: z.boolean().default(false)
    .describe('Also write the ready replicas\' URLs to the ConfigMap <name>-endpoints (key endpoints.json), for in-cluster consumers to mount or watch.'),
  paused: z.boolean().default(false).describe('Post, replace and cancel nothing; the replicas that exist keep running.'),
  revisionHistoryLimit: z.int().min(0).max(100).default(3)
    .describe('How many ended replica NosanaJobs are kept for their results and logs.'),
}).describe('The replicas to keep and how they are replaced.');

const endpoint = z.object({
  replica: z.string().max(253).describe('The replica NosanaJob.'),
  op: z.string().max(128).describe('The op exposing the port.'),
  port: z.int().min(1).max(65535).describe('The exposed container port.'),
  url: z.string().max(2048).describe('The public URL.'),
  ready: z.boolean().describe('The replica runs and, when the port has health checks, passes them.'),
  failingSince: timestamp('Since when the port\'s health checks fail.').optional(),
  lastProbe: z.string().max(512).optional().describe('What the last probe found.'),
}).describe('One exposed port of one replica.');

export const nosanaDeploymentStatus = z.object({
  phase: z.enum(NOSANA_DEPLOYMENT_PHASES).optional().describe('Starting, Running, Stopping, Stopped, Completed, Waiting (Scheduled, between rounds), Paused or Failed.'),
  conditions: conditions.optional(),
  observedGeneration: observedGeneration.optional(),
  replicas: z.int().min(0).optional().describe('Replica NosanaJobs that have not ended, of any revision.'),
  readyReplicas: z.int().min(0).optional().describe('Replicas running and, when their definition has health checks, passing them.'),
  updatedReplicas: z.int().min(0).optional().describe('Replicas of the current template.'),
  availableReplicas: z.int().min(0).optional().describe('Ready replicas of any revision.'),
  ready: z.string().max(16).optional().describe('ready/wanted, as kubectl get deploy shows it.'),
  selector: z.string().max(512).optional().describe('The label selector of the replicas (for the scale subresource).'),
  currentRevision: z.string().max(16).optional().describe('The revision (template hash) of the oldest replica still running.'),
  updateRevision: z.string().max(16).optional().describe('The revision of the current template.'),
  endpoints: z.array(endpoint).max(256).optional().describe('Every exposed port of every running replica.'),
  overlapReplicas: z.int().min(0).optional().describe('Replicas beyond spec.replicas running at once while a replacement takes over (paid twice for that time).'),
  spent24h: nosAmountString('NOS committed in the last 24 hours, as the budget counts it.').optional(),
  spent24hBaseUnits: baseUnits('The same in base units.').optional(),
  nextReplica: z.int().min(0).optional().describe('The number the next replica NosanaJob\'s name carries (names are never reused).'),
  rapidFailures: z.int().min(0).optional().describe('Rapid failures in a row (spec.failSafe).'),
  lastRapidFailure: timestamp('When the last rapid failure ended.').optional(),
  failuresResetBy: z.string().max(128).optional().describe('The nosana.io/reset-failures annotation value last acted on.'),
  countedEnded: z.array(z.string().max(253)).max(256).optional().describe('Ended replicas already counted by the fail-safe and the budget.'),
  replacedForHealth: z.array(timestamp('When a replica was replaced for failing health checks.')).max(1000).optional()
    .describe('Health replacements of the last hour.'),
  lastScheduleTime: timestamp('Scheduled: when the last round started.').optional(),
}).describe('The replicas as last observed.');

export type NosanaDeploymentSpec = z.infer<typeof nosanaDeploymentSpec>;
export type NosanaDeploymentStatus = z.infer<typeof nosanaDeploymentStatus>;
export type DeploymentEndpoint = z.infer<typeof endpoint>;

/** A NosanaDeployment as the API server returns it. */
export interface NosanaDeploymentObject extends KubernetesObject {
  spec: NosanaDeploymentSpec;
  status?: NosanaDeploymentStatus;
}

const durationRule = (field: string, minimum: string) => ({
  rule: `!has(self.${field}) || (self.${field}.matches('${CEL_DURATION_PATTERN}') && duration(self.${field}) >= duration('${minimum}'))`,
  message: `${field} must be a duration of at least ${minimum}, such as "10m"`,
  fieldPath: `.${field}`,
});

const percentRule = (field: string) => ({
  rule: `!has(self.${field}) || type(self.${field}) == int || string(self.${field}).matches('^[0-9]{1,3}%$')`,
  message: `${field} must be a number or a percentage such as "25%"`,
  fieldPath: `.${field}`,
});

export const nosanaDeploymentCrd: CrdDefinition = {
  kind: 'NosanaDeployment',
  plural: 'nosanadeployments',
  singular: 'nosanadeployment',
  shortNames: ['ndep'],
  description: 'Replicas of a Nosana job kept running like a Deployment\'s Pods: scaling, rolling updates, rotation before each job\'s timeout, health-driven replacement, a crash-loop fail-safe and a budget. Each replica is a NosanaJob it owns.',
  spec: nosanaDeploymentSpec,
  status: nosanaDeploymentStatus,
  scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
  printerColumns: [
    { name: 'Ready', type: 'string', jsonPath: '.status.ready' },
    { name: 'Up-To-Date', type: 'integer', jsonPath: '.status.updatedReplicas' },
    { name: 'Available', type: 'integer', jsonPath: '.status.availableReplicas' },
    { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
    { name: 'Strategy', type: 'string', jsonPath: '.spec.strategy.type' },
    { name: 'Market', type: 'string', jsonPath: '.spec.template.spec.market' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', priority: 1 },
    { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', priority: 1 },
    { name: 'Spent-24h', type: 'string', jsonPath: '.status.spent24h', description: 'NOS', priority: 1 },
  ],
  specRules: [
    { rule: "self.mode == 'Scheduled' ? has(self.schedule) : !has(self.schedule)", message: 'spec.schedule is set exactly when mode is Scheduled', fieldPath: '.schedule' },
    durationRule('rotateBefore', '1m'),
    durationRule('extendBy', '1m'),
    {
      rule: "!has(self.budget) || (type(self.budget) == int ? int(self.budget) >= 0 : string(self.budget).matches('^[0-9]{1,12}(\\\\.[0-9]{1,6})?$'))",
      message: 'budget must be an amount of NOS such as 100 or "12.5"',
      fieldPath: '.budget',
    },
    {
      rule: "has(self.template.spec.definition) != has(self.template.spec.definitionFrom)",
      message: 'set exactly one of template.spec.definition and template.spec.definitionFrom',
      fieldPath: '.template.spec',
    },
    {
      rule: `!has(self.template.spec.timeout) || (type(self.template.spec.timeout) == int ? int(self.template.spec.timeout) > 0 : string(self.template.spec.timeout).matches('${CEL_DURATION_PATTERN}') && duration(string(self.template.spec.timeout)) > duration('0s'))`,
      message: 'timeout must be a positive number of seconds or a duration such as "1h"',
      fieldPath: '.template.spec.timeout',
    },
    {
      rule: "!has(self.template.spec.maxCost) || (type(self.template.spec.maxCost) == int ? int(self.template.spec.maxCost) >= 0 : string(self.template.spec.maxCost).matches('^[0-9]{1,12}(\\\\.[0-9]{1,6})?$'))",
      message: 'maxCost must be an amount of NOS such as 2 or "0.75" (at most 6 decimals)',
      fieldPath: '.template.spec.maxCost',
    },
  ],
  extraRules: [
    { path: ['strategy', 'rollingUpdate'], rules: [percentRule('maxSurge'), percentRule('maxUnavailable')] },
    { path: ['health'], rules: [durationRule('unreachableAfter', '1s'), durationRule('probeInterval', '1s')] },
    { path: ['failSafe'], rules: [durationRule('rapidFailureWindow', '1s'), durationRule('initialBackoff', '1s'), durationRule('maxBackoff', '1s')] },
    { path: ['schedule'], rules: [durationRule('startingDeadline', '1s')] },
  ],
  rootRules: [
    {
      rule: `size(self.metadata.name) <= ${MAX_DEPLOYMENT_NAME_LENGTH}`,
      // (the API server takes no fieldPath into metadata, so the message names the field)
      message: `metadata.name: a NosanaDeployment's name is at most ${MAX_DEPLOYMENT_NAME_LENGTH} characters, so its replicas' names stay valid label values`,
    },
  ],
};
