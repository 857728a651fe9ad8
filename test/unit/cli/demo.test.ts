// `nosana-operator demo` before it starts anything: its help, and usage errors that name the flag.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEMO_USAGE, runDemoCommand } from '../../../src/cli/demo.ts';
import type { CommandIo } from '../../../src/cli/io.ts';
import { usage } from '../../../src/cli/main.ts';

function capture(): { io: CommandIo; stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (text: string) => (out += text) }, stderr: { write: (text: string) => (err += text) } },
    stdout: () => out,
    stderr: () => err,
  };
}

describe('nosana-operator demo: flags', () => {
  test('--help prints the usage, with --keep and --timeout, and starts nothing', async () => {
    const { io, stdout, stderr } = capture();
    assert.equal(await runDemoCommand(['--help'], io), 0);
    assert.equal(stdout(), DEMO_USAGE);
    assert.match(DEMO_USAGE, /--keep/);
    assert.match(DEMO_USAGE, /--timeout D .*\n.*\(default 5m\)/);
    assert.equal(stderr(), '');
  });

  const refused: { reason: string; args: string[]; want: RegExp }[] = [
    { reason: 'a timeout that is not a duration', args: ['--timeout', 'soon'], want: /--timeout/ },
    { reason: 'a zero timeout', args: ['--timeout', '0s'], want: /--timeout must be longer than zero/ },
    { reason: 'an unknown option', args: ['--wallet', 'x'], want: /Unknown option '--wallet'/ },
    { reason: 'a positional argument', args: ['story.json'], want: /Unexpected argument 'story.json'/ },
  ];
  for (const { reason, args, want } of refused) {
    test(`usage error: ${reason}`, async () => {
      const { io, stdout, stderr } = capture();
      assert.equal(await runDemoCommand(args, io), 2);
      assert.match(stderr(), want);
      assert.match(stderr(), /Usage: nosana-operator demo/);
      assert.equal(stdout(), '');
    });
  }

  test('the command list names it', () => {
    assert.match(usage(), /^ {2}demo +see it work/m);
  });
});
