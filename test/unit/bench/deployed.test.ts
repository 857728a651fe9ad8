import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { totalmem } from 'node:os';
import { test } from 'node:test';
import { oldSpaceMiBFor } from '../../../bench/deployed.ts';

const MIB = 2 ** 20;

test('the heap a Pod limit gives: half the limit, at least 256 MiB, at most 4 GiB', () => {
  assert.equal(oldSpaceMiBFor(512 * MIB), 256);
  assert.equal(oldSpaceMiBFor(1_536 * MIB), 768);
  assert.equal(oldSpaceMiBFor(128 * MIB), 256);
  assert.equal(oldSpaceMiBFor(64 * 1_024 * MIB), 4_096);
});

test("the rule is Node's own: for this machine's memory (or its container's limit) it sets the heap Node picks without the flag", () => {
  const constrained = process.constrainedMemory();
  const memory = constrained > 0 && constrained < totalmem() ? constrained : totalmem();
  const heapLimit = (flags: string[]): number =>
    Number(
      execFileSync(process.execPath, [...flags, '-p', 'require("node:v8").getHeapStatistics().heap_size_limit'], { encoding: 'utf8' }),
    );
  assert.equal(heapLimit([`--max-old-space-size=${oldSpaceMiBFor(memory)}`]), heapLimit([]));
});
