// fast-check generators for the specs of the nosana.io custom resources: specs every rule accepts,
// and the same specs broken in the ways people and tools break them (a field dropped, retyped or
// set to a value that is almost right). The generic JSON mutations come from the job-definition
// fuzzers; what is added here is the vocabulary of the spec fields themselves (durations, NOS
// amounts, quantities, addresses), which random JSON almost never hits.
import fc from 'fast-check';
import bs58 from 'bs58';
import { mutate, mutation, validDefinition } from '../job-definition/arbitraries.ts';
import type { Mutation } from '../job-definition/arbitraries.ts';

type Json = Record<string, unknown>;

/** The four kinds whose specs are fuzzed, by the plural their API path uses. */
export const FUZZED_KINDS = {
  NosanaJob: 'nosanajobs',
  NosanaMarket: 'nosanamarkets',
  NosanaNode: 'nosananodes',
  NosanaDeployment: 'nosanadeployments',
} as const;
export type FuzzedKind = keyof typeof FUZZED_KINDS;

// --- field values every rule accepts ------------------------------------------------------

/** base58 of 32 random bytes: a well-formed Solana address (on the curve or not does not matter here). */
const solanaAddress = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => bs58.encode(bytes));
const objectName = fc.stringMatching(/^[a-z][a-z0-9-]{0,14}[a-z0-9]$/);
const dnsName = fc.constantFrom('nodes.example.com', 'gpu.nvidia.com', 'a.b', 'x');
const secretRef = fc.record({ name: objectName, key: objectName }, { requiredKeys: ['name'] });
const seconds = fc.integer({ min: 1, max: 86_400 });
const goDuration = fc.constantFrom('90s', '30m', '1h30m', '1.5h', '2h', '10m', '1m');
const nosAmount = fc.oneof(fc.nat({ max: 1000 }), fc.constantFrom('0.75', '12', '0.000001', '100.5'));
const quantity = fc.constantFrom('4', '500m', '16Gi', '1.5', '2e3', '0.5');
const httpUrl = fc.constantFrom('http://127.0.0.1:8899', 'https://api.devnet.solana.com', 'https://gateway.example/ipfs/');

// --- valid specs ---------------------------------------------------------------------------

const jobTail = {
  timeout: fc.oneof(seconds, goDuration),
  maxCost: nosAmount,
  walletSecretRef: secretRef,
  node: solanaAddress,
  queueTimeout: fc.oneof(seconds, goDuration),
  allowPublicCredentials: fc.boolean(),
};

/** A definition inline or read from a ConfigMap: the CRD wants exactly one of the two. */
const definitionSource = fc.oneof(
  { weight: 4, arbitrary: validDefinition.map((definition): Json => ({ definition })) },
  {
    weight: 1,
    arbitrary: fc.record({ name: objectName, key: objectName }).map((ref): Json => ({ definitionFrom: { configMapKeyRef: ref } })),
  },
);

export const validJobSpec: fc.Arbitrary<Json> = fc.oneof(
  {
    weight: 9,
    arbitrary: fc
      .tuple(
        fc.oneof(objectName, solanaAddress),
        definitionSource,
        fc.record({ ...jobTail, deletionPolicy: fc.constantFrom('Cancel', 'Orphan'), retries: fc.nat({ max: 10 }) }, { requiredKeys: [] }),
      )
      .map(([market, source, rest]): Json => ({ market, ...source, ...rest })),
  },
  // adopting an on-chain job needs no definition
  { weight: 1, arbitrary: fc.tuple(objectName, solanaAddress).map(([market, jobAddress]): Json => ({ market, jobAddress })) },
);

