// The Kubernetes objects the demo creates, as a user would write them: a namespace for the Nosana
// resources and one an administrator marked for job Pods, the poster's wallet and the node's key as
// Secrets, a NosanaMarket mirroring the local network's market, the NosanaNode that serves it, and
// the story job. Pure builders: the demo and its tests build the same objects.
import type { KubernetesObject, V1Namespace, V1Secret } from '@kubernetes/client-node';
import type { Keypair } from '@solana/web3.js';
import type { z } from 'zod';
import { API_VERSION } from '../api/crds/common.ts';
import type { nosanaJobSpec } from '../api/crds/nosana-job.ts';
import type { nosanaMarketSpec } from '../api/crds/nosana-market.ts';
import type { nosanaNodeSpec } from '../api/crds/nosana-node.ts';
import { serializeWallet } from '../chain/wallet.ts';
import { JOB_NAMESPACE_ALLOWED, JOB_NAMESPACE_LABEL } from '../controllers/nosana-node/containment.ts';
import storyDefinition from './story.json' with { type: 'json' };

/** Every name the demo uses, so its output and its objects agree. */
export const DEMO = {
  namespace: 'nosana-demo',
  jobNamespace: 'nosana-demo-jobs',
  market: 'demo',
  node: 'demo-node',
  job: 'story',
  walletSecret: 'demo-wallet',
  nodeKeySecret: 'demo-node-key',
  /** The Secret key holding a keypair (the CRDs' default). */
  keypairKey: 'keypair',
} as const;

/** The story job's timeout: its deposit is price × this. */
export const STORY_TIMEOUT_SECONDS = 600;
/** The most the story job may cost, in NOS: far above price × timeout on the local market. */
export const STORY_MAX_COST_NOS = '1';

export interface NosanaObject<Spec> extends KubernetesObject {
  spec: Spec;
}

export function demoNamespaces(): V1Namespace[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEMO.namespace } },
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      // An administrator's mark: the node agent runs job Pods only in namespaces labelled so.
      metadata: { name: DEMO.jobNamespace, labels: { [JOB_NAMESPACE_LABEL]: JOB_NAMESPACE_ALLOWED } },
    },
  ];
}

/** A keypair as users store one: the Solana CLI's JSON array under key "keypair". */
export function keypairSecret(name: string, keypair: Keypair): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: DEMO.namespace },
    type: 'Opaque',
    stringData: { [DEMO.keypairKey]: serializeWallet(keypair) },
  };
}

export function demoMarket(address: string): NosanaObject<z.input<typeof nosanaMarketSpec>> {
  return {
    apiVersion: API_VERSION,
    kind: 'NosanaMarket',
    metadata: { name: DEMO.market, namespace: DEMO.namespace },
    spec: { address, network: 'localnet' },
  };
}

export function demoNode(): NosanaObject<z.input<typeof nosanaNodeSpec>> {
  return {
    apiVersion: API_VERSION,
    kind: 'NosanaNode',
    metadata: { name: DEMO.node, namespace: DEMO.namespace },
    spec: {
      market: DEMO.market,
      keySecretRef: { name: DEMO.nodeKeySecret, key: DEMO.keypairKey },
      pods: { namespace: DEMO.jobNamespace },
    },
  };
}

/** The seeds' story job: one op running a small language model on a GPU. */
export function storyJob(): NosanaObject<z.input<typeof nosanaJobSpec>> {
  return {
    apiVersion: API_VERSION,
    kind: 'NosanaJob',
    metadata: { name: DEMO.job, namespace: DEMO.namespace },
    spec: {
      market: DEMO.market,
      definition: storyDefinition as z.input<typeof nosanaJobSpec>['definition'],
      timeout: STORY_TIMEOUT_SECONDS,
      maxCost: STORY_MAX_COST_NOS,
      walletSecretRef: { name: DEMO.walletSecret, key: DEMO.keypairKey },
    },
  };
}
