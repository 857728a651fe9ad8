// The NosanaJob `post` applies: a plain Nosana job definition (the JSON Nosana's CLI posts) wrapped
// as spec.definition, with the market, timeout, wallet and budget given on the command line. Pure,
// so what is applied can be checked without a cluster.
import { randomBytes } from 'node:crypto';
import { basename, extname } from 'node:path';
import { API_VERSION } from '../api/crds/common.ts';
import { formatNos, parseNos } from '../chain/money.ts';
import { durationSeconds } from '../controllers/nosana-job/spec-values.ts';
import { badValue } from './errors.ts';

export interface PostSettings {
  name: string;
  namespace: string;
  market: string;
  timeoutSeconds?: number;
  /** The Secret holding the paying wallet (key "keypair"); unset: the market's default wallet. */
  walletSecret?: string;
  /** A NOS amount, normalised ("0.75"). */
  maxCost?: string;
}

export interface NosanaJobManifest {
  apiVersion: string;
  kind: 'NosanaJob';
  metadata: { name: string; namespace: string };
  spec: {
    market: string;
    definition: unknown;
    timeout?: number;
    maxCost?: string;
    walletSecretRef?: { name: string; key: string };
  };
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_NAME_LENGTH = 253;
/** Room left for the random suffix of a generated name, and short enough for derived names (`<name>-logs`). */
const MAX_GENERATED_STEM = 40;
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Throws a usage error naming `flag` when `name` is not an object name Kubernetes accepts. */
export function checkObjectName(name: string, flag: string, label = false): string {
  if (name.length > MAX_NAME_LENGTH || !(label ? DNS_LABEL : DNS_SUBDOMAIN).test(name)) {
    throw badValue(
      `${flag} "${name}": a Kubernetes name is lower-case letters, digits and '-'${label ? '' : " or '.'"}, starting and ending with a letter or digit`,
    );
  }
  return name;
}

/** `story-x7k2q` for story.json: the file's name made a Kubernetes name, and a random suffix (the way generateName does). */
export function generatedJobName(file: string, random: () => Buffer = () => randomBytes(5)): string {
  const stem =
    basename(file, extname(file))
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, MAX_GENERATED_STEM)
      .replace(/-+$/, '') || 'job';
  const suffix = [...random()].map((byte) => SUFFIX_ALPHABET[byte % SUFFIX_ALPHABET.length]).join('');
  return `${stem}-${suffix}`;
}

/** --timeout in whole seconds (fractions round up, as the controller rounds them). */
export function timeoutFlag(value: string): number {
  try {
    return Number(durationSeconds(value, '--timeout'));
  } catch (error) {
    throw badValue((error as Error).message);
  }
}

/** --max-cost as the decimal NOS amount the CRD takes. */
export function maxCostFlag(value: string): string {
  try {
    return formatNos(parseNos(value));
  } catch (error) {
    throw badValue(`--max-cost: ${(error as Error).message}`);
  }
}

export function nosanaJobManifest(definition: unknown, settings: PostSettings): NosanaJobManifest {
  return {
    apiVersion: API_VERSION,
    kind: 'NosanaJob',
    metadata: { name: settings.name, namespace: settings.namespace },
    spec: {
      market: settings.market,
      definition,
      ...(settings.timeoutSeconds === undefined ? {} : { timeout: settings.timeoutSeconds }),
      ...(settings.maxCost === undefined ? {} : { maxCost: settings.maxCost }),
      ...(settings.walletSecret === undefined ? {} : { walletSecretRef: { name: settings.walletSecret, key: 'keypair' } }),
    },
  };
}
