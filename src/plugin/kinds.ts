// The nosana.io kinds as the plugin's commands name them (`get jobs`, `get nnode`), and the
// URL paths of their objects. Plural, short names and printer columns come from the CRD
// definitions crds/ is generated from, so `kubectl nosana get` shows what `kubectl get` shows.
import { API_VERSION } from '../api/crds/common.ts';
import type { CrdDefinition, NosanaKind } from '../api/crds/crd.ts';
import { nosanaDeploymentCrd } from '../api/crds/nosana-deployment.ts';
import { nosanaJobCrd } from '../api/crds/nosana-job.ts';
import { nosanaMarketCrd } from '../api/crds/nosana-market.ts';
import { nosanaNodeCrd } from '../api/crds/nosana-node.ts';

export interface PluginKind {
  kind: NosanaKind;
  crd: CrdDefinition;
  /** What the plugin's commands call it: `jobs`, `markets`, `nodes`, `deployments`. */
  word: string;
  /** Every word that names it on the command line. */
  aliases: readonly string[];
}

function pluginKind(crd: CrdDefinition, word: string, singular: string): PluginKind {
  return { kind: crd.kind, crd, word, aliases: [word, singular, crd.plural, crd.singular, crd.kind.toLowerCase(), ...crd.shortNames] };
}

export const JOBS = pluginKind(nosanaJobCrd, 'jobs', 'job');
export const MARKETS = pluginKind(nosanaMarketCrd, 'markets', 'market');
export const NODES = pluginKind(nosanaNodeCrd, 'nodes', 'node');
export const DEPLOYMENTS = pluginKind(nosanaDeploymentCrd, 'deployments', 'deployment');

export const PLUGIN_KINDS: readonly PluginKind[] = [JOBS, MARKETS, NODES, DEPLOYMENTS];

/** The kind a command-line word names, or undefined. */
export function kindNamed(word: string): PluginKind | undefined {
  const lower = word.toLowerCase();
  return PLUGIN_KINDS.find((kind) => kind.aliases.includes(lower));
}

/** The collection of a kind: in one namespace, or across all of them when `namespace` is undefined. */
export function collectionPath(kind: PluginKind, namespace: string | undefined): string {
  const scope = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `/apis/${API_VERSION}${scope}/${kind.crd.plural}`;
}

export function objectPath(kind: PluginKind, namespace: string, name: string): string {
  return `${collectionPath(kind, namespace)}/${encodeURIComponent(name)}`;
}

/** `nosanajob.nosana.io/story`, as kubectl names an object in what it prints. */
export function qualifiedName(kind: PluginKind, name: string): string {
  return `${kind.crd.singular}.${API_VERSION.split('/')[0] ?? ''}/${name}`;
}
