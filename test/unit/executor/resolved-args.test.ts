// Args with their literals resolved are validated again: what a spread splices in is checked
// before any object is built from it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkResolvedArgs } from '../../../src/executor/resolved-args.ts';

describe('resolved args are checked again', () => {
  const rows: { reason: string; args: unknown; want: RegExp | Record<string, unknown> }[] = [
    {
      reason: 'args as a definition would have them pass, as parsed',
      args: { image: 'ubuntu', cmd: ['echo', 'hi'], expose: [8080] },
      want: { image: 'ubuntu', cmd: ['echo', 'hi'], expose: [8080] },
    },
    {
      reason: 'a spread that made a resource without its repo fails, naming the field from args',
      args: { image: 'ubuntu', resources: [{ type: 'HF', target: '/m' }] },
      want: /^after its literals were resolved, args\.resources\[0\].*repo/,
    },
    {
      reason: 'a port a results line turned into text fails, naming the field',
      args: { image: 'ubuntu', expose: [{ port: 'ninety' }] },
      want: /args\.expose\[0\]/,
    },
    {
      reason: 'text left in an expose list publishes nothing; the ports beside it stay',
      args: { image: 'ubuntu', expose: [1000, '"[{"port": 9000}]"'] },
      want: { expose: [1000] },
    },
    {
      reason: 'an image that resolved to nothing fails',
      args: { image: 42 },
      want: /args\.image/,
    },
  ];
  for (const { reason, args, want } of rows) {
    test(reason, () => {
      const checked = checkResolvedArgs('op', args);
      if (want instanceof RegExp) {
        assert.ok('error' in checked, 'refused');
        assert.match(checked.error, want);
      } else {
        assert.ok('args' in checked, 'error' in checked ? checked.error : '');
        for (const [key, value] of Object.entries(want)) assert.deepEqual((checked.args as Record<string, unknown>)[key], value, key);
      }
    });
  }
});
