// The JSON-RPC surface: envelope (batches, errors), identity, account queries with filters and
// slices, and history methods, checked with raw HTTP and with @solana/web3.js.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { Connection, Keypair, LAMPORTS_PER_SOL, PublicKey, SystemProgram, Transaction } from '@solana/web3.js';
import bs58 from 'bs58';
import { createChainServer, type ChainServer } from '../../src/localnet/chain/server.ts';
import { landed } from './support.ts';

const SLOT_MS = 20;
const OWNER_PROGRAM = Keypair.generate().publicKey;

describe('localnet JSON-RPC surface', () => {
  let server: ChainServer;
  let connection: Connection;

  async function rpc(body: unknown): Promise<{ status: number; json: unknown }> {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  }

  before(async () => {
    server = await createChainServer({ programs: [], slotMs: SLOT_MS, blockhashLifetime: 500, finalizeAfterSlots: 3 });
    connection = new Connection(server.url, 'confirmed');
    // Three accounts of a program: two 16-byte records tagged A and B, one 8-byte record tagged A.
    const record = (tag: string, value: number, size: number) => {
      const data = Buffer.alloc(size);
      data.write(tag, 0);
      data.writeUInt32LE(value, 4);
      return data;
    };
    server.ledger.setAccount(new PublicKey(new Uint8Array(32).fill(1)), { owner: OWNER_PROGRAM, data: record('AAAA', 7, 16) });
    server.ledger.setAccount(new PublicKey(new Uint8Array(32).fill(2)), { owner: OWNER_PROGRAM, data: record('BBBB', 7, 16) });
    server.ledger.setAccount(new PublicKey(new Uint8Array(32).fill(3)), { owner: OWNER_PROGRAM, data: record('AAAA', 9, 8) });
  });

  after(() => server.close());

  test('identifies as the localnet: getVersion, getHealth, GET /health, a genesis hash of its own', async () => {
    const version = await connection.getVersion();
    assert.match(version['solana-core'], /localnet/);
    assert.equal(typeof version['feature-set'], 'number');
    assert.deepEqual((await rpc({ jsonrpc: '2.0', id: 1, method: 'getHealth' })).json, { jsonrpc: '2.0', id: 1, result: 'ok' });
    const health = await fetch(`${server.url}/health`);
    assert.equal(await health.text(), 'ok');
    const genesis = await connection.getGenesisHash();
    assert.equal(bs58.decode(genesis).length, 32);
    assert.notEqual(genesis, '5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d');
  });

  test('an unknown method answers -32601 and a malformed body -32700 / -32600', async () => {
    assert.deepEqual((await rpc({ jsonrpc: '2.0', id: 7, method: 'getNothing', params: [] })).json, {
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32601, message: 'Method not found' },
    });
    assert.deepEqual((await rpc('{not json')).json, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    const withoutVersion = await rpc({ id: 1, method: 'getSlot' });
    assert.equal((withoutVersion.json as { error: { code: number } }).error.code, -32600);
    assert.equal(((await rpc([])).json as { error: { code: number } }).error.code, -32600);
  });

  test('a batch answers every request, in order, each with its own id and outcome', async () => {
    const { json } = await rpc([
      { jsonrpc: '2.0', id: 'a', method: 'getMinimumBalanceForRentExemption', params: [165] },
      { jsonrpc: '2.0', id: 'b', method: 'getNothing' },
      { jsonrpc: '2.0', id: 'c', method: 'getBalance', params: [PublicKey.default.toBase58()] },
    ]);
    assert.ok(Array.isArray(json));
    assert.deepEqual(
      json.map((r: { id: string }) => r.id),
      ['a', 'b', 'c'],
    );
    assert.equal(json[0].result, 2_039_280);
    assert.equal(json[1].error.code, -32601);
    assert.equal(typeof json[2].result.context.slot, 'number');
  });

  test('getProgramAccounts applies memcmp (base58 and base64), dataSize and dataSlice', async () => {
    const tagA = { memcmp: { offset: 0, bytes: bs58.encode(Buffer.from('AAAA')) } };
    const both = await connection.getProgramAccounts(OWNER_PROGRAM, { filters: [tagA] });
    assert.equal(both.length, 2);
    const sized = await connection.getProgramAccounts(OWNER_PROGRAM, { filters: [tagA, { dataSize: 16 }] });
    assert.deepEqual(
      sized.map((a) => a.pubkey.toBase58()),
      [new PublicKey(new Uint8Array(32).fill(1)).toBase58()],
    );
    const { json } = await rpc({
      jsonrpc: '2.0',
      id: 1,
      method: 'getProgramAccounts',
      params: [
        OWNER_PROGRAM.toBase58(),
        {
          encoding: 'base64',
          withContext: true,
          filters: [{ memcmp: { offset: 4, bytes: Buffer.from([7, 0, 0, 0]).toString('base64'), encoding: 'base64' } }],
          dataSlice: { offset: 4, length: 4 },
        },
      ],
    });
    const value = (json as { result: { context: { slot: number }; value: { account: { data: [string, string]; space: number } }[] } })
      .result.value;
    assert.equal(value.length, 2);
    for (const entry of value) {
      assert.deepEqual(entry.account.data, [Buffer.from([7, 0, 0, 0]).toString('base64'), 'base64']);
      assert.equal(entry.account.space, 16);
    }
    const tooMany = await rpc({
      jsonrpc: '2.0',
      id: 1,
      method: 'getProgramAccounts',
      params: [OWNER_PROGRAM.toBase58(), { filters: Array(5).fill({ dataSize: 1 }) }],
    });
    assert.equal((tooMany.json as { error: { code: number } }).error.code, -32602);
  });

  test('getMultipleAccounts answers up to 100 keys and refuses more', async () => {
    const keys = Array.from({ length: 100 }, () => Keypair.generate().publicKey);
    keys[0] = new PublicKey(new Uint8Array(32).fill(1));
    const accounts = await connection.getMultipleAccountsInfo(keys);
    assert.equal(accounts.length, 100);
    assert.equal(accounts[0]?.owner.toBase58(), OWNER_PROGRAM.toBase58());
    assert.equal(accounts[1], null);
    await assert.rejects(connection.getMultipleAccountsInfo([...keys, Keypair.generate().publicKey]), /Too many inputs provided; max 100/);
  });

  test('getAccountInfo supports base58, base64 and jsonParsed for token mints', async () => {
    const key = new PublicKey(new Uint8Array(32).fill(3));
    const base58 = await rpc({ jsonrpc: '2.0', id: 1, method: 'getAccountInfo', params: [key.toBase58(), { encoding: 'base58' }] });
    const data = (base58.json as { result: { value: { data: [string, string] } } }).result.value.data;
    assert.equal(Buffer.from(bs58.decode(data[0])).subarray(0, 4).toString(), 'AAAA');
    const mint = server.ledger.createMint({ mintAuthority: OWNER_PROGRAM, decimals: 6 });
    const parsed = await connection.getParsedAccountInfo(mint);
    assert.deepEqual((parsed.value?.data as { parsed: unknown }).parsed, {
      type: 'mint',
      info: { decimals: 6, freezeAuthority: null, isInitialized: true, mintAuthority: OWNER_PROGRAM.toBase58(), supply: '0' },
    });
    assert.equal(parsed.value?.owner.toBase58(), TOKEN_PROGRAM_ID.toBase58());
  });

  test('sysvars Clock and Rent are readable with their real layouts', async () => {
    const rent = await connection.getAccountInfo(new PublicKey('SysvarRent111111111111111111111111111111111'));
    assert.equal(rent?.data.readBigUInt64LE(0), 3480n);
    assert.equal(rent?.data.readDoubleLE(8), 2);
    const before = Math.floor(Date.now() / 1000);
    const clock = await connection.getAccountInfo(new PublicKey('SysvarC1ock11111111111111111111111111111111'));
    const unixTimestamp = Number(clock?.data.readBigInt64LE(32));
    assert.ok(unixTimestamp >= before && unixTimestamp <= Math.floor(Date.now() / 1000));
    server.clock.advance(3600);
    const later = await connection.getAccountInfo(new PublicKey('SysvarC1ock11111111111111111111111111111111'));
    assert.ok(Number(later?.data.readBigInt64LE(32)) >= unixTimestamp + 3600);
    assert.ok((later?.data.readBigUInt64LE(0) ?? 0n) > (clock?.data.readBigUInt64LE(0) ?? 0n));
  });

  test('history: getSignaturesForAddress newest first with before/limit, getTransaction with logs and blockTime', async () => {
    const payer = Keypair.generate();
    await landed(connection, await connection.requestAirdrop(payer.publicKey, 10 * LAMPORTS_PER_SOL), SLOT_MS);
    const signatures: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash('confirmed');
      const tx = new Transaction({ feePayer: payer.publicKey, blockhash, lastValidBlockHeight }).add(
        SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: Keypair.generate().publicKey, lamports: LAMPORTS_PER_SOL }),
      );
      tx.sign(payer);
      const signature = await connection.sendRawTransaction(tx.serialize());
      await landed(connection, signature, SLOT_MS);
      signatures.push(signature);
    }
    const listed = await connection.getSignaturesForAddress(payer.publicKey, {}, 'confirmed');
    assert.deepEqual(
      listed.slice(0, 3).map((s) => s.signature),
      [...signatures].reverse(),
    );
    assert.equal(listed.length, 4);
    const page = await connection.getSignaturesForAddress(payer.publicKey, { before: signatures[2], limit: 1 }, 'confirmed');
    assert.deepEqual(
      page.map((s) => s.signature),
      [signatures[1]],
    );
    const details = await connection.getTransaction(signatures[0] as string, {
      commitment: 'confirmed',
      maxSupportedTransactionVersion: 0,
    });
    assert.equal(typeof details?.blockTime, 'number');
    assert.equal(details?.transaction.message.staticAccountKeys[0]?.toBase58(), payer.publicKey.toBase58());
    const processedOnly = await rpc({
      jsonrpc: '2.0',
      id: 1,
      method: 'getTransaction',
      params: [signatures[0], { commitment: 'processed' }],
    });
    assert.equal((processedOnly.json as { error: { code: number } }).error.code, -32602);
  });

  test('sendTransaction takes base58 by default and base64 when told, and returns the signature', async () => {
    const payer = Keypair.generate();
    server.ledger.airdrop(payer.publicKey, 10n * BigInt(LAMPORTS_PER_SOL));
    const signed = async () => {
      const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash('confirmed');
      const tx = new Transaction({ feePayer: payer.publicKey, blockhash, lastValidBlockHeight }).add(
        SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: Keypair.generate().publicKey, lamports: LAMPORTS_PER_SOL }),
      );
      tx.sign(payer);
      return tx;
    };
    const base58 = await signed();
    const viaBase58 = await rpc({ jsonrpc: '2.0', id: 1, method: 'sendTransaction', params: [bs58.encode(base58.serialize())] });
    assert.equal((viaBase58.json as { result: string }).result, bs58.encode(base58.signature as Buffer));
    const base64 = await signed();
    const viaBase64 = await rpc({
      jsonrpc: '2.0',
      id: 2,
      method: 'sendTransaction',
      params: [base64.serialize().toString('base64'), { encoding: 'base64' }],
    });
    assert.equal((viaBase64.json as { result: string }).result, bs58.encode(base64.signature as Buffer));
    assert.equal((await landed(connection, (viaBase58.json as { result: string }).result, SLOT_MS)).err, null);
    const garbage = await rpc({ jsonrpc: '2.0', id: 3, method: 'sendTransaction', params: ['AAAA', { encoding: 'base64' }] });
    assert.equal((garbage.json as { error: { code: number } }).error.code, -32602);
  });

  test('getEpochInfo and getBlockHeight agree with getSlot (no skipped slots)', async () => {
    const slot = await connection.getSlot('processed');
    const height = await connection.getBlockHeight('processed');
    const epoch = await connection.getEpochInfo('processed');
    assert.ok(height >= slot && epoch.absoluteSlot >= height);
    assert.equal(epoch.slotsInEpoch, 432_000);
    assert.equal(epoch.slotIndex, epoch.absoluteSlot % 432_000);
  });
});

describe('localnet clock source', () => {
  test('with an injected time source, slots and the Clock sysvar move only when the clock is advanced', async () => {
    const start = Date.UTC(2026, 0, 1);
    const server = await createChainServer({ programs: [], slotMs: 400, now: () => start });
    try {
      const connection = new Connection(server.url, 'processed');
      assert.equal(await connection.getSlot(), 0);
      server.clock.advance(10);
      assert.equal(await connection.getSlot(), 25);
      const clock = await connection.getAccountInfo(new PublicKey('SysvarC1ock11111111111111111111111111111111'));
      assert.equal(clock?.data.readBigUInt64LE(0), 25n);
      assert.equal(clock?.data.readBigInt64LE(32), BigInt(start / 1000 + 10));
      assert.throws(() => server.clock.advance(-1), /non-negative/);
    } finally {
      await server.close();
    }
  });
});
