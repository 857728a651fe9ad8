import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { locateJsonSyntaxError } from '../../../src/cli/json-location.ts';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('locateJsonSyntaxError', () => {
  test('points at the first offending character', () => {
    const cases: [string, number, number, string][] = [
      ['{\n  "a": 1\n  "b": 2\n}', 3, 3, 'expected "," or "}" after a property value'],
      ['{"a" 1}', 1, 6, `unexpected character "1", expected ":" after the property name`],
      ['[1, 2,]', 1, 6, 'trailing comma before "]"'],
      ['{"a": tru}', 1, 7, 'unexpected character "t", expected a value'],
      ['{"a": 1}}', 1, 9, 'after the end of the JSON value'],
      ['{\n  "a": "x', 2, 8, 'unterminated string'],
      ['{"a": 01}', 1, 8, 'invalid number'],
      ['', 1, 1, 'unexpected end of input, expected a value'],
      ["{'a': 1}", 1, 2, 'expected a property name in double quotes'],
      ['["a\tb"]', 1, 4, 'control character in a string'],
    ];
    for (const [text, line, column, message] of cases) {
      const located = locateJsonSyntaxError(text);
      assert.ok(located, `expected an error for ${JSON.stringify(text)}`);
      assert.equal(`${located.line}:${located.column}`, `${line}:${column}`, `${JSON.stringify(text)}: ${located.message}`);
      assert.ok(located.message.includes(message), `${JSON.stringify(text)}: ${located.message}`);
    }
  });

  test('copes with very deep nesting', () => {
    assert.equal(locateJsonSyntaxError('['.repeat(200_000) + ']'.repeat(200_000)), undefined);
    assert.equal(locateJsonSyntaxError('['.repeat(200_000))?.message, 'unexpected end of input, expected a value');
  });

  test('agrees with JSON.parse on what is valid', () => {
    fc.assert(
      fc.property(fc.json(), (text) => locateJsonSyntaxError(text) === undefined),
      { numRuns: 300 },
    );
    const nearlyJson = fc
      .tuple(fc.json(), fc.nat(), fc.constantFrom('', ',', '}', ']', '"', ':', 'x', '\\', ' ', '0', '-', '\n'))
      .map(([text, at, insert]) => {
        const position = text.length === 0 ? 0 : at % (text.length + 1);
        return text.slice(0, position) + insert + text.slice(position + (insert === '' ? 1 : 0));
      });
    fc.assert(
      fc.property(nearlyJson, (text) => (locateJsonSyntaxError(text) === undefined) === parses(text)),
      { numRuns: 1000 },
    );
  });
});
