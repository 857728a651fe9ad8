// What a NosanaDeployment committed in the last 24 hours, for its spec.budget. Kept in a ledger
// ConfigMap the operator owns (the spend ledger's format, one per deployment, owned by it), so the
// count outlives its replicas (replaced, deleted by the history limit) and the operator's memory.
//
// Each replica is counted before it exists: the entry holding the most it can cost (its spec.maxCost,
// which the deployment sets to exactly that) is written before the NosanaJob is created, and an
// extension's charge before its timeout is raised. When a replica ends, its entry becomes what it
// really cost (the refund comes back into the budget). A replica removed before it ended keeps its
// whole reservation until the window passes: the cost of a cancelled job is not seen by the
// deployment, and counting too much never lets it spend too much.
import type { V1ConfigMap, V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION } from '../../api/crds/common.ts';
import type { NosanaDeploymentObject } from '../../api/crds/nosana-deployment.ts';
import { ledgerConfigMap, parseLedger, SPEND_WINDOW_MS } from '../nosana-job/spend-ledger.ts';
import type { LedgerEntry, LedgerRead } from '../nosana-job/spend-ledger.ts';

/** Label on every budget ledger, with the deployment's name as its value. */
export const BUDGET_LEDGER_LABEL = 'nosana.io/budget-ledger';

export function budgetLedgerName(deployment: string): string {
  return `nosana-budget-${deployment}`;
}

/** The entry key of a replica's extension to `timeoutSeconds`. */
export function extensionKey(replica: string, timeoutSeconds: bigint): string {
  return `${replica}@extend:${timeoutSeconds}`;
}

/** What the budget counts now: entries inside the rolling day. */
export function spentInWindow(entries: readonly LedgerEntry[], now: Date): bigint {
  const since = now.getTime() - SPEND_WINDOW_MS;
  return entries.filter((entry) => entry.at.getTime() > since).reduce((sum, entry) => sum + entry.amount, 0n);
}

/**
 * When `amount` more fits under `limit`: now (undefined) or once enough of the oldest entries
 * have left the window; never (null) when it is larger than the limit on its own.
 */
export function fitsAt(entries: readonly LedgerEntry[], amount: bigint, limit: bigint, now: Date): Date | undefined | null {
  if (amount > limit) return null;
  const since = now.getTime() - SPEND_WINDOW_MS;
  const inWindow = entries.filter((entry) => entry.at.getTime() > since).sort((a, b) => a.at.getTime() - b.at.getTime());
  let spent = inWindow.reduce((sum, entry) => sum + entry.amount, 0n);
  if (spent + amount <= limit) return undefined;
  for (const entry of inWindow) {
    spent -= entry.amount;
    if (spent + amount <= limit) return new Date(entry.at.getTime() + SPEND_WINDOW_MS);
  }
  return undefined;
}

/** The ledger's entries for `replica`: its reservation and its extensions. */
export function entriesOf(entries: readonly LedgerEntry[], replica: string): LedgerEntry[] {
  return entries.filter((entry) => entry.key === replica || entry.key.startsWith(`${replica}@`));
}

export function parseBudgetLedger(configMap: V1ConfigMap | undefined): LedgerRead {
  return parseLedger(configMap);
}

function ownerReference(deployment: NosanaDeploymentObject): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: 'NosanaDeployment',
    name: deployment.metadata?.name ?? '',
    uid: deployment.metadata?.uid ?? '',
    controller: true,
  };
}

/** The ledger with `change` made and entries older than the window dropped, as a conditional write. */
export function budgetLedgerObject(
  deployment: NosanaDeploymentObject,
  read: LedgerRead,
  now: Date,
  change: { add?: LedgerEntry; settle?: { replica: string; cost: bigint } },
): V1ConfigMap {
  const since = now.getTime() - SPEND_WINDOW_MS;
  let entries = read.entries.filter((entry) => entry.at.getTime() > since);
  if (change.add !== undefined) entries = [...entries.filter((entry) => entry.key !== change.add?.key), change.add];
  if (change.settle !== undefined) {
    const { replica, cost } = change.settle;
    const own = entriesOf(entries, replica);
    const first = own.find((entry) => entry.key === replica) ?? own[0];
    const lastPaid = Math.max(...own.map((entry) => entry.at.getTime()));
    entries = entries.filter((entry) => !own.includes(entry));
    // What it cost replaces what was reserved and extended for it, counted from its last payment:
    // the cost may include an extension's money, which must stay in the window for a day after it
    // left, never less.
    if (first !== undefined) entries.push({ ...first, key: replica, amount: cost, at: new Date(lastPaid) });
  }
  const name = deployment.metadata?.name ?? '';
  return ledgerConfigMap(
    {
      namespace: deployment.metadata?.namespace ?? '',
      name: budgetLedgerName(name),
      labels: { [BUDGET_LEDGER_LABEL]: name },
      ownerReferences: [ownerReference(deployment)],
    },
    entries,
    read.resourceVersion,
  );
}
