// NosanaNode: this cluster serving a Nosana market as a node: it queues, claims jobs and
// runs their ops as GPU Pods.
import { z } from 'zod';
import { conditions, nosAmountString, baseUnits, observedGeneration, secretKeyRef, solanaAddress } from './common.ts';
import type { CrdDefinition } from './crd.ts';

export const NOSANA_NODE_PHASES = ['Idle', 'Queued', 'Running', 'Draining', 'Error'] as const;
export type NosanaNodePhase = (typeof NOSANA_NODE_PHASES)[number];

const toleration = z.object({
  key: z.string().max(316).optional().describe('The taint key the toleration applies to; empty matches all keys.'),
  operator: z.enum(['Exists', 'Equal']).optional().describe('Exists or Equal (default Equal).'),
  value: z.string().max(63).optional().describe('The taint value to match with Equal.'),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional().describe('The taint effect to match; empty matches all.'),
  tolerationSeconds: z.int().optional().describe('For NoExecute: how long the Pod stays bound after the taint appears.'),
}).describe('A toleration for job Pods (core/v1 Toleration).');

export const nosanaNodeSpec = z.object({
  market: z.string().min(1).max(253).describe('The market to serve: a NosanaMarket name in this namespace, or a market address.'),
  keySecretRef: secretKeyRef('The Secret holding the node\'s Solana keypair (its identity and the account paid for jobs).', 'keypair'),
  gpuResourceName: z.string().max(253).default('nvidia.com/gpu').describe('The extended resource job Pods request for GPUs.'),
  gpusPerJob: z.int().min(0).max(64).default(1).describe('How many GPUs each job Pod requests.'),
  pods: z.object({
    namespace: z.string().max(63).optional().describe('Namespace for job Pods. Defaults to this resource\'s namespace.'),
    nodeSelector: z.record(z.string(), z.string()).optional().describe('Node labels job Pods must match, e.g. nvidia.com/gpu.product.'),
    tolerations: z.array(toleration).max(32).optional().describe('Tolerations for job Pods.'),
    runtimeClassName: z.string().max(253).optional().describe('RuntimeClass for job Pods (e.g. nvidia, or a sandboxed runtime for untrusted images).'),
    storageClassName: z.string().max(253).optional().describe('StorageClass for job volumes and downloaded resources.'),
  }).optional().describe('Where and how job Pods run.'),
  maxConcurrentJobs: z.int().min(1).max(1).default(1).describe('Jobs run at once. Nosana gives one job at a time to a node identity, so this is 1; run more NosanaNodes for more.'),
  paused: z.boolean().default(false).describe('Stop taking new jobs (a running job finishes; the node leaves the queue).'),
}).describe('Which market to serve and how job Pods run.');

export const nosanaNodeStatus = z.object({
  phase: z.enum(NOSANA_NODE_PHASES).optional().describe('Idle, Queued (waiting for a job), Running, Draining or Error.'),
  conditions: conditions.optional(),
  observedGeneration: observedGeneration.optional(),
  nodeAddress: solanaAddress('The node\'s Solana address.').optional(),
  queuePosition: z.int().min(0).optional().describe('Position in the market\'s node queue while queued.'),
  currentJob: solanaAddress('The job being run.').optional(),
  currentRun: solanaAddress('The run account of the job being run.').optional(),
  jobsCompleted: z.int().min(0).optional().describe('Jobs finished successfully.'),
  jobsFailed: z.int().min(0).optional().describe('Jobs finished with a failed op or flow.'),
  earnings: nosAmountString('NOS earned from finished jobs.').optional(),
  earningsBaseUnits: baseUnits('Earnings in NOS base units.').optional(),
}).describe('What the node is doing.');

export type NosanaNodeSpec = z.infer<typeof nosanaNodeSpec>;
export type NosanaNodeStatus = z.infer<typeof nosanaNodeStatus>;

export const nosanaNodeCrd: CrdDefinition = {
  kind: 'NosanaNode',
  plural: 'nosananodes',
  singular: 'nosananode',
  shortNames: ['nnode'],
  description: 'This cluster as a Nosana node: it joins a market queue, claims jobs and runs each op as a Pod requesting GPUs, then pins the result and finishes the job on chain.',
  spec: nosanaNodeSpec,
  status: nosanaNodeStatus,
  printerColumns: [
    { name: 'Market', type: 'string', jsonPath: '.spec.market' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Job', type: 'string', jsonPath: '.status.currentJob' },
    { name: 'Completed', type: 'integer', jsonPath: '.status.jobsCompleted' },
    { name: 'Earnings', type: 'string', jsonPath: '.status.earnings', description: 'NOS' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Address', type: 'string', jsonPath: '.status.nodeAddress', priority: 1 },
  ],
};
