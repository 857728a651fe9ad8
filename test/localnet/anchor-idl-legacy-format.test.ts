// The conversion from the project's IDLs (spec 0.1.0) to the legacy format the localnet publishes:
// every form the legacy format can say, said the way Anchor 0.28 reads it, and every form it
// cannot say refused by name rather than written wrong. Pure: no localnet.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Idl } from '@coral-xyz/anchor';
import { LegacyIdlConversionError, toLegacyIdl } from '../../src/localnet/idl/legacy-idl.ts';

const ADDRESS = 'nosJTmGQxvwXy23vng5UjkTbfv91Bzf9jEuro78dAGR';

function idlWith(parts: Partial<Idl>): Idl {
  return { address: ADDRESS, metadata: { name: 'sample', version: '1.2.3', spec: '0.1.0' }, instructions: [], ...parts };
}

describe('toLegacyIdl', () => {
  test('says each part the legacy way', () => {
    const idl = idlWith({
      docs: ['A sample program.'],
      instructions: [
        {
          name: 'doThing',
          docs: ['Does the thing.'],
          discriminator: [1, 2, 3, 4, 5, 6, 7, 8],
          accounts: [
            { name: 'payer', writable: true, signer: true },
            { name: 'reader' },
            { name: 'extra', optional: true },
            { name: 'group', accounts: [{ name: 'inner', writable: true }] },
          ],
          args: [
            { name: 'key', type: 'pubkey' },
            { name: 'keys', type: { vec: 'pubkey' } },
            { name: 'hash', type: { array: ['u8', 32] } },
            { name: 'maybe', type: { option: 'i64' } },
            { name: 'settings', type: { defined: { name: 'Settings' } } },
          ],
        },
      ],
      accounts: [{ name: 'ThingAccount', discriminator: [9, 9, 9, 9, 9, 9, 9, 9] }],
      types: [
        { name: 'ThingAccount', docs: ['Holds a thing.'], type: { kind: 'struct', fields: [{ name: 'owner', type: 'pubkey' }] } },
        { name: 'Settings', type: { kind: 'struct', fields: [{ name: 'limit', type: 'u128' }] } },
        {
          name: 'Mode',
          type: {
            kind: 'enum',
            variants: [
              { name: 'Off' },
              { name: 'On', fields: [{ name: 'level', type: 'u8' }] },
              { name: 'Pair', fields: ['u8', 'pubkey'] },
            ],
          },
        },
      ],
      errors: [
        { code: 6000, name: 'Broken', msg: 'it broke' },
        { code: 6001, name: 'Silent' },
      ],
    });

    assert.deepEqual(toLegacyIdl(idl), {
      version: '1.2.3',
      name: 'sample',
      docs: ['A sample program.'],
      instructions: [
        {
          name: 'doThing',
          docs: ['Does the thing.'],
          accounts: [
            { name: 'payer', isMut: true, isSigner: true },
            { name: 'reader', isMut: false, isSigner: false },
            { name: 'extra', isMut: false, isSigner: false, isOptional: true },
            { name: 'group', accounts: [{ name: 'inner', isMut: true, isSigner: false }] },
          ],
          args: [
            { name: 'key', type: 'publicKey' },
            { name: 'keys', type: { vec: 'publicKey' } },
            { name: 'hash', type: { array: ['u8', 32] } },
            { name: 'maybe', type: { option: 'i64' } },
            { name: 'settings', type: { defined: 'Settings' } },
          ],
        },
      ],
      // Account layouts move under `accounts`, without discriminators (legacy clients hash the name).
      accounts: [
        { name: 'ThingAccount', docs: ['Holds a thing.'], type: { kind: 'struct', fields: [{ name: 'owner', type: 'publicKey' }] } },
      ],
      types: [
        { name: 'Settings', type: { kind: 'struct', fields: [{ name: 'limit', type: 'u128' }] } },
        {
          name: 'Mode',
          type: {
            kind: 'enum',
            variants: [
              { name: 'Off' },
              { name: 'On', fields: [{ name: 'level', type: 'u8' }] },
              { name: 'Pair', fields: ['u8', 'publicKey'] },
            ],
          },
        },
      ],
      errors: [
        { code: 6000, name: 'Broken', msg: 'it broke' },
        { code: 6001, name: 'Silent' },
      ],
      metadata: { address: ADDRESS },
    });
  });

  const refused: { reason: string; idl: Idl; message: RegExp }[] = [
    {
      reason: 'an account without a type definition',
      idl: idlWith({ accounts: [{ name: 'Orphan', discriminator: [0, 0, 0, 0, 0, 0, 0, 0] }] }),
      message: /account Orphan has no type definition/,
    },
    {
      reason: 'a generic type definition',
      idl: idlWith({
        types: [
          {
            name: 'Boxed',
            generics: [{ kind: 'type', name: 'T' }],
            type: { kind: 'struct', fields: [{ name: 'inner', type: { generic: 'T' } }] },
          },
        ],
      }),
      message: /Boxed: a generic type/,
    },
    {
      reason: 'a type alias',
      idl: idlWith({ types: [{ name: 'Amount', type: { kind: 'type', alias: 'u64' } }] }),
      message: /Amount: a type alias/,
    },
    {
      reason: 'a tuple struct',
      idl: idlWith({ types: [{ name: 'Pair', type: { kind: 'struct', fields: ['u8', 'u8'] } }] }),
      message: /Pair: a tuple struct/,
    },
    {
      reason: 'an array of generic length',
      idl: idlWith({
        instructions: [
          {
            name: 'fill',
            discriminator: [0, 0, 0, 0, 0, 0, 0, 0],
            accounts: [],
            args: [{ name: 'bytes', type: { array: ['u8', { generic: 'N' }] } }],
          },
        ],
      }),
      message: /fill\.bytes: an array of generic length/,
    },
    {
      reason: 'events',
      idl: idlWith({ events: [{ name: 'Happened', discriminator: [0, 0, 0, 0, 0, 0, 0, 0] }] }),
      message: /events are not converted/,
    },
  ];

  for (const { reason, idl, message } of refused) {
    test(`refuses ${reason}`, () => {
      assert.throws(
        () => toLegacyIdl(idl),
        (error: unknown) => error instanceof LegacyIdlConversionError && message.test(error.message),
      );
    });
  }
});
