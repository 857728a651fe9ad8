// Bad input, property-based, through a real API server: generated specs of every nosana.io kind
// (mostly broken, sometimes valid) are checked by the operator's own validation and created with
// dryRun=All on the API server, where the CRD's OpenAPI schema, its CEL rules and the NosanaJob
// admission policy all run but nothing is stored, so thousands of cases cost seconds.
// Shared by `npm test` (test/integration/spec-fuzz.test.ts, a reduced count) and `npm run
// test:chaos` (test/chaos/spec-fuzz.test.ts, the full count); NOSANA_FUZZ_CASES overrides both.
//
// What must hold, per case:
//  1. the operator's validation never throws anything but its documented errors, and every
//     rejection names the field (`spec.…`);
//  2. the API server accepts, or answers 400/422 with a message naming the field; never a 500.
// What is only recorded: the two disagreeing. The API server accepting what the operator refuses
// is by design (the operator says so in status); the operator accepting what the API server
// refuses means a check the operator would skip if it ever met such an object (a restore that
// bypasses admission, an older CRD), so each kind of it is listed in the test's diagnostics.
import assert from 'node:assert/strict';
import { Agent, request, type RequestOptions } from 'node:https';
import { before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import fc from 'fast-check';
import type { z } from 'zod';
import { API_VERSION } from '../../src/api/crds/common.ts';
import { nosanaDeploymentSpec } from '../../src/api/crds/nosana-deployment.ts';
import { nosanaJobSpec } from '../../src/api/crds/nosana-job.ts';
import { nosanaMarketSpec } from '../../src/api/crds/nosana-market.ts';
import { nosanaNodeSpec } from '../../src/api/crds/nosana-node.ts';
import { parseDuration } from '../../src/api/duration.ts';
import { formatPath, formatProblem, validateJobDefinition } from '../../src/api/job-definition/index.ts';
import { deploymentSettings, SpecError } from '../../src/controllers/nosana-deployment/settings.ts';
import { durationSeconds, maxCostBaseUnits, nosAmount } from '../../src/controllers/nosana-job/spec-values.ts';
import { useCluster, type ClusterContext } from '../harness/fixture.ts';
import { installNosanaApis, waitForAdmissionPolicy } from '../harness/nosana-apis.ts';
import { FUZZED_KINDS, fuzzedSpec, type FuzzedKind } from '../unit/api/spec-arbitraries.ts';

export const FUZZ_CASES_ENV = 'NOSANA_FUZZ_CASES';

/** API cases across all kinds: NOSANA_FUZZ_CASES, else `fallback`. */
export function fuzzCases(fallback: number): number {
  const text = process.env[FUZZ_CASES_ENV];
  if (text === undefined || text === '') return fallback;
  const cases = Number(text);
  if (!Number.isSafeInteger(cases) || cases < 1) throw new Error(`${FUZZ_CASES_ENV} must be a positive integer, got "${text}"`);
  return cases;
}

/** How the cases are shared out: NosanaJob has the most to get wrong (an inline job definition). */
const SHARE: Record<FuzzedKind, number> = { NosanaJob: 0.4, NosanaMarket: 0.2, NosanaNode: 0.2, NosanaDeployment: 0.2 };

/** Every object is created under this name: with dryRun nothing is stored, so names never clash. */
const OBJECT_NAME = 'fuzz';

// --- property 1: the operator's validation -------------------------------------------------

interface OperatorProblem {
  /** The field, as `spec.…`; for a thrown error the message itself must name it. */
  path: string;
  message: string;
}

function zodProblems(issues: readonly z.core.$ZodIssue[], at: string): OperatorProblem[] {
  return issues.map((issue) => ({
    path: formatPath([at, ...issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment))]),
    message: issue.message,
  }));
}

/** The job-definition validator as the NosanaJob controller runs it before a post. */
function definitionProblems(definition: unknown, at: string): OperatorProblem[] {
  const result = validateJobDefinition(definition, { strictness: 'strict' });
  return result.problems.map((problem) => ({ path: at, message: formatProblem(problem) }));
}

/**
 * Runs a check that reports a bad spec by throwing, as spec-values.ts and the deployment's
 * settings do: a plain Error or a SpecError is a rejection (its message must name the field);
 * anything else (a TypeError from reading a field of null, say) escapes and fails property 1.
 */