export const validMarketSpec: fc.Arbitrary<Json> = fc
  .tuple(
    fc.oneof(
      solanaAddress.map((address): Json => ({ address })),
      objectName.map((slug): Json => ({ slug })),
    ),
    fc.record(
      {
        network: fc.constantFrom('mainnet', 'devnet', 'localnet'),
        rpc: fc.record({ url: httpUrl, headersSecretRef: secretRef }, { requiredKeys: [] }),
        ipfs: fc.record(
          {
            gatewayUrls: fc.array(httpUrl, { maxLength: 3 }),
            pinning: fc.record(
              { provider: fc.constantFrom('pinata', 'kubo'), url: httpUrl, credentialsSecretRef: secretRef },
              { requiredKeys: ['provider'] },
            ),
          },
          { requiredKeys: [] },
        ),
        settingsFrom: fc.record({ configMapRef: fc.record({ name: objectName }) }),
        serviceDomain: dnsName,
        walletSecretRef: secretRef,
        allowedNamespaces: fc.array(objectName, { maxLength: 3 }),
        dailySpendLimit: nosAmount,
        refreshInterval: goDuration,
      },
      { requiredKeys: [] },
    ),
  )
  .map(([which, rest]): Json => ({ ...which, ...rest }));

const toleration = fc.record(
  {
    key: objectName,
    operator: fc.constantFrom('Exists', 'Equal'),
    value: objectName,
    effect: fc.constantFrom('NoSchedule', 'PreferNoSchedule', 'NoExecute'),
    tolerationSeconds: fc.nat({ max: 3600 }),
  },
  { requiredKeys: [] },
);

/** dra replaces gpuResourceName and gpusPerJob, so a spec sets one family or the other. */
const gpuChoice = fc.oneof(
  fc.record({ gpuResourceName: fc.constantFrom('nvidia.com/gpu', 'amd.com/gpu'), gpusPerJob: fc.nat({ max: 8 }) }, { requiredKeys: [] }),
  fc.record({ dra: fc.record({ deviceClassName: dnsName, count: fc.integer({ min: 1, max: 8 }) }, { requiredKeys: ['deviceClassName'] }) }),
);

/** gateway only with HTTPRoute, ingressClassName only with Ingress. */
const exposure = fc.oneof(
  fc.record({ baseDomain: dnsName, kind: fc.constant('Ingress'), ingressClassName: objectName }, { requiredKeys: ['baseDomain'] }),
  fc.record({ baseDomain: dnsName, kind: fc.constant('HTTPRoute'), gateway: fc.record({ namespace: objectName, name: objectName }) }),
);

