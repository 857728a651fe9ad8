// Lenient mode against Nosana's own validator (`validateJobDefinition` of @nosana/sdk 0.4.69, the
// check Nosana's nodes run on every definition they fetch). The node side must not refuse a job
// that Nosana's nodes run, so over the real definitions and a few thousand mutations of them,
// every definition Nosana accepts must be accepted by lenient mode — unless it is one of the
// exceptions below, each of which Nosana's nodes could not run either.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
// The validator's own module: the package root also loads the SDK's Solana and IPFS clients (~0.8 s).
import { validateJobDefinition as nosanaValidateJobDefinition } from '@nosana/sdk/dist/types/job.js';
import { formatProblem, validateJobDefinition } from '../../../src/api/job-definition/index.ts';
import type { ValidationResult } from '../../../src/api/job-definition/index.ts';
import { isPlainObject } from '../../../src/api/job-definition/json-values.ts';
import { isPlan, planJob } from '../../../src/executor/plan.ts';
import { applyMutation, describeMutation, mutationArbitrary, vocabularyOf } from './mutations.ts';
import { jobExamples, seedDefinitions, sharedMissingReason } from './reference-definitions.ts';

const RANDOM_SEED = 20_260_604;
const MUTANTS = 6000;

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Reading raw definitions, independently of the validator under test

function opsOf(definition: unknown): Json[] {
  const ops = isPlainObject(definition) ? definition.ops : undefined;
  return Array.isArray(ops) ? ops.filter(isPlainObject) : [];
}

function argsOf(op: Json): Json | undefined {
  return isPlainObject(op.args) ? op.args : undefined;
}

function executionOf(op: Json): Json | undefined {
  return isPlainObject(op.execution) ? op.execution : undefined;
}

/** `depends_on` as written when it is a list of strings (Nosana's validator allows nothing else). */
function dependsOnOf(op: Json): string[] {
  const dependsOn = executionOf(op)?.depends_on;
  return Array.isArray(dependsOn) ? dependsOn.filter((entry): entry is string => typeof entry === 'string') : [];
}

interface Dependency {
  from: Json;
  id: string;
  target: Json | undefined;
}

function dependencies(definition: unknown): Dependency[] {
  const ops = opsOf(definition);
  return ops.flatMap((op) => dependsOnOf(op).map((id) => ({ from: op, id, target: ops.find((other) => other.id === id) })));
}

function hasCycle(definition: unknown): boolean {
  const ops = opsOf(definition);
  const state = new Map<Json, 'visiting' | 'done'>();
  const visit = (op: Json): boolean => {
    state.set(op, 'visiting');
    for (const id of dependsOnOf(op)) {
      const target = ops.find((other) => other.id === id);
      if (target === undefined || target === op) continue;
      const seen = state.get(target);
      if (seen === 'visiting' || (seen === undefined && visit(target))) return true;
    }
    state.set(op, 'done');
    return false;
  };
  return ops.some((op) => !state.has(op) && visit(op));
}

/** A copy with every op's `depends_on` emptied: what is left once the dependency rules are set aside. */
function withoutDependencies(definition: unknown): unknown {
  const copy = structuredClone(definition);
  for (const op of opsOf(copy)) {
    const execution = executionOf(op);
    if (execution !== undefined && Array.isArray(execution.depends_on)) execution.depends_on = [];
  }
  return copy;
}

function isUnusablePort(port: unknown): boolean {
  return typeof port === 'number' && !(Number.isInteger(port) && port >= 1 && port <= 65535);
}

function isUnusableExposeEntry(entry: unknown): boolean {
  return isUnusablePort(entry) || (isPlainObject(entry) && isUnusablePort(entry.port));
}

function exposesUnusablePort(definition: unknown): boolean {
  return opsOf(definition).some((op) => {
    const expose = argsOf(op)?.expose;
    return Array.isArray(expose) ? expose.some(isUnusableExposeEntry) : isUnusableExposeEntry(expose);
  });
}

