// The thin layer that performs a NosanaDeployment decision's one action. Money is counted before
// it can move: a replica's reservation is written to the budget ledger (conditionally on the
// ledger as read) before the NosanaJob that will pay it exists, and an extension's charge before
// the replica's timeout is raised. Creating a replica is idempotent by name (an existing one means
// a previous attempt got that far), and removing one is conditional on its uid.
import type { NosanaDeploymentObject } from '../../api/crds/nosana-deployment.ts';
import type { NosanaJobObject } from '../../api/crds/nosana-job.ts';
import { formatNos } from '../../chain/money.ts';
import { killPoint } from '../../runtime/kill-points.ts';
import { StaleObjectError } from '../../runtime/types.ts';
import type { KubeWriter, ObjectCache } from '../../runtime/types.ts';
import type { KubeReader } from '../nosana-job/context.ts';
import { maxCostBaseUnits } from '../nosana-job/spec-values.ts';
import { parseLedger } from '../nosana-job/spend-ledger.ts';
import { budgetLedgerName, budgetLedgerObject, extensionKey } from './budget.ts';
import type { DeploymentAction } from './decide.ts';
import { renderReplica } from './replicas.ts';
import { isControlledBy } from '../../runtime/owners.ts';

export interface ActDeps {
  jobs: ObjectCache<NosanaJobObject>;
  reader: KubeReader;
  writer: KubeWriter;
  now(): Date;
}

/** Adds to, or settles in, the budget ledger, conditionally on the version read now. */
async function writeBudget(
  deps: ActDeps,
  deployment: NosanaDeploymentObject,
  change: Parameters<typeof budgetLedgerObject>[3],
): Promise<void> {
  const namespace = deployment.metadata?.namespace ?? '';
  const name = budgetLedgerName(deployment.metadata?.name ?? '');
  const configMap = await deps.reader.getConfigMap({ namespace, name });
  if (configMap !== undefined && !isControlledBy(configMap, deployment.metadata?.uid))
    throw new Error(`ConfigMap ${namespace}/${name} is not this deployment's ledger: nothing is written to it`);
  const read = parseLedger(configMap);
  await deps.writer.writeObject(budgetLedgerObject(deployment, read, deps.now(), change));
}

export async function performAction(deps: ActDeps, deployment: NosanaDeploymentObject, action: DeploymentAction): Promise<void> {
  const namespace = deployment.metadata?.namespace ?? '';
  switch (action.kind) {
    case 'none':
      return;
    case 'settle':
      await writeBudget(deps, deployment, { settle: { replica: action.replica, cost: action.cost } });
      return;
    case 'create': {
      const replica = renderReplica(deployment, action.plan);
      if (action.reservation !== undefined) {
        // Counted once per replica name: a retry after a crash finds its entry and leaves it be.
        await writeBudget(deps, deployment, {
          add: { key: action.plan.name, job: action.plan.name, amount: action.reservation, at: deps.now() },
        });
      }
      killPoint('deployment:before-create');
      try {
        await deps.writer.writeObject(replica);
      } catch (error) {
        // It exists: an earlier reconcile created it and the cache has not shown it yet.
        if (!(error instanceof StaleObjectError)) throw error;
      }
      killPoint('deployment:after-create');
      return;
    }
    case 'delete':
      await deps.writer.deleteObject({
        apiVersion: 'nosana.io/v1alpha1',
        kind: 'NosanaJob',
        namespace,
        name: action.replica.name,
        uid: action.replica.uid,
      });
      return;
    case 'extend': {
      const job = deps.jobs.get({ namespace, name: action.replica.name });
      // the replica decided on, not a namesake created since
      if (job === undefined || job.metadata?.uid !== action.replica.uid || job.metadata?.deletionTimestamp !== undefined) return;
      const budgeted = deployment.spec.budget !== undefined;
      if (budgeted && action.charge !== undefined) {
        await writeBudget(deps, deployment, {
          add: {
            key: extensionKey(action.replica.name, action.timeoutSeconds),
            job: action.replica.name,
            amount: action.charge,
            at: deps.now(),
          },
        });
      }
      // The replica's maxCost is the deployment's reservation for it: it grows with the extension.
      const maxCost = maxCostBaseUnits(job.spec);
      const spec = {
        ...job.spec,
        timeout: Number(action.timeoutSeconds),
        // a maxCost (the budget's reservation, or the template's) grows by the extension, or the replica would refuse it
        ...(maxCost !== undefined && action.charge !== undefined ? { maxCost: formatNos(maxCost + action.charge) } : {}),
      };
      const { status: _status, ...rest } = job;
      await deps.writer.writeObject({ ...rest, metadata: { ...job.metadata }, spec } as NosanaJobObject);
      return;
    }
  }
}
