import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { Keypair } from '@solana/web3.js';
import bs58 from 'bs58';
import { serializeWallet } from '../../../src/chain/wallet.ts';
import { describeLeaks, SecretScanner } from '../../harness/secret-scan.ts';

// Fresh keys and tokens every run: the scanner must work on any secret, not on one it was tuned to.
const wallet = Keypair.generate();
const other = Keypair.generate();
const token = `tok_${randomBytes(24).toString('hex')}`;
const scanner = new SecretScanner([
  { label: 'the wallet', secretKey: wallet.secretKey },
  { label: 'the pinning token', strings: [token] },
]);

const secretBase58 = bs58.encode(wallet.secretKey);
const secretHex = Buffer.from(wallet.secretKey).toString('hex');
const secretBase64 = Buffer.from(wallet.secretKey).toString('base64');
const secretDataOfSecret = Buffer.from(serializeWallet(wallet)).toString('base64');
const publicBytes = wallet.publicKey.toBytes();

function encodings(text: string): string[] {
  return scanner.scan(text).map((finding) => `${finding.secret}: ${finding.encoding}`);
}

describe('the secret scanner finds key material and tokens in any form, and nothing else', () => {
  const leaks: { reason: string; text: string; want: string }[] = [
    {
      reason: 'the base58 secret key (a Phantom export)',
      text: `key=${secretBase58}`,
      want: 'the wallet: base58 of the 64-byte secret key',
    },
    {
      reason: 'a base58 secret key cut to 24 characters',
      text: `key=${secretBase58.slice(0, 24)}…`,
      want: 'the wallet: base58 of the 64-byte secret key',
    },
    {
      reason: 'the last 24 characters of the base58 secret key',
      text: secretBase58.slice(-24),
      want: 'the wallet: base58 of the 64-byte secret key',
    },
    {
      reason: 'the base58 seed alone',
      text: bs58.encode(wallet.secretKey.subarray(0, 32)),
      want: 'the wallet: base58 of the 32-byte seed',
    },
    {
      reason: 'the keypair file (JSON array without spaces)',
      text: serializeWallet(wallet),
      want: 'the wallet: decimal byte list (JSON array)',
    },
    {
      reason: 'a JSON array with spaces',
      text: JSON.stringify([...wallet.secretKey]).replaceAll(',', ', '),
      want: 'the wallet: decimal byte list (JSON array)',
    },
    {
      reason: 'a JSON array pretty-printed over lines',
      text: JSON.stringify([...wallet.secretKey], null, 2),
      want: 'the wallet: decimal byte list (JSON array)',
    },
    { reason: 'util.inspect of the Uint8Array', text: inspect(wallet.secretKey), want: 'the wallet: decimal byte list (JSON array)' },
    {
      reason: 'the first eight bytes of the array only',
      text: `[${[...wallet.secretKey.subarray(0, 8)].join(',')}`,
      want: 'the wallet: decimal byte list (JSON array)',
    },
    { reason: 'hex of the secret key', text: secretHex, want: 'the wallet: hex of the secret key' },
    { reason: 'upper-case hex', text: secretHex.toUpperCase(), want: 'the wallet: hex of the secret key' },
    { reason: 'util.inspect of a Buffer', text: inspect(Buffer.from(wallet.secretKey)), want: 'the wallet: hex byte list' },
    { reason: 'base64 of the secret key', text: secretBase64, want: 'the wallet: base64 of the secret key' },
    {
      reason: 'the secret key inside a larger base64 blob, off the three-byte alignment',
      text: Buffer.concat([Buffer.from('xy'), Buffer.from(wallet.secretKey)]).toString('base64'),
      want: 'the wallet: base64 of the secret key',
    },
    {
      reason: "the Kubernetes Secret's data (base64 of the keypair file)",
      text: secretDataOfSecret,
      want: 'the wallet: base64 of the keypair file (JSON array)',
    },
    {
      reason: "24 characters of the Secret's data",
      text: secretDataOfSecret.slice(8, 32),
      want: 'the wallet: base64 of the keypair file (JSON array)',
    },
    { reason: 'the token as written', text: `Authorization: Bearer ${token}`, want: 'the pinning token: plain text' },
    { reason: 'the token cut short', text: token.slice(3, 27), want: 'the pinning token: plain text' },
    {
      reason: 'the token in a Basic authorization header',
      text: `Basic ${Buffer.from(`user:${token}`).toString('base64')}`,
      want: 'the pinning token: base64',
    },
  ];
  for (const { reason, text, want } of leaks) {
    test(`flagged: ${reason}`, () => {
      assert.ok(encodings(`{"msg":"reconciled","detail":"${text}"}`).includes(want), `${want} in ${JSON.stringify(encodings(text))}`);
    });
  }

  const innocent: { reason: string; text: string }[] = [
    { reason: 'the public key in base58 (status.nodeAddress)', text: wallet.publicKey.toBase58() },
    { reason: 'the public key as a JSON array', text: JSON.stringify([...publicBytes]) },
    { reason: 'the public key in hex, i.e. the second half of the secret key hex', text: secretHex.slice(64) },
    { reason: 'the public key in base64', text: Buffer.from(publicBytes).toString('base64') },
    { reason: 'the public half of the keypair file', text: JSON.stringify([...wallet.secretKey.subarray(32)]) },
    {
      reason: "another wallet's secret key in every form",
      text: [bs58.encode(other.secretKey), serializeWallet(other), Buffer.from(other.secretKey).toString('hex')].join('\n'),
    },
    { reason: 'a log full of numbers', text: Array.from({ length: 500 }, (_, index) => index % 256).join(', ') },
    { reason: 'a different token of the same shape', text: `tok_${randomBytes(24).toString('hex')}` },
  ];
  for (const { reason, text } of innocent) {
    test(`not flagged: ${reason}`, () => {
      assert.deepEqual(encodings(text), []);
    });
  }

  test('a malformed key (63 bytes) is a secret too', () => {
    const truncated = wallet.secretKey.subarray(0, 63);
    const malformed = new SecretScanner([{ label: 'the broken wallet', secretKey: truncated }]);
    assert.deepEqual(
      malformed.scan(JSON.stringify([...truncated])).map((finding) => finding.encoding),
      ['decimal byte list (JSON array)'],
    );
    assert.deepEqual(
      malformed.scan(bs58.encode(truncated)).map((finding) => finding.encoding),
      ['base58 of the 63-byte secret key'],
    );
  });

  test('one key stored in two Secrets is reported as each of them, in every form', () => {
    // The integration sweep stores one 63-byte key as a wallet and as a node key, and checks that
    // each Secret's own data is flagged as that Secret.
    const truncated = wallet.secretKey.subarray(0, 63);
    const twice = new SecretScanner([
      { label: 'the wallet Secret', secretKey: truncated },
      { label: 'the node key Secret', secretKey: truncated },
      { label: 'the first token Secret', strings: [token] },
      { label: 'the second token Secret', strings: [token] },
    ]);
    const forms: { reason: string; text: string; secrets: string[] }[] = [
      {
        reason: "a Secret's data (base64 of the JSON array)",
        text: Buffer.from(JSON.stringify([...truncated])).toString('base64'),
        secrets: ['the wallet Secret', 'the node key Secret'],
      },
      { reason: 'the JSON array', text: JSON.stringify([...truncated]), secrets: ['the wallet Secret', 'the node key Secret'] },
      { reason: 'base58', text: bs58.encode(truncated), secrets: ['the wallet Secret', 'the node key Secret'] },
      { reason: 'hex', text: Buffer.from(truncated).toString('hex'), secrets: ['the wallet Secret', 'the node key Secret'] },
      { reason: 'util.inspect of a Buffer', text: inspect(Buffer.from(truncated)), secrets: ['the wallet Secret', 'the node key Secret'] },
      { reason: 'the token', text: `Bearer ${token}`, secrets: ['the first token Secret', 'the second token Secret'] },
    ];
    for (const { reason, text, secrets } of forms) {
      const found = [...new Set(twice.scan(text).map((finding) => finding.secret))].sort();
      assert.deepEqual(found, [...secrets].sort(), reason);
    }
  });

  test('a finding says the line and column of the first occurrence', () => {
    const [finding] = scanner.scan(`first line\nsecond ${secretBase58}\n${secretBase58}`);
    assert.deepEqual(finding, { secret: 'the wallet', encoding: 'base58 of the 64-byte secret key', line: 2, column: 8 });
  });

  test('the report names where, which secret and which encoding, and carries none of the secret', () => {
    const leaksFound = scanner.scanAll([
      { where: 'controller stdout', text: `{"key":"${secretBase58}"}` },
      { where: 'Event ns/job (Posted)', text: serializeWallet(wallet) },
      { where: 'ConfigMap ns/logs', text: `token ${token}` },
    ]);
    const report = describeLeaks(leaksFound);
    assert.match(report, /^controller stdout line 1 column 9: the wallet as base58 of the 64-byte secret key$/m);
    assert.match(report, /^Event ns\/job \(Posted\) line 1 column 2: the wallet as decimal byte list/m);
    assert.match(report, /^ConfigMap ns\/logs line 1 column 7: the pinning token as plain text$/m);
    assert.deepEqual(scanner.scan(report), [], 'the report itself leaks nothing');
  });

  test('a short text secret is refused: it would be found in innocent text', () => {
    assert.throws(() => new SecretScanner([{ label: 'weak', strings: ['admin'] }]), /would match innocent text/);
  });
});