function withoutUnusablePorts(definition: unknown): unknown {
  const copy = structuredClone(definition);
  for (const op of opsOf(copy)) {
    const args = argsOf(op);
    if (args === undefined) continue;
    if (Array.isArray(args.expose)) args.expose = args.expose.filter((entry) => !isUnusableExposeEntry(entry));
    else if (isUnusableExposeEntry(args.expose)) delete args.expose;
  }
  return copy;
}

function runOpsWhere(definition: unknown, test: (args: Json) => boolean): Json[] {
  return opsOf(definition).filter((op) => op.type === 'container/run' && argsOf(op) !== undefined && test(argsOf(op) ?? {}));
}

function volumeOpsWithoutName(definition: unknown): Json[] {
  return opsOf(definition).filter(
    (op) => op.type === 'container/create-volume' && argsOf(op) !== undefined && !Object.hasOwn(argsOf(op) ?? {}, 'name'),
  );
}

function withOps(definition: unknown, change: (op: Json) => void, which: (copy: unknown) => Json[]): unknown {
  const copy = structuredClone(definition);
  which(copy).forEach(change);
  return copy;
}

// ---------------------------------------------------------------------------------------------
// The exceptions

/**
 * How the project's node refuses the definition: `init error` is the flow status Nosana's node
 * publishes when its bootstrap rejects the execution plan; `validation error` a definition that
 * does not validate.
 */
type Refusal = 'init error' | 'validation error';

interface Exception {
  reason: string;
  refusal: Refusal;
  /** A small definition Nosana's validator accepts that falls under this exception and no other. */
  example: Json;
  applies: (definition: unknown) => boolean;
  /** The definition with this exception's cause taken out (lenient mode must then accept it). */
  repair: (definition: unknown) => unknown;
}

function job(ops: Json[]): Json {
  return { version: '0.1', type: 'container', ops };
}

function run(id: string, args: Json = {}, extra: Json = {}): Json {
  return { type: 'container/run', id, args: { image: 'ubuntu', ...args }, ...extra };
}

const exceptions: Exception[] = [
  {
    reason: "an op depends on itself: Nosana's node fails the job at bootstrap (its execution-plan rules)",
    refusal: 'init error',
    example: job([run('a', {}, { execution: { depends_on: ['a'] } })]),
    applies: (definition) => dependencies(definition).some(({ from, id }) => from.id === id),
    repair: withoutDependencies,
  },
  {
    reason: "an op depends on an op id that no op has: Nosana's node fails the job at bootstrap",
    refusal: 'init error',
    example: job([run('a', {}, { execution: { depends_on: ['b'] } })]),
    applies: (definition) => dependencies(definition).some(({ target }) => target === undefined),
    repair: withoutDependencies,
  },
  {
    reason: "an op depends on an op of another execution.group: Nosana's node fails the job at bootstrap",
    refusal: 'init error',
    example: job([run('a', {}, { execution: { group: 'one' } }), run('b', {}, { execution: { group: 'two', depends_on: ['a'] } })]),
    applies: (definition) =>
      dependencies(definition).some(({ from, target }) => target !== undefined && executionOf(target)?.group !== executionOf(from)?.group),
    repair: withoutDependencies,
  },
  {
    reason:
      "ops depend on each other in a cycle: none of them can ever start (Nosana's node has no rule against it, starts none of them and reports success); refused with the bootstrap errors",
    refusal: 'init error',
    example: job([run('a', {}, { execution: { depends_on: ['b'] } }), run('b', {}, { execution: { depends_on: ['a'] } })]),
    applies: hasCycle,
    repair: withoutDependencies,
  },
  {
    reason: 'a port outside 1–65535, or not a whole number: no such port can be exposed, so the op cannot run as written',
    refusal: 'validation error',
    example: job([run('a', { expose: [8080, { port: 70000 }] })]),
    applies: exposesUnusablePort,
    repair: withoutUnusablePorts,
  },
  {
    reason: 'a container/run op with an empty image: there is no image to pull, so the op cannot run at all',
    refusal: 'validation error',
    example: job([run('a', { image: '' })]),
    applies: (definition) => runOpsWhere(definition, (args) => args.image === '').length > 0,
    repair: (definition) =>
      withOps(
        definition,
        (op) => Object.assign(argsOf(op) ?? {}, { image: 'ubuntu' }),
        (copy) => runOpsWhere(copy, (args) => args.image === ''),
      ),
  },
  {
    reason:
      "a container/run op whose args are container/create-volume args (Nosana's validator checks args against either op type): it has no image, so it cannot run at all",
    refusal: 'validation error',
    example: job([{ type: 'container/run', id: 'a', args: { name: 'cache' } }]),
    applies: (definition) => runOpsWhere(definition, (args) => !Object.hasOwn(args, 'image')).length > 0,
    repair: (definition) =>
      withOps(
        definition,
        (op) => (op.type = 'container/create-volume'),
        (copy) => runOpsWhere(copy, (args) => !Object.hasOwn(args, 'image')),
      ),
  },
  {
    reason:
      'a container/create-volume op whose args are container/run args: it names no volume, so there is nothing to create (Nosana\'s node would make one called "undefined")',
    refusal: 'validation error',
    example: job([{ type: 'container/create-volume', id: 'a', args: { image: 'ubuntu' } }]),
    applies: (definition) => volumeOpsWithoutName(definition).length > 0,
    repair: (definition) => withOps(definition, (op) => (op.type = 'container/run'), volumeOpsWithoutName),
  },
];

