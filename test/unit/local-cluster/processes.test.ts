// A control-plane component killed and relaunched, as the Kubernetes-faults tests do to etcd and
// the API server: kill() is a SIGKILL that even a process ignoring SIGTERM cannot outlive, and
// relaunch() starts the same command and arguments again, its log continuing the old one.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Component, type ComponentSpec } from '../../../src/local-cluster/processes.ts';
import { waitFor } from '../../../src/local-cluster/wait.ts';

// prints its argument, then ignores SIGTERM: only a SIGKILL ends it quickly
const STUBBORN_SCRIPT = "console.log('started ' + process.argv[1]); process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);";

function startedLines(component: Component): string[] {
  return component
    .logTail(100)
    .split('\n')
    .filter((line) => line.startsWith('started '));
}

describe('a component killed and relaunched', () => {
  let logDir: string;
  const spawned: Component[] = [];
  const spec = (): ComponentSpec => ({ name: 'stubborn', command: process.execPath, args: ['-e', STUBBORN_SCRIPT, 'same-args'] });

  before(async () => {
    logDir = await mkdtemp(join(tmpdir(), 'nosana-processes-test-'));
  });
  after(async () => {
    for (const component of spawned) component.killNow();
    await rm(logDir, { recursive: true, force: true });
  });

  test('kill() SIGKILLs it; relaunch() runs the same command again, appending to the same log', async () => {
    const first = new Component(spec(), logDir);
    spawned.push(first);
    await waitFor(() => startedLines(first).length === 1, { what: 'the first process to print', timeoutMs: 10_000 });
    assert.throws(() => first.relaunch(), /still running/, 'a running component is not relaunched beside itself');

    await first.kill();
    assert.equal(first.running, false);
    assert.throws(() => first.assertRunning(), /signal SIGKILL/);

    const second = first.relaunch();
    spawned.push(second);
    assert.notEqual(second.pid, first.pid, 'a new process');
    assert.equal(second.logFile, first.logFile, 'the same log file');
    await waitFor(() => startedLines(second).length === 2, { what: 'the relaunched process to print', timeoutMs: 10_000 });
    assert.deepEqual(startedLines(second), ['started same-args', 'started same-args'], 'the same arguments, the log continued');
    second.assertRunning();
  });
});
