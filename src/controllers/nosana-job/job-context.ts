// Builds the JobReconcileContext one reconcile works with: a working copy of the status, and the
// network ports and wallet resolved lazily (once) because most reconciles of a running job need
// neither a Secret read nor a settings lookup.
import type { Keypair } from '@solana/web3.js';
import { applyPhase } from '../phase.ts';
import type { NetworkPorts } from '../network-ports.ts';
import type { ReconcileContext } from '../../runtime/types.ts';
import type { JobReconcileContext, NosanaJobControllerDeps, NosanaJobObject } from './context.ts';
import { isRefusal } from './refusal.ts';
import { resolveMarketReference } from './resolve.ts';
import type { MarketReference } from './resolve.ts';
import { loadWallet, walletSourceFor } from './wallet.ts';

function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    // A failed load is not cached: the next call (next step) tries again.
    loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw error;
    });
    return loaded;
  };
}

/** The market the job refers to, when it can be told from the caches. */
function marketReferenceOf(deps: NosanaJobControllerDeps, object: NosanaJobObject): MarketReference | undefined {
  const reference = resolveMarketReference(object, deps.markets);
  return isRefusal(reference) ? undefined : reference;
}

export function buildJobContext(deps: NosanaJobControllerDeps, object: NosanaJobObject, reconcile: ReconcileContext, jobAddress?: string): JobReconcileContext {
  const namespace = object.metadata?.namespace ?? '';
  const ports = once<NetworkPorts>(async () => deps.networks.ports(await deps.settingsFor(marketReferenceOf(deps, object)?.object, namespace)));
  const wallet = once<Keypair>(() => loadWallet(deps.reader, walletSourceFor(object, marketReferenceOf(deps, object))));
  const context: JobReconcileContext = {
    deps,
    object,
    log: jobAddress === undefined ? reconcile.log : reconcile.log.child({ jobAddress }),
    signal: reconcile.signal,
    status: structuredClone(object.status ?? {}),
    resourceVersion: object.metadata?.resourceVersion ?? '',
    ports,
    wallet,
    setPhase(phase, reason, message) {
      context.status = applyPhase('NosanaJob', context.status, phase, reason, message, object.metadata?.generation, deps.now());
    },
    event(type, reason, note) {
      deps.events.record(object, type, reason, 'Reconcile', note);
    },
  };
  return context;
}