function thrownProblem(check: () => unknown): OperatorProblem[] {
  try {
    check();
    return [];
  } catch (error) {
    if (error instanceof SpecError || (error instanceof Error && error.constructor === Error))
      return [{ path: '', message: error.message }];
    throw error;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Everything the operator checks of a spec before acting on it, as problems with their field. */
export function operatorProblems(kind: FuzzedKind, spec: unknown): OperatorProblem[] {
  switch (kind) {
    case 'NosanaJob': {
      const parsed = nosanaJobSpec.safeParse(spec);
      const problems = parsed.success ? [] : zodProblems(parsed.error.issues, 'spec');
      if (isObject(spec) && spec['definition'] !== undefined) problems.push(...definitionProblems(spec['definition'], 'spec.definition'));
      if (!parsed.success) return problems;
      const job = parsed.data;
      if (job.jobAddress === undefined && job.definition === undefined && job.definitionFrom === undefined)
        problems.push({ path: 'spec.definition', message: 'set spec.definition or spec.definitionFrom' });
      if (job.timeout !== undefined) problems.push(...thrownProblem(() => durationSeconds(job.timeout!, 'spec.timeout')));
      if (job.queueTimeout !== undefined) problems.push(...thrownProblem(() => durationSeconds(job.queueTimeout!, 'spec.queueTimeout')));
      problems.push(...thrownProblem(() => maxCostBaseUnits(job)));
      return problems;
    }
    case 'NosanaMarket': {
      const parsed = nosanaMarketSpec.safeParse(spec);
      if (!parsed.success) return zodProblems(parsed.error.issues, 'spec');
      const market = parsed.data;
      return [
        ...thrownProblem(() => parseDuration(market.refreshInterval, 'spec.refreshInterval')),
        ...(market.dailySpendLimit === undefined ? [] : thrownProblem(() => nosAmount(market.dailySpendLimit!, 'spec.dailySpendLimit'))),
      ];
    }
    case 'NosanaNode': {
      const parsed = nosanaNodeSpec.safeParse(spec);
      return parsed.success ? [] : zodProblems(parsed.error.issues, 'spec');
    }
    case 'NosanaDeployment': {
      const parsed = nosanaDeploymentSpec.safeParse(spec);
      const template = isObject(spec) && isObject(spec['template']) && isObject(spec['template']['spec']) ? spec['template']['spec'] : {};
      const problems = parsed.success ? [] : zodProblems(parsed.error.issues, 'spec');
      if (template['definition'] !== undefined)
        problems.push(...definitionProblems(template['definition'], 'spec.template.spec.definition'));
      if (!parsed.success) return problems;
      const deployment = parsed.data;
      const replica = deployment.template.spec;
      problems.push(...thrownProblem(() => deploymentSettings(deployment)));
      if (replica.timeout !== undefined)
        problems.push(...thrownProblem(() => durationSeconds(replica.timeout!, 'spec.template.spec.timeout')));
      problems.push(...thrownProblem(() => maxCostBaseUnits(replica)));
      return problems;
    }
  }
}

/** Property 1: no unexpected throw (operatorProblems lets those escape), and every problem names its field. */
function assertOperatorWellFormed(problems: readonly OperatorProblem[], object: unknown): void {
  for (const problem of problems) {
    const where = problem.path === '' ? problem.message : problem.path;
    assert.match(
      where,
      /^spec\b|\bspec\.[A-Za-z]/,
      `the problem names no spec field: ${JSON.stringify(problem)}\n${JSON.stringify(object)}`,
    );
    assert.ok(problem.message.trim().length > 0, `empty message at ${problem.path}\n${JSON.stringify(object)}`);
  }
}

// --- property 2: the API server ------------------------------------------------------------

interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

interface ApiAnswer {
  status: number;
  message: string;
  causes: StatusCause[];
  /** The spec of an accepted object as it would be stored: defaults applied, nulls pruned. */
  stored?: unknown;
}

/**
 * A field path in an API server message: `spec.x[0].y: …` (schema and CEL errors, the admission
 * policy's messages) or `"spec.x"` quoted (strict decoding's unknown fields, whose keys may hold
 * any character).
 */
const NAMES_A_FIELD = /\b(?:spec|metadata)(?:\.[^\s:"[]+|\[[^\]]*\])*:\s|"(?:spec|metadata)(?:[.[][^"]*)?"/;

/** Creates objects with dryRun=All over one kept-alive connection, as kubectl does with --dry-run=server. */
export async function dryRunCreator(
  ctx: ClusterContext,
  namespace: string,
): Promise<(kind: FuzzedKind, spec: unknown) => Promise<ApiAnswer>> {
  const server = new URL(ctx.kubeConfig.getCurrentCluster()!.server);
  const options: RequestOptions = {};
  await ctx.kubeConfig.applyToHTTPSOptions(options);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return (kind, spec) =>
    new Promise<ApiAnswer>((resolve, reject) => {
      const body = JSON.stringify({ apiVersion: API_VERSION, kind, metadata: { name: OBJECT_NAME, namespace }, spec });
      const path = `/apis/${API_VERSION}/namespaces/${namespace}/${FUZZED_KINDS[kind]}?dryRun=All&fieldValidation=Strict`;
      const outgoing = request(
        {
          ...options,
          agent,
          hostname: server.hostname,
          port: server.port,
          path,
          method: 'POST',
          headers: { ...options.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: { message?: string; details?: { causes?: StatusCause[] }; spec?: unknown } = {};
            try {
              parsed = JSON.parse(text) as typeof parsed;
            } catch {
              parsed = { message: text };
            }
            resolve({
              status: response.statusCode ?? 0,
              message: parsed.message ?? '',
              causes: parsed.details?.causes ?? [],
              stored: parsed.spec,
            });
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
}

const isAccepted = (answer: ApiAnswer) => answer.status === 200 || answer.status === 201;

function assertApiWellFormed(answer: ApiAnswer, object: unknown): void {
  const shown = `HTTP ${answer.status}: ${answer.message}\n${JSON.stringify(object)}`;
  assert.ok(isAccepted(answer) || answer.status === 400 || answer.status === 422, `neither accepted nor a 400/422: ${shown}`);
  if (isAccepted(answer)) return;
  // A cause's field is the structured answer (the message alone cannot delimit a map key that
  // holds a space); admission-policy and strict-decoding rejections carry no causes, only text.
  const causeNamesField = answer.causes.some((cause) => /^(?:spec|metadata)\b/.test(cause.field ?? ''));
  assert.ok(causeNamesField || NAMES_A_FIELD.test(answer.message), `the rejection names no field: ${shown}`);
}

// --- property 3: disagreements, recorded ---------------------------------------------------

interface Disagreement {
  count: number;
  spec: unknown;
  detail: string;
}

/** One bucket per field and reason, list indices and map keys folded so one kind of gap is one line. */
function bucketOf(kind: FuzzedKind, answer: ApiAnswer): string {
  // strict decoding lists every unknown key, generated ones included: one bucket for them all
  if (answer.status === 400 && answer.message.includes('unknown field')) return `${kind} unknown field (strict decoding)`;
  const cause = answer.causes[0];
  const field = (cause?.field ?? answer.message.match(NAMES_A_FIELD)?.[0] ?? '?').replace(/\[[^\]]*\]/g, '[*]').replace(/[:"\s]+$|^"/g, '');
  const reason = cause?.reason ?? (answer.message.includes('ValidatingAdmissionPolicy') ? 'AdmissionPolicy' : String(answer.status));
  return `${kind} ${field} (${reason})`;
}

class DisagreementLog {
  /** The operator accepts, the API server refuses: a check only the API server makes. */
  readonly operatorLooser = new Map<string, Disagreement>();
  /** The API server accepts, the operator refuses: by design, reported in status. */
  readonly apiLooser = new Map<string, Disagreement>();

  record(bucket: Map<string, Disagreement>, key: string, spec: unknown, detail: string): void {
    const entry = bucket.get(key);
    if (entry === undefined) bucket.set(key, { count: 1, spec, detail });
    else entry.count += 1;
  }

  report(t: TestContext): void {
    for (const [title, bucket] of [
      ['operator accepts, API server refuses', this.operatorLooser],
      ['API server accepts, operator refuses (by design)', this.apiLooser],
    ] as const) {
      t.diagnostic(`${title}: ${bucket.size} kind${bucket.size === 1 ? '' : 's'}`);
      for (const [key, { count, spec, detail }] of [...bucket].sort((a, b) => b[1].count - a[1].count)) {
        t.diagnostic(`  ${count}× ${key}: ${detail.slice(0, 300)}`);
        t.diagnostic(`    e.g. spec ${JSON.stringify(spec).slice(0, 600)}`);
      }
    }
  }
}

// --- the scenario ----------------------------------------------------------------------------

/** Registers the fuzz tests: `cases` API cases shared out over the four kinds. Call at the top of a test file. */
export function specFuzzScenario(cases: number): void {
  describe(`nosana.io specs fuzzed through the operator's validation and a real API server (${cases} cases, dryRun=All)`, () => {
    let ctx: ClusterContext;
    let namespace: string;
    let create: Awaited<ReturnType<typeof dryRunCreator>>;

    before(async () => {
      ctx = await useCluster();
      await installNosanaApis(ctx);
      namespace = await ctx.freshNamespace('spec-fuzz');
      await waitForAdmissionPolicy(ctx, namespace);
      create = await dryRunCreator(ctx, namespace);
    });

    // Without this the fuzz could pass against a server that validates nothing under dry-run.
    test('dryRun=All still runs the schema, CEL rules, strict field validation and the admission policy, and stores nothing', async () => {
      const definition = { version: '0.1', type: 'container', ops: [{ id: 'a', type: 'container/run', args: { image: 'ubuntu' } }] };
      const valid = await create('NosanaJob', { market: 'm', definition });
      assert.equal(valid.status, 201, valid.message);
      const stored = await ctx.objects
        .read({ apiVersion: API_VERSION, kind: 'NosanaJob', metadata: { name: OBJECT_NAME, namespace } })
        .catch((error: { code?: number }) => error.code);
      assert.equal(stored, 404, 'a dry-run create stores nothing');

      const schema = await create('NosanaJob', { market: 'm', definition, retries: 11 });
      assert.deepEqual([schema.status, schema.causes[0]?.field], [422, 'spec.retries'], schema.message);
      const cel = await create('NosanaJob', { market: 'm', definition, timeout: '0s' });
      assert.deepEqual([cel.status, cel.causes[0]?.field], [422, 'spec.timeout'], cel.message);
      const unknown = await create('NosanaJob', { market: 'm', definition, priority: 1 });
      assert.equal(unknown.status, 400, unknown.message);
      assert.match(unknown.message, /unknown field "spec\.priority"/);
      const policy = await create('NosanaJob', {
        market: 'm',
        definition: { ...definition, ops: [{ ...definition.ops[0], args: { image: 'ubuntu', cmd: 7 } }] },
      });
      assert.equal(policy.status, 422, policy.message);
      assert.match(policy.message, /ValidatingAdmissionPolicy .*spec\.definition\.ops\[0\]\.args\.cmd: /);
    });

    for (const kind of Object.keys(FUZZED_KINDS) as FuzzedKind[]) {
      const runs = Math.max(1, Math.round(cases * SHARE[kind]));
      test(`${kind}: ${runs} generated specs; the operator never throws, the API server never errs, every rejection names a field`, async (t) => {
        const started = Date.now();
        const log = new DisagreementLog();
        const seen = { apiAccepted: 0, apiRejected: 0, operatorAccepted: 0, operatorRejected: 0 };
        await fc.assert(
          fc.asyncProperty(fuzzedSpec(kind), async (spec) => {
            const problems = operatorProblems(kind, spec);
            assertOperatorWellFormed(problems, spec);
            const answer = await create(kind, spec);
            assertApiWellFormed(answer, spec);

            const operatorOk = problems.length === 0;
            seen[operatorOk ? 'operatorAccepted' : 'operatorRejected'] += 1;
            seen[isAccepted(answer) ? 'apiAccepted' : 'apiRejected'] += 1;
            if (operatorOk && !isAccepted(answer)) log.record(log.operatorLooser, bucketOf(kind, answer), spec, answer.message);
            if (!isAccepted(answer)) return;
            // The controller reads what was stored, not what was sent (a null the API server
            // pruned is never seen): judge that object for the by-design disagreements.
            const storedProblems = operatorProblems(kind, answer.stored);
            assertOperatorWellFormed(storedProblems, answer.stored);
            if (storedProblems.length > 0) {
              const first = storedProblems[0]!;
              const field = (first.path === '' ? (first.message.match(/spec\.[\w.]+/)?.[0] ?? '?') : first.path).replace(
                /\[[^\]]*\]/g,
                '[*]',
              );
              log.record(
                log.apiLooser,
                `${kind} ${field}`,
                answer.stored,
                first.path === '' ? first.message : `${first.path}: ${first.message}`,
              );
            }
          }),
          { numRuns: runs },
        );
        log.report(t);
        t.diagnostic(`${JSON.stringify(seen)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        // Cases that were all accepted or all refused would test one branch only.
        assert.ok(runs < 50 || (seen.apiAccepted > 0 && seen.apiRejected > 0), `the API server saw both outcomes: ${JSON.stringify(seen)}`);
        assert.ok(
          runs < 50 || (seen.operatorAccepted > 0 && seen.operatorRejected > 0),
          `the operator saw both outcomes: ${JSON.stringify(seen)}`,
        );
      });
    }
  });
}
