// Cross-check of the project's hand-written IDL against the reference IDL shipped beside the
// protocol spec (new IDL format, snake_case names, `finish` in the program's real order). The
// reference lives outside the repository; without it these tests are reported as skipped.
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jobsIdl } from '../../../src/chain/idl.ts';
import { NETWORKS } from '../../../src/chain/addresses.ts';

interface ReferenceIdl {
  address: string;
  instructions: {
    name: string;
    discriminator: number[];
    accounts: { name: string; writable?: boolean; signer?: boolean }[];
    args: { name: string; type: unknown }[];
  }[];
  accounts: { name: string; discriminator: number[] }[];
  types: { name: string; type: { kind: string; fields?: { name: string; type: unknown }[] } }[];
  errors: { code: number; name: string }[];
}

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const referencePath = path.join(repoRoot, '..', 'shared', 'nosana', 'idl', 'nosana_jobs.anchor030.json');
const reference = existsSync(referencePath) ? (JSON.parse(readFileSync(referencePath, 'utf8')) as ReferenceIdl) : undefined;

/** The admin-only instructions the reference lists and the project never builds. */
const ADMIN_ONLY = ['cleanAdmin', 'closeAdmin', 'quitAdmin'];

const camelCase = (name: string): string => name.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());

const ours = jobsIdl(NETWORKS.mainnet.jobsProgram.toBase58());

/** Runs `body` with the reference IDL, or reports the test as skipped when the file is absent. */
function withReference(body: (idl: ReferenceIdl) => void) {
  return (t: TestContext): void => {
    if (reference === undefined) {
      t.skip(`reference IDL not found at ${referencePath}`);
      return;
    }
    body(reference);
  };
}

function referenceInstruction(idl: ReferenceIdl, name: string) {
  const found = idl.instructions.find((instruction) => camelCase(instruction.name) === name);
  assert.ok(found !== undefined, `the reference has no instruction ${name}`);
  return found;
}

describe('our jobs IDL against the reference IDL', () => {
  test(
    'both describe the mainnet jobs program',
    withReference((idl) => {
      assert.equal(idl.address, NETWORKS.mainnet.jobsProgram.toBase58());
      assert.equal(ours.address, idl.address);
    }),
  );

  test(
    'the same instructions, apart from the admin-only ones',
    withReference((idl) => {
      const theirs = idl.instructions.map((instruction) => camelCase(instruction.name));
      const mine = ours.instructions.map((instruction) => instruction.name);
      assert.deepEqual(theirs.filter((name) => !mine.includes(name)).sort(), ADMIN_ONLY);
      assert.deepEqual(
        mine.filter((name) => !theirs.includes(name)),
        [],
      );
    }),
  );

  for (const instruction of ours.instructions) {
    describe(instruction.name, () => {
      test(
        'discriminator',
        withReference((idl) => {
          assert.deepEqual(instruction.discriminator, referenceInstruction(idl, instruction.name).discriminator);
        }),
      );

      test(
        'accounts: order, writable, signer',
        withReference((idl) => {
          const theirs = referenceInstruction(idl, instruction.name).accounts.map((account) => [
            camelCase(account.name),
            account.writable === true,
            account.signer === true,
          ]);
          const mine = instruction.accounts.map((account) => {
            assert.ok('writable' in account, `${instruction.name}.${account.name} is a plain account, not a group`);
            return [account.name, account.writable === true, account.signer === true];
          });
          assert.deepEqual(mine, theirs);
        }),
      );

      test(
        'arguments: order and types',
        withReference((idl) => {
          const theirs = referenceInstruction(idl, instruction.name).args.map((arg) => [camelCase(arg.name), arg.type]);
          assert.deepEqual(
            instruction.args.map((arg) => [arg.name, arg.type]),
            theirs,
          );
        }),
      );
    });
  }

  test(
    "finish lists payerRun before payerJob and no project (the program's real order)",
    withReference((idl) => {
      const names = referenceInstruction(idl, 'finish').accounts.map((account) => camelCase(account.name));
      assert.deepEqual(names, ['job', 'run', 'market', 'vault', 'deposit', 'user', 'payerRun', 'payerJob', 'authority', 'tokenProgram']);
    }),
  );

  test(
    'account discriminators',
    withReference((idl) => {
      assert.deepEqual(
        (ours.accounts ?? []).map((account) => [account.name, account.discriminator]),
        idl.accounts.map((account) => [account.name, account.discriminator]),
      );
    }),
  );

  // The reference declares the enum-like fields as u8 too (its QueueType/JobState/JobType enums
  // are documentation only), so the field types compare without exceptions.
  test(
    'account struct fields: names, order and types',
    withReference((idl) => {
      for (const account of ours.accounts ?? []) {
        const theirs = idl.types.find((type) => type.name === account.name)?.type.fields;
        const mine = ours.types?.find((type) => type.name === account.name)?.type;
        assert.ok(theirs !== undefined && mine?.kind === 'struct', `${account.name} is a struct in both IDLs`);
        assert.deepEqual(
          ((mine.fields ?? []) as unknown[]).map((field) => {
            assert.ok(
              typeof field === 'object' && field !== null && 'name' in field && 'type' in field,
              `${account.name} has named fields`,
            );
            return [field.name, field.type];
          }),
          theirs.map((field) => [camelCase(field.name), field.type]),
          account.name,
        );
      }
    }),
  );

  test(
    'error codes and names',
    withReference((idl) => {
      assert.deepEqual(
        (ours.errors ?? []).map((error) => [error.code, error.name]),
        idl.errors.map((error) => [error.code, error.name]),
      );
    }),
  );
});