// ---------------------------------------------------------------------------------------------
// The comparison

type NosanaVerdict = 'accepts' | 'rejects' | 'throws';

/** Nosana's validator throws on some inputs (a null in an expose array); its node then runs nothing. */
function nosanaVerdict(definition: unknown): NosanaVerdict {
  try {
    return nosanaValidateJobDefinition(definition).success ? 'accepts' : 'rejects';
  } catch {
    return 'throws';
  }
}

function describeResult(result: ValidationResult): string {
  return result.problems.map(formatProblem).join('\n') || '(no problems)';
}

function planRefusal(definition: unknown): Refusal | 'planned' {
  const outcome = planJob(definition, 'differential-test-job');
  if (isPlan(outcome)) return 'planned';
  return 'initError' in outcome ? 'init error' : 'validation error';
}

interface Mutant {
  name: string;
  definition: unknown;
}

interface Tally {
  mutants: number;
  nosanaAccepts: number;
  nosanaThrows: number;
  lenientAccepts: number;
  strictAccepts: number;
  nosanaOnly: number;
  lenientOnly: number;
  /** Accepted by Nosana and by lenient mode but not by strict mode: taken through lenient mode's tolerances. */
  toleratedOnly: number;
  byException: Map<string, number>;
}

/** Why lenient mode's refusal of a definition Nosana accepts is not explained, or undefined when it is. */
function unexplainedRefusal(mutant: Mutant, lenient: ValidationResult, tally: Tally): string | undefined {
  const applicable = exceptions.filter((exception) => exception.applies(mutant.definition));
  if (applicable.length === 0) return `${mutant.name}\n  lenient refuses it, and no exception applies:\n${describeResult(lenient)}`;
  for (const exception of applicable) tally.byException.set(exception.reason, (tally.byException.get(exception.reason) ?? 0) + 1);

  const repaired = applicable.reduce((definition, exception) => exception.repair(definition), mutant.definition);
  const afterRepair = validateJobDefinition(repaired, { strictness: 'lenient' });
  if (!afterRepair.ok) {
    return `${mutant.name}\n  without what the exceptions name (Nosana ${nosanaVerdict(repaired)} it), lenient still refuses it:\n${describeResult(afterRepair)}`;
  }
  const expected: Refusal = applicable.some((exception) => exception.refusal === 'validation error') ? 'validation error' : 'init error';
  const actual = planRefusal(mutant.definition);
  if (actual !== expected) return `${mutant.name}\n  the node side should refuse it with ${expected}, the plan gives ${actual}`;
  return undefined;
}

