// Property-based tests: generated definitions, mutated definitions and arbitrary JSON.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatPath, formatProblem, validateJobDefinition } from '../../../src/api/job-definition/index.ts';
import type { ValidationResult } from '../../../src/api/job-definition/index.ts';
import { allPaths, mutate, mutation, validDefinition } from './arbitraries.ts';
import type { Segment } from './arbitraries.ts';

function assertWellFormed(result: ValidationResult): void {
  assert.equal(result.ok, result.problems.length === 0);
  assert.equal(result.definition !== undefined, result.ok);
  for (const problem of [...result.problems, ...result.warnings]) {
    assert.ok(problem.path.length > 0, 'empty path');
    assert.ok(problem.message.trim().length > 0, `empty message at ${problem.path}`);
    assert.doesNotMatch(problem.message, /internal validator error|Invalid input/, formatProblem(problem));
  }
}

function describeResult(result: ValidationResult): string {
  return [...result.problems, ...result.warnings].map(formatProblem).join('\n');
}

/** Objects where any key is allowed: inside meta, and the maps (env, headers, …). */
function acceptsAnyKey(path: readonly Segment[]): boolean {
  if (path[0] === 'meta') return true;
  const last = path[path.length - 1];
  return last === 'env' || last === 'headers' || last === 'variables' || last === 'results' || last === 'system_resources';
}

function valueAt(root: unknown, path: readonly Segment[]): unknown {
  return path.reduce<unknown>((value, segment) => (value as Record<Segment, unknown>)[segment], root);
}

describe('property-based', () => {
  test('generated valid definitions are accepted, strict and lenient', () => {
    fc.assert(
      fc.property(validDefinition, (definition) => {
        for (const strictness of ['strict', 'lenient'] as const) {
          const result = validateJobDefinition(definition, { strictness });
          assertWellFormed(result);
          assert.equal(result.ok, true, `${strictness}:\n${describeResult(result)}\n${JSON.stringify(definition)}`);
        }
      }),
      { numRuns: 400 },
    );
  });

  test('mutated definitions never throw and every rejection names a path and a reason', () => {
    fc.assert(
      fc.property(validDefinition, fc.array(mutation, { minLength: 1, maxLength: 3 }), (definition, mutations) => {
        const mutated = mutations.reduce<unknown>(mutate, definition);
        for (const strictness of ['strict', 'lenient'] as const) assertWellFormed(validateJobDefinition(mutated, { strictness }));
      }),
      { numRuns: 1500 },
    );
  });

  test('arbitrary JSON never throws', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        assertWellFormed(validateJobDefinition(value));
        assertWellFormed(validateJobDefinition({ version: '0.1', type: 'container', ops: [value] }));
        assertWellFormed(
          validateJobDefinition({ version: '0.1', type: 'container', ops: [{ type: 'container/run', id: 'a', args: value }] }),
        );
      }),
      { numRuns: 600 },
    );
  });

  test('an unknown key anywhere outside meta and maps: an error when strict, a warning when lenient', () => {
    const withPlace = validDefinition.chain((definition) => {
      const objectPaths = allPaths(definition).filter((path) => {
        const value = valueAt(definition, path);
        return typeof value === 'object' && value !== null && !Array.isArray(value) && !acceptsAnyKey(path);
      });
      return fc.tuple(fc.constant(definition), fc.constantFrom(...objectPaths), fc.stringMatching(/^[a-z]{1,6}$/));
    });
    fc.assert(
      fc.property(withPlace, ([definition, path, suffix]) => {
        const key = `x_unknown_${suffix}`;
        const mutated = mutate(definition, {
          kind: 'insert-key',
          pick: allPaths(definition).findIndex((candidate) => formatPath(candidate) === formatPath(path)),
          key,
          value: 1,
        });
        const expectedPath = formatPath([...path, key]);

        const strict = validateJobDefinition(mutated, { strictness: 'strict' });
        assert.equal(strict.ok, false);
        assert.ok(
          strict.problems.some((problem) => problem.path === expectedPath && problem.message.includes(`unknown key "${key}"`)),
          `strict, expected ${expectedPath}:\n${describeResult(strict)}`,
        );

        const lenient = validateJobDefinition(mutated, { strictness: 'lenient' });
        assert.equal(lenient.ok, true, `lenient:\n${describeResult(lenient)}`);
        assert.ok(lenient.warnings.some((warning) => warning.path === expectedPath && warning.message.includes(`unknown key "${key}"`)));
      }),
      { numRuns: 400 },
    );
  });
});
