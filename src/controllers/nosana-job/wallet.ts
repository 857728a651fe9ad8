// Which wallet pays for a NosanaJob, and reading it from its Secret. Tenancy rule: a job's own
// walletSecretRef is always a Secret of the job's namespace; a NosanaMarket's default wallet pays
// only for its own namespace and the namespaces it lists in allowedNamespaces. Messages name the
// Secret and key, never anything read from it.
import type { Keypair } from '@solana/web3.js';
import type { NosanaJobObject } from '../../api/crds/nosana-job.ts';
import { WalletFormatError, parseWallet } from '../../chain/wallet.ts';
import type { ObjectKey } from '../../runtime/types.ts';
import type { KubeReader } from './context.ts';
import type { MarketReference } from './resolve.ts';
import { marketServes } from './resolve.ts';
import { ReadForbidden } from '../../runtime/kube-reader.ts';

export class WalletProblem extends Error {
  readonly reason: 'WalletUnavailable' | 'WalletNotAllowed';
  constructor(reason: WalletProblem['reason'], message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'WalletProblem';
    this.reason = reason;
  }
}

export interface WalletSource {
  secret: ObjectKey;
  key: string;
  /** Who named the Secret, for messages. */
  namedBy: string;
}

/** Throws WalletProblem when no wallet may pay for this job. `market` is undefined when it could not be resolved. */
export function walletSourceFor(job: NosanaJobObject, market: MarketReference | undefined): WalletSource {
  const namespace = job.metadata?.namespace ?? '';
  const own = job.spec.walletSecretRef;
  if (own !== undefined) return { secret: { namespace, name: own.name }, key: own.key, namedBy: 'spec.walletSecretRef' };
  const object = market?.object;
  const marketName = `NosanaMarket ${object?.metadata?.namespace}/${object?.metadata?.name}`;
  const fallback = object?.spec.walletSecretRef;
  if (object !== undefined && fallback !== undefined) {
    if (!marketServes(object, namespace)) {
      throw new WalletProblem(
        'WalletNotAllowed',
        `the default wallet of ${marketName} does not serve namespace ${namespace} (not in its allowedNamespaces); set spec.walletSecretRef`,
      );
    }
    return {
      secret: { namespace: object.metadata?.namespace ?? '', name: fallback.name },
      key: fallback.key,
      namedBy: `the default wallet of ${marketName}`,
    };
  }
  const refusedBy = market?.refusedBy;
  if (refusedBy?.spec.walletSecretRef !== undefined) {
    throw new WalletProblem(
      'WalletNotAllowed',
      `the default wallet of NosanaMarket ${refusedBy.metadata?.namespace}/${refusedBy.metadata?.name} does not serve namespace ${namespace} (not in its allowedNamespaces); set spec.walletSecretRef`,
    );
  }
  throw new WalletProblem(
    'WalletUnavailable',
    object === undefined
      ? 'no wallet: set spec.walletSecretRef (no NosanaMarket serving this namespace provides a default wallet for this market)'
      : `no wallet: set spec.walletSecretRef (${marketName} has no default walletSecretRef)`,
  );
}

/** Reads and parses the keypair; the Secret's data is base64 as the API server returns it. */
export async function loadWallet(reader: KubeReader, source: WalletSource): Promise<Keypair> {
  const where = `Secret ${source.secret.namespace}/${source.secret.name} key "${source.key}" (${source.namedBy})`;
  const secret = await reader.getSecret(source.secret).catch((error: unknown) => {
    if (error instanceof ReadForbidden)
      throw new WalletProblem(
        'WalletUnavailable',
        `${where}: ${error.message} (an administrator opens the namespace: the chart's controller.secretNamespaces, or a RoleBinding of its -secrets ClusterRole)`,
      );
    throw error;
  });
  if (secret === undefined) throw new WalletProblem('WalletUnavailable', `${where}: the Secret does not exist`);
  const encoded = secret.data?.[source.key];
  if (encoded === undefined) throw new WalletProblem('WalletUnavailable', `${where}: the Secret has no such key`);
  try {
    return parseWallet(Buffer.from(encoded, 'base64').toString('utf8'), where);
  } catch (error) {
    if (error instanceof WalletFormatError) throw new WalletProblem('WalletUnavailable', error.message);
    throw error;
  }
}
