// Redaction by construction: a wallet logged by mistake (the Keypair, its bytes, its base58 or
// JSON-array text) never reaches the output, wherever it sits; ordinary values still do.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Keypair } from '@solana/web3.js';
import bs58 from 'bs58';
import { REDACTED, createLogger, redactValue } from '../../../src/runtime/logger.ts';
import { captureLogs } from './log-capture.ts';

const wallet = Keypair.generate();
const secretForms = {
  base58: bs58.encode(wallet.secretKey),
  seedBase58: bs58.encode(wallet.secretKey.subarray(0, 32)),
  jsonArray: JSON.stringify([...wallet.secretKey]),
  // how Buffer.toJSON and a spaced-out keypair file would show the bytes
  bytesJoined: [...wallet.secretKey].join(','),
  bytesSpaced: [...wallet.secretKey].join(', '),
};

function assertNoSecret(output: string): void {
  for (const [form, text] of Object.entries(secretForms)) {
    assert.equal(output.includes(text), false, `the secret key leaked as ${form}`);
  }
}

function logged(
  write: (log: ReturnType<typeof createLogger>) => void,
  level = 'debug',
): { text: string; lines: Record<string, unknown>[] } {
  const capture = captureLogs();
  write(createLogger({ level, destination: capture.destination }));
  return { text: capture.text(), lines: capture.lines() };
}

describe('logger: secrets never reach the output', () => {
  test('a Keypair logged directly as a field, or as the whole object', () => {
    const { text, lines } = logged((log) => {
      log.info({ wallet }, 'posting');
      log.info(wallet as unknown as object, 'the keypair itself');
    });
    assertNoSecret(text);
    assert.equal(lines[0]?.['wallet'], REDACTED);
    assert.equal(lines[1]?.['value'], REDACTED);
  });

  test('a Keypair or its bytes nested in objects and arrays, as Uint8Array, Buffer or number array', () => {
    const { text, lines } = logged((log) => {
      log.info({ context: { steps: [{ signer: wallet }, { raw: wallet.secretKey }] } }, 'nested');
      log.info({ request: { body: { key: Buffer.from(wallet.secretKey) }, parsed: [...wallet.secretKey] } }, 'bytes');
    });
    assertNoSecret(text);
    assert.deepEqual(lines[0]?.['context'], { steps: [{ signer: REDACTED }, { raw: REDACTED }] });
    assert.deepEqual(lines[1]?.['request'], { body: { key: REDACTED }, parsed: REDACTED });
  });

  test('the secret in text: an error message, a stack, a format argument, a string field', () => {
    const error = new Error(`cannot parse wallet ${secretForms.base58} (also tried ${secretForms.jsonArray})`);
    const { text, lines } = logged((log) => {
      log.error(error);
      log.warn({ err: new Error('outer', { cause: new Error(`inner [${secretForms.bytesSpaced}]`) }) }, 'wrapped');
      log.info('wallet is %s', secretForms.base58);
      log.info({ note: `key=${secretForms.jsonArray}` }, 'field');
    });
    assertNoSecret(text);
    assert.equal(lines[0]?.['msg'], `cannot parse wallet ${REDACTED} (also tried ${REDACTED})`);
    assert.equal(lines[2]?.['msg'], `wallet is ${REDACTED}`);
    assert.equal(lines[3]?.['note'], `key=${REDACTED}`);
  });

  test('child logger bindings are redacted too', () => {
    const { text, lines } = logged((log) => {
      log
        .child({ wallet, headers: { authorization: 'Bearer abc.def' } })
        .child({ nested: { secretKey: 'x' } })
        .info('from a grandchild');
    });
    assertNoSecret(text);
    assert.equal(text.includes('abc.def'), false);
    assert.equal(lines[0]?.['wallet'], REDACTED);
    assert.equal(lines[0]?.['headers'], REDACTED);
    assert.deepEqual(lines[0]?.['nested'], { secretKey: REDACTED });
  });

  test('keys named like credentials are redacted at any depth; references to them are not', () => {
    const value = redactValue({
      pinataJwt: 'eyJhbGciOi.payload.sig',
      spec: {
        walletSecretRef: { name: 'wallet', key: 'keypair.json' },
        auth: { password: 'hunter2', access_token: 't', apiKey: 'k', Authorization: 'Basic x' },
      },
      privateKey: 'p',
    });
    assert.deepEqual(value, {
      pinataJwt: REDACTED,
      spec: {
        walletSecretRef: { name: 'wallet', key: 'keypair.json' },
        auth: { password: REDACTED, access_token: REDACTED, apiKey: REDACTED, Authorization: REDACTED },
      },
      privateKey: REDACTED,
    });
  });

  test("a Kubernetes Secret's data is redacted whatever its keys are called", () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'wallet' },
      data: { 'id.json': Buffer.from(secretForms.jsonArray).toString('base64') },
      stringData: { 'id.json': secretForms.jsonArray },
    };
    assert.deepEqual(redactValue(secret), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'wallet' },
      data: REDACTED,
      stringData: REDACTED,
    });
  });
});

describe('logger: ordinary values survive', () => {
  test('public keys, transaction signatures, bigints and plain fields are logged as they are', () => {
    // 64 random bytes are a valid signature shape but not a keypair: the halves do not match.
    const signature = bs58.encode(randomBytes(64));
    const { lines } = logged((log) =>
      log.info({ wallet: wallet.publicKey, signature, deposit: 12_345_678_901_234_567_890n, attempts: 2 }, `sent ${signature}`),
    );
    assert.equal(lines[0]?.['wallet'], wallet.publicKey.toBase58());
    assert.equal(lines[0]?.['signature'], signature);
    assert.equal(lines[0]?.['deposit'], '12345678901234567890');
    assert.equal(lines[0]?.['attempts'], 2);
    assert.equal(lines[0]?.['msg'], `sent ${signature}`);
  });

  test('errors keep name, message, code and stack, and drop other properties', () => {
    const error = Object.assign(new RangeError('too much'), { code: 'E_LIMIT', response: { body: 'whatever the server said' } });
    const { lines } = logged((log) => log.error({ err: error }, 'failed'));
    const serialized = lines[0]?.['err'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(serialized).sort(), ['code', 'message', 'name', 'stack']);
    assert.equal(serialized['name'], 'RangeError');
    assert.equal(serialized['code'], 'E_LIMIT');
  });

  test('circular structures and throwing getters do not break a log call', () => {
    const loop: Record<string, unknown> = { name: 'loop' };
    loop['self'] = loop;
    const hostile = {
      get boom(): never {
        throw new Error('getter');
      },
    };
    const { lines } = logged((log) => log.info({ loop, hostile }, 'odd values'));
    assert.deepEqual(lines[0]?.['loop'], { name: 'loop', self: '[circular]' });
    assert.equal(lines[0]?.['hostile'], '[unloggable]');
  });

  test('lines are JSON with a level label; the level filters; an unknown level is refused', () => {
    const { lines } = logged((log) => {
      log.debug('hidden');
      log.info('shown');
    }, 'info');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.['level'], 'info');
    assert.match(String(lines[0]?.['time']), /^\d{4}-\d\d-\d\dT/);
    assert.throws(
      () => createLogger({ level: 'verbose' }),
      /unknown log level "verbose": expected one of trace, debug, info, warn, error, fatal, silent/,
    );
  });
});