export const validNodeSpec: fc.Arbitrary<Json> = fc
  .tuple(
    fc.record({ market: fc.oneof(objectName, solanaAddress), keySecretRef: secretRef }),
    gpuChoice,
    fc.record(
      {
        payoutAddress: solanaAddress,
        pods: fc.record(
          {
            namespace: objectName,
            nodeSelector: fc.dictionary(fc.constantFrom('nvidia.com/gpu.product', 'zone'), objectName, { maxKeys: 2 }),
            tolerations: fc.array(toleration, { maxLength: 2 }),
            runtimeClassName: objectName,
            storageClassName: objectName,
          },
          { requiredKeys: [] },
        ),
        limits: fc.record({ cpu: quantity, memory: quantity, ephemeralStorage: quantity }, { requiredKeys: [] }),
        exposure,
        maxConcurrentJobs: fc.constant(1),
        paused: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
  )
  .map(([required, gpus, rest]): Json => ({ ...required, ...gpus, ...rest }));

const replicaJobSpec = fc
  .tuple(objectName, validDefinition, fc.record(jobTail, { requiredKeys: [] }))
  .map(([market, definition, rest]): Json => ({ market, definition, ...rest }));

const percentOrCount = fc.oneof(fc.nat({ max: 5 }), fc.constantFrom('25%', '0%', '100%'));

export const validDeploymentSpec: fc.Arbitrary<Json> = fc
  .tuple(
    replicaJobSpec,
    fc.oneof(
      fc.record({ mode: fc.constantFrom('Continuous', 'Once', 'Extend') }, { requiredKeys: [] }),
      fc.record({
        mode: fc.constant('Scheduled'),
        schedule: fc.record(
          {
            cron: fc.constantFrom('0 3 * * *', '@daily', '*/30 * * * * *'),
            timeZone: fc.constantFrom('UTC', 'Europe/Amsterdam'),
            concurrencyPolicy: fc.constantFrom('Forbid', 'Replace', 'Allow'),
            startingDeadline: goDuration,
          },
          { requiredKeys: ['cron'] },
        ),
      }),
    ),
    fc.record(
      {
        replicas: fc.nat({ max: 5 }),
        // surge 1 keeps the strategy able to replace a replica whatever maxUnavailable rounds to
        strategy: fc.oneof(
          fc.constant({ type: 'Recreate' }),
          fc.record({
            type: fc.constant('RollingUpdate'),
            rollingUpdate: fc.record({ maxSurge: fc.constant(1), maxUnavailable: percentOrCount }),
          }),
        ),
        rotateBefore: goDuration,
        extendBy: goDuration,
        budget: nosAmount,
        health: fc.record(
          { unreachableAfter: goDuration, probeInterval: goDuration, maxReplacementsPerHour: fc.nat({ max: 10 }) },
          { requiredKeys: [] },
        ),
        failSafe: fc.record(
          {
            rapidFailureWindow: goDuration,
            initialBackoff: goDuration,
            maxBackoff: goDuration,
            maxRapidFailures: fc.integer({ min: 1, max: 10 }),
          },
          { requiredKeys: [] },
        ),
        endpointsConfigMap: fc.boolean(),
        paused: fc.boolean(),
        revisionHistoryLimit: fc.nat({ max: 10 }),
      },
      { requiredKeys: [] },
    ),
  )
  .map(([spec, modes, rest]): Json => ({ template: { spec }, ...modes, ...rest }));

export const VALID_SPECS: Record<FuzzedKind, fc.Arbitrary<Json>> = {
  NosanaJob: validJobSpec,
  NosanaMarket: validMarketSpec,
  NosanaNode: validNodeSpec,
  NosanaDeployment: validDeploymentSpec,
};

// --- breaking them --------------------------------------------------------------------------

/**
 * Values that are almost right for some spec field: durations the CEL pattern and the operator's
 * parser may read differently (a unit Go knows and the pattern does not, padding, zero, a bare
 * number), amounts with too many decimals or a sign, quantities of zero, addresses one character
 * off, and the usual wrong types.
 */
const SPEC_EDGE_VALUES: readonly unknown[] = [
  '0',
  '0s',
  '-1s',
  ' 30m',
  '30m ',
  '1µs',
  '500ms',
  '1d',
  '1h-30m',
  '30',
  '.5h',
  '1e3',
  '-1',
  '0.1234567',
  '1,5',
  '+3',
  '1000000000000',
  '0Gi',
  '000',
  '1e999',
  '16GB',
  'Ingress',
  'HTTPRoute',
  'Orphan',
  'Scheduled',
  '25%',
  '101%',
  '%',
  '11111111111111111111111111111111',
  '0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl',
  'https://',
  'ftp://example.com',
  'UPPER.example.com',
  '* * *',
  'Not/AZone',
  '',
  ' ',
  0,
  -1,
  1.5,
  2 ** 53,
  65,
  11,
  true,
  null,
  [],
  {},
];

const specEdgeReplace: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constant('replace' as const),
  pick: fc.nat(),
  value: fc.constantFrom(...SPEC_EDGE_VALUES),
});

const specMutation = fc.oneof({ weight: 2, arbitrary: mutation }, { weight: 3, arbitrary: specEdgeReplace });

/**
 * Specs of `kind` that are mostly invalid and sometimes valid: a valid spec as is (about one in
 * five), or after one to three mutations anywhere in it, the spec root included.
 */
export function fuzzedSpec(kind: FuzzedKind): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 1, arbitrary: VALID_SPECS[kind] },
    {
      weight: 4,
      arbitrary: fc
        .tuple(VALID_SPECS[kind], fc.array(specMutation, { minLength: 1, maxLength: 3 }))
        .map(([spec, changes]) => changes.reduce<unknown>(mutate, spec)),
    },
  );
}
