// Finding the program error in a failed transaction's logs, and why errors are matched by name.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ANCHOR_ERRORS,
  COMMON_ERRORS,
  JOB_ERRORS,
  STAKE_ERRORS,
  errorInfoByName,
  parseProgramError,
} from '../../../src/chain/program-errors.ts';

const JOBS_PROGRAM = 'nosJhNRqr2bc9g1nfGDcXXTXvYUmxD4cVwy2pMWhrYM';

/** The shape of a failed `clean`: invoke, Anchor's error line, consumption, failure. */
const cleanTooEarly = [
  'Program ComputeBudget111111111111111111111111111111 invoke [1]',
  'Program ComputeBudget111111111111111111111111111111 success',
  `Program ${JOBS_PROGRAM} invoke [1]`,
  'Program log: Instruction: Clean',
  'Program log: AnchorError thrown in programs/nosana-jobs/src/instructions/clean.rs:20. Error Code: JobNotExpired. Error Number: 6005. Error Message: This job has not expired yet.',
  `Program ${JOBS_PROGRAM} consumed 5321 of 199850 compute units`,
  `Program ${JOBS_PROGRAM} failed: custom program error: 0x1775`,
];

/** The account-constraint variant names the account before the error code. */
const finishWrongPayer = [
  `Program ${JOBS_PROGRAM} invoke [1]`,
  'Program log: Instruction: Finish',
  'Program log: AnchorError caused by account: job. Error Code: InvalidPayer. Error Number: 6008. Error Message: This payer is not valid.',
  `Program ${JOBS_PROGRAM} consumed 9000 of 200000 compute units`,
  `Program ${JOBS_PROGRAM} failed: custom program error: 0x1778`,
];

describe('parseProgramError', () => {
  test('reads name, number and message from an AnchorError thrown line', () => {
    assert.deepEqual(parseProgramError(cleanTooEarly), { name: 'JobNotExpired', code: 6005, message: 'This job has not expired yet' });
  });

  test('reads the "caused by account" variant', () => {
    assert.deepEqual(parseProgramError(finishWrongPayer), { name: 'InvalidPayer', code: 6008, message: 'This payer is not valid' });
  });

  test('an Anchor framework error (constraint) parses the same way', () => {
    const logs = [
      'Program log: AnchorError caused by account: deposit. Error Code: ConstraintDuplicateMutableAccount. Error Number: 2040. Error Message: A mutable account was passed more than once.',
    ];
    const parsed = parseProgramError(logs);
    assert.equal(parsed?.name, 'ConstraintDuplicateMutableAccount');
    assert.equal(parsed?.code, 2040);
  });

  test('the first error line wins when a CPI failure is echoed', () => {
    const logs = [
      'Program log: AnchorError thrown in programs/nosana-rewards/src/lib.rs:1. Error Code: Unauthorized. Error Number: 6000. Error Message: This account is not authorized to perform this action.',
      'Program log: AnchorError thrown in programs/nosana-jobs/src/lib.rs:2. Error Code: JobInWrongState. Error Number: 6004. Error Message: This job does not have the right status.',
    ];
    assert.equal(parseProgramError(logs)?.name, 'Unauthorized');
  });

  test('a line without an error message still yields name and number', () => {
    const parsed = parseProgramError(['Program log: AnchorError occurred. Error Code: JobResultNull. Error Number: 6006.']);
    assert.equal(parsed?.name, 'JobResultNull');
    assert.equal(parsed?.code, 6006);
  });

  test('logs without an Anchor error give undefined', () => {
    assert.equal(
      parseProgramError([
        `Program ${JOBS_PROGRAM} invoke [1]`,
        'Program log: Instruction: List',
        'Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA invoke [2]',
        'Program log: Error: insufficient funds',
        'Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA failed: custom program error: 0x1',
      ]),
      undefined,
    );
    assert.equal(parseProgramError([]), undefined);
    assert.equal(parseProgramError(null), undefined);
    assert.equal(parseProgramError(undefined), undefined);
  });
});

describe('error tables', () => {
  test("the jobs program's errors are numbered 6000–6018 in the protocol's order", () => {
    assert.equal(JOB_ERRORS.length, 19);
    assert.deepEqual(
      JOB_ERRORS.map((error) => error.code),
      Array.from({ length: 19 }, (_, index) => 6000 + index),
    );
    assert.equal(JOB_ERRORS[0]?.name, 'InvalidMarketAccount');
    assert.equal(JOB_ERRORS[5]?.name, 'JobNotExpired');
    assert.equal(JOB_ERRORS[18]?.name, 'NodeKeyInvalidCollection');
  });

  // Both enums start at 6000, so a bare number cannot say which error happened: clients must
  // identify errors by the name Anchor logs.
  test('6000 means two different errors: numbers are ambiguous, names are not', () => {
    const jobs6000 = JOB_ERRORS.find((error) => error.code === 6000);
    const common6000 = COMMON_ERRORS.find((error) => error.code === 6000);
    assert.equal(jobs6000?.name, 'InvalidMarketAccount');
    assert.equal(common6000?.name, 'Unauthorized');
    assert.notEqual(jobs6000.name, common6000.name);
    const jobsNames = new Set(JOB_ERRORS.map((error) => error.name));
    assert.ok(
      COMMON_ERRORS.every((error) => !jobsNames.has(error.name)),
      'no name is shared between the two enums',
    );
  });

  test('every error has a name and a message', () => {
    for (const error of [...JOB_ERRORS, ...COMMON_ERRORS, ...ANCHOR_ERRORS, ...STAKE_ERRORS]) {
      assert.match(error.name, /^[A-Z][A-Za-z]+$/);
      assert.ok(error.msg.length > 0, `${error.name} has a message`);
    }
  });

  test('errorInfoByName finds errors of each table and nothing else', () => {
    assert.equal(errorInfoByName('JobNotExpired')?.code, 6005);
    assert.equal(errorInfoByName('InvalidPayer')?.code, 6008);
    assert.equal(errorInfoByName('ConstraintDuplicateMutableAccount')?.code, 2040);
    assert.equal(errorInfoByName('NoSuchError'), undefined);
  });

  test('a parsed log name resolves to its table entry', () => {
    const parsed = parseProgramError(cleanTooEarly);
    assert.equal(errorInfoByName(parsed?.name ?? '')?.code, parsed?.code);
  });
});