function mutants(): Mutant[] {
  const seeds = [...jobExamples(), ...seedDefinitions()];
  const vocabulary = vocabularyOf(seeds.map((seed) => seed.definition));
  const cases = fc.sample(fc.tuple(fc.nat({ max: seeds.length - 1 }), fc.array(mutationArbitrary, { minLength: 1, maxLength: 2 })), {
    seed: RANDOM_SEED,
    numRuns: MUTANTS,
  });
  const mutated = cases.map(([seedIndex, mutations]): Mutant => {
    const seed = seeds[seedIndex];
    assert.ok(seed !== undefined);
    let definition = seed.definition;
    const steps: string[] = [];
    for (const mutation of mutations) {
      steps.push(describeMutation(definition, mutation));
      definition = applyMutation(definition, mutation, vocabulary);
    }
    return { name: `${seed.name}, ${steps.join(', then ')}`, definition };
  });
  return [...seeds.map(({ name, definition }) => ({ name, definition })), ...mutated];
}

describe('lenient mode accepts what Nosana accepts', { skip: sharedMissingReason ?? false }, () => {
  test('the exceptions: each example is accepted by Nosana, refused by lenient mode, and refused by the node side as stated', () => {
    for (const exception of exceptions) {
      assert.equal(nosanaVerdict(exception.example), 'accepts', exception.reason);
      assert.equal(validateJobDefinition(exception.example, { strictness: 'lenient' }).ok, false, exception.reason);
      assert.deepEqual(
        exceptions.filter((other) => other.applies(exception.example)).map((other) => other.reason),
        [exception.reason],
        'each example stands for its own exception only',
      );
      assert.equal(validateJobDefinition(exception.repair(exception.example), { strictness: 'lenient' }).ok, true, exception.reason);
      assert.equal(planRefusal(exception.example), exception.refusal, exception.reason);
    }
  });

  test(`the real definitions and ${MUTANTS} mutations of them`, (context) => {
    const tally: Tally = {
      mutants: 0,
      nosanaAccepts: 0,
      nosanaThrows: 0,
      lenientAccepts: 0,
      strictAccepts: 0,
      nosanaOnly: 0,
      lenientOnly: 0,
      toleratedOnly: 0,
      byException: new Map(),
    };
    const unexplained: string[] = [];
    for (const mutant of mutants()) {
      tally.mutants += 1;
      const nosana = nosanaVerdict(mutant.definition);
      const lenient = validateJobDefinition(mutant.definition, { strictness: 'lenient' });
      if (nosana === 'throws') tally.nosanaThrows += 1;
      if (nosana === 'accepts') tally.nosanaAccepts += 1;
      if (lenient.ok) tally.lenientAccepts += 1;
      const strictAccepts = validateJobDefinition(mutant.definition, { strictness: 'strict' }).ok;
      if (strictAccepts) tally.strictAccepts += 1;
      if (nosana === 'accepts' && lenient.ok && !strictAccepts) tally.toleratedOnly += 1;
      if (lenient.ok) {
        // What lenient mode hands on is plain JSON, nothing of the parse left in it, and the node side plans it.
        assert.deepEqual(JSON.parse(JSON.stringify(lenient.definition)), lenient.definition, mutant.name);
        assert.notEqual(planRefusal(mutant.definition), 'validation error', mutant.name);
        if (nosana !== 'accepts') tally.lenientOnly += 1;
        continue;
      }
      if (nosana !== 'accepts') continue;
      tally.nosanaOnly += 1;
      const problem = unexplainedRefusal(mutant, lenient, tally);
      if (problem !== undefined) unexplained.push(problem);
    }

    context.diagnostic(
      `${tally.mutants} definitions: Nosana accepts ${tally.nosanaAccepts} (throws on ${tally.nosanaThrows}), ` +
        `lenient accepts ${tally.lenientAccepts}, strict ${tally.strictAccepts}; ` +
        `Nosana only ${tally.nosanaOnly}, lenient only ${tally.lenientOnly}; ` +
        `of those Nosana and lenient mode both accept, strict mode refuses ${tally.toleratedOnly}`,
    );
    for (const [reason, count] of tally.byException) context.diagnostic(`${count} × exception: ${reason}`);
    assert.ok(tally.nosanaAccepts >= MUTANTS / 10, `too few mutants Nosana accepts to compare (${tally.nosanaAccepts})`);
    assert.deepEqual(unexplained.slice(0, 10), [], `${unexplained.length} definitions Nosana accepts are refused by lenient mode`);
  });
});
