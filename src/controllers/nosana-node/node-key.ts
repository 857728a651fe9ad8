// The node's key, read from the Secret its spec names. The Secret is always one of the NosanaNode's
// own namespace (a spec names it by name only), so a tenant can never make the agent read another
// team's key. What is wrong is said by naming the Secret and the key, never by quoting anything
// read from it; the Secret is never owned by the NosanaNode, so deleting the node keeps the key
// that holds its stake and earnings.
import type { Keypair } from '@solana/web3.js';
import type { NosanaNodeObject } from '../../api/crds/nosana-node.ts';
import { WalletFormatError, parseWallet } from '../../chain/wallet.ts';
import type { KubeReader } from '../nosana-job/context.ts';
import { ReadForbidden } from '../../runtime/kube-reader.ts';

/** The key, or why it cannot be used (decision.ts's NodeKey problem). */
export type LoadedKey = { keypair: Keypair } | { problem: string };

export async function loadNodeKey(reader: Pick<KubeReader, 'getSecret'>, node: NosanaNodeObject): Promise<LoadedKey> {
  const namespace = node.metadata?.namespace ?? '';
  const { name, key } = node.spec.keySecretRef;
  const where = `Secret ${namespace}/${name} key "${key}" (spec.keySecretRef)`;
  let secret;
  try {
    secret = await reader.getSecret({ namespace, name });
  } catch (error) {
    if (error instanceof ReadForbidden)
      return { problem: `${where}: ${error.message} (the chart's nodeAgent.nodeNamespaces lists the namespaces whose keys it reads)` };
    throw error;
  }
  if (secret === undefined) return { problem: `${where}: the Secret does not exist` };
  const encoded = secret.data?.[key];
  if (encoded === undefined) return { problem: `${where}: the Secret has no such key` };
  try {
    return { keypair: parseWallet(Buffer.from(encoded, 'base64').toString('utf8'), where) };
  } catch (error) {
    if (error instanceof WalletFormatError) return { problem: error.message };
    throw error;
  }
}
