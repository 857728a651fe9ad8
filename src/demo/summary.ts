// What the demo prints at the end: the job's outcome as its status records it (result CID, cost and
// how the chain computed it, each op's exit code, the logs), what was simulated and what was not,
// and, when the demo gave up waiting, where everything stood. Pure: objects in, text out.
import type { V1Pod } from '@kubernetes/client-node';
import type { Condition } from '../api/crds/common.ts';
import type { NosanaJobObject } from '../api/crds/nosana-job.ts';
import type { NosanaNodeObject } from '../api/crds/nosana-node.ts';
import { formatNos, jobCost, jobDeposit } from '../chain/money.ts';
import { findCondition } from '../runtime/conditions.ts';
import { jobPhase } from './phase-lines.ts';

export interface OpLogs {
  op: string;
  text: string;
}

export interface ResultFacts {
  job: NosanaJobObject;
  /** The job's timeout in seconds, as posted. */
  timeoutSeconds: number;
  /** Full logs per op (the logs ConfigMap), or empty when only the status tails are known. */
  logs: readonly OpLogs[];
  /** The ConfigMap the logs came from, when they did. */
  logsSource?: string;
  /** What the NosanaNode that ran the job says it earned, when it has counted the job. */
  nodeEarnings?: { name: string; nos: string };
}

function bigintOf(text: string | undefined): bigint | undefined {
  return text === undefined || !/^\d+$/.test(text) ? undefined : BigInt(text);
}

/** "0.0004 NOS = 0.0001 NOS/s × 4 s", or as much of it as the status holds. */
export function costLines(job: NosanaJobObject, timeoutSeconds: number): string[] {
  const status = job.status ?? {};
  const price = bigintOf(status.priceBaseUnits);
  const cost = bigintOf(status.costBaseUnits);
  const seconds = status.duration;
  if (cost === undefined) return ['cost:        not recorded'];
  if (price === undefined || seconds === undefined) return [`cost:        ${formatNos(cost)} NOS`];
  const timeout = BigInt(timeoutSeconds);
  // Shown as a product only when the chain's number is that product: nothing is made to add up.
  const formula =
    jobCost(price, BigInt(seconds), timeout) === cost
      ? ` = ${formatNos(price)} NOS/s × ${seconds < timeoutSeconds ? seconds : timeoutSeconds} s (the market's price × the seconds the job ran on chain, timeEnd − timeStart)`
      : ` (price ${formatNos(price)} NOS/s, ran ${seconds} s)`;
  const deposit = jobDeposit(price, timeout);
  return [
    `cost:        ${formatNos(cost)} NOS${formula}`,
    `deposit:     ${formatNos(deposit)} NOS = price × the ${timeoutSeconds} s timeout, held by the market while the job ran;`,
    `             the node was paid the cost and ${formatNos(deposit - cost)} NOS went back to the poster's wallet`,
  ];
}

function indented(text: string): string[] {
  return text
    .replace(/\n+$/, '')
    .split('\n')
    .map((line) => `    │ ${line}`);
}

export function resultSummary(facts: ResultFacts): string {
  const { job } = facts;
  const status = job.status ?? {};
  const lines = [`The job ${jobPhase(job)}.`];
  if (status.ipfsResult !== undefined) {
    lines.push(`result CID:  ${status.ipfsResult}  (the result document the node pinned to IPFS)`);
  }
  lines.push(...costLines(job, facts.timeoutSeconds));
  if (facts.nodeEarnings !== undefined) {
    lines.push(
      `node:        NosanaNode ${facts.nodeEarnings.name} counts ${facts.nodeEarnings.nos} NOS earned (its status, read from the chain)`,
    );
  }
  for (const op of status.ops ?? []) {
    lines.push(`op ${op.id}: ${op.status}${op.exitCode === undefined ? '' : `, exit code ${op.exitCode}`}`);
  }
  const logs =
    facts.logs.length > 0
      ? facts.logs
      : (status.ops ?? []).flatMap((op) => (op.logTail === undefined ? [] : [{ op: op.id, text: op.logTail }]));
  for (const { op, text } of logs) {
    const source = facts.logs.length > 0 && facts.logsSource !== undefined ? `ConfigMap ${facts.logsSource}` : 'the status log tail';
    lines.push(`logs of op ${op} (${source}):`, ...indented(text));
  }
  return `${lines.join('\n')}\n`;
}

export const SIMULATED_NOTICE = `
What was real and what was simulated:
  - real: a Kubernetes control plane (etcd, kube-apiserver, kube-scheduler, kube-controller-manager),
    the operator's CRDs, admission policy, controller and node agent, signed Solana transactions and
    IPFS content identifiers;
  - simulated: the GPUs and the containers: KWOK plays the kubelets of the GPU nodes, nothing ran in
    a container, and the story is canned text;
  - local: the Solana network and IPFS are the embedded local network on 127.0.0.1 (the Nosana jobs
    program's rules, devnet program ids); nothing was paid on mainnet or devnet.
`;

type Described = { metadata?: { name?: string }; status?: { conditions?: readonly Condition[] } } | undefined;

function standing(kind: string, object: Described, phase: string | undefined): string {
  if (object === undefined) return `${kind}: not created yet`;
  const ready = findCondition(object.status?.conditions, 'Ready');
  return `${kind} ${object.metadata?.name ?? ''}: ${phase ?? 'no phase yet'}${ready === undefined ? '' : ` (${ready.reason ?? ''}: ${ready.message ?? ''})`}`;
}

/** Where the job, the node and the job Pods stood when the demo stopped waiting. */
export function whereThingsStood(job: NosanaJobObject | undefined, node: NosanaNodeObject | undefined, pods: readonly V1Pod[]): string {
  const lines = [
    standing('NosanaJob', job, job === undefined ? undefined : jobPhase(job)),
    standing('NosanaNode', node, node?.status?.phase),
  ];
  if (pods.length === 0) lines.push('job Pods: none');
  for (const pod of pods) {
    lines.push(
      `Pod ${pod.metadata?.name ?? ''}: ${pod.status?.phase ?? '?'}${pod.spec?.nodeName === undefined ? ', not scheduled' : ` on ${pod.spec.nodeName}`}`,
    );
  }
  return lines.map((line) => `  ${line}`).join('\n');
}
