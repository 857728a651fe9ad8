// The localnet's Solana PubSub websocket (RPC port + 1), through web3.js's own API — confirmations,
// account, program, slot and root subscriptions, reconnecting after a dropped connection — and
// through a bare websocket for the protocol's exact messages, errors and the websocket faults.
import assert from 'node:assert/strict';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { TOKEN_PROGRAM_ID } from '@solana/spl-token';
import {
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  SystemProgram,
  Transaction,
  sendAndConfirmTransaction,
  type AccountInfo,
  type Context,
  type KeyedAccountInfo,
  type SignatureResult,
  type SlotInfo,
} from '@solana/web3.js';
import { WebSocket } from 'ws';
import { createChainServer, type ChainServer } from '../../src/localnet/chain/server.ts';

const SLOT_MS = 50;
const FINALIZE_AFTER = 4;
const LIFETIME = 300;
const TRANSFER_LAMPORTS = LAMPORTS_PER_SOL / 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A bare websocket client that queues what it receives. */
class RawClient {
  readonly socket: WebSocket;
  readonly received: Record<string, unknown>[] = [];
  readonly closed: Promise<number>;
  #nextId = 1;

  constructor(url: string) {
    this.socket = new WebSocket(url);
    this.socket.on('message', (data) => this.received.push(JSON.parse(String(data)) as Record<string, unknown>));
    this.closed = new Promise((resolve) => this.socket.on('close', (code) => resolve(code)));
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
  }

  /** Sends a request and returns its answer (`result` or `error`). */
  async call(method: string, params: unknown[] = []): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    let answer: Record<string, unknown> | undefined;
    await waitFor(`the answer to ${method}`, () => (answer = this.received.find((message) => message['id'] === id)) !== undefined);
    return answer as Record<string, unknown>;
  }

  notifications(method: string): Record<string, unknown>[] {
    return this.received.filter((message) => message['method'] === method);
  }
}

describe('PubSub through web3.js', () => {
  let server: ChainServer;
  let connection: Connection;
  const payer = Keypair.generate();

  before(async () => {
    server = await createChainServer({ programs: [], slotMs: SLOT_MS, finalizeAfterSlots: FINALIZE_AFTER, blockhashLifetime: LIFETIME });
    connection = new Connection(server.url, 'confirmed');
    server.ledger.airdrop(payer.publicKey, 1_000n * BigInt(LAMPORTS_PER_SOL));
  });

  after(() => server.close());

  /** Waits until the server holds one more subscription than `before`. */
  async function subscribed(before: number): Promise<void> {
    await waitFor('the subscription to reach the server', () => server.pubsub.subscriptions > before);
  }

  async function sendTransfer(options: { from?: Keypair; lamports?: number; skipPreflight?: boolean } = {}) {
    const from = options.from ?? payer;
    const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash('confirmed');
    const recipient = Keypair.generate().publicKey;
    const transaction = new Transaction({ feePayer: from.publicKey, blockhash, lastValidBlockHeight }).add(
      SystemProgram.transfer({ fromPubkey: from.publicKey, toPubkey: recipient, lamports: options.lamports ?? TRANSFER_LAMPORTS }),
    );
    transaction.sign(from);
    const signature = await connection.sendRawTransaction(transaction.serialize(), { skipPreflight: options.skipPreflight ?? false });
    return { signature, blockhash, lastValidBlockHeight, recipient };
  }

  test('the websocket listens on the RPC port + 1, where web3.js looks for it', () => {
    const rpcPort = Number(new URL(server.url).port);
    assert.equal(server.wsUrl, `ws://127.0.0.1:${rpcPort + 1}`);
  });

  test('onSignature fires once per commitment, each when the transaction reaches it', async () => {
    const { signature } = await sendTransfer();
    const seen = new Map<string, { result: SignatureResult; context: Context; chainSlot: number }>();
    for (const commitment of ['processed', 'confirmed', 'finalized'] as const) {
      connection.onSignature(
        signature,
        (result, context) => seen.set(commitment, { result, context, chainSlot: server.chain.slot }),
        commitment,
      );
    }
    await waitFor('the finalized notification', () => seen.has('finalized'));
    const landedSlot = server.chain.signatures.get(signature)?.slot;
    assert.ok(landedSlot !== undefined);
    for (const [commitment, lag] of [
      ['processed', 0],
      ['confirmed', 1],
      ['finalized', FINALIZE_AFTER],
    ] as const) {
      const notification = seen.get(commitment);
      assert.deepEqual(notification?.result, { err: null }, commitment);
      assert.equal(notification.context.slot, landedSlot, commitment);
      assert.ok(
        notification.chainSlot >= landedSlot + lag,
        `${commitment} came at slot ${notification.chainSlot}, landed at ${landedSlot}`,
      );
    }
  });

  test('confirmTransaction with a blockhash strategy resolves for a landed transfer', async () => {
    const { signature, blockhash, lastValidBlockHeight, recipient } = await sendTransfer();
    const confirmation = await connection.confirmTransaction({ signature, blockhash, lastValidBlockHeight }, 'confirmed');
    assert.equal(confirmation.value.err, null);
    const status = (await connection.getSignatureStatuses([signature])).value[0];
    assert.ok(status?.confirmationStatus === 'confirmed' || status?.confirmationStatus === 'finalized');
    assert.equal(await connection.getBalance(recipient, 'confirmed'), TRANSFER_LAMPORTS);
  });

  test('confirmTransaction reports the error of a transaction that failed while landing', async () => {
    const poor = Keypair.generate();
    server.ledger.airdrop(poor.publicKey, BigInt(LAMPORTS_PER_SOL / 100));
    const { signature, blockhash, lastValidBlockHeight } = await sendTransfer({
      from: poor,
      lamports: LAMPORTS_PER_SOL,
      skipPreflight: true,
    });
    // web3.js resolves with the error when the notification comes first, and rejects with it when its own poll does.
    const error = await connection.confirmTransaction({ signature, blockhash, lastValidBlockHeight }, 'confirmed').then(
      (confirmation) => confirmation.value.err,
      (rejection: unknown) => rejection,
    );
    assert.deepEqual(error, { InstructionError: [0, { Custom: 1 }] });
  });

  test('sendAndConfirmTransaction works end to end', async () => {
    const recipient = Keypair.generate().publicKey;
    const transaction = new Transaction().add(
      SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: recipient, lamports: TRANSFER_LAMPORTS }),
    );
    const signature = await sendAndConfirmTransaction(connection, transaction, [payer], { commitment: 'confirmed' });
    assert.equal(server.chain.signatures.get(signature)?.err, null);
    assert.equal(await connection.getBalance(recipient, 'confirmed'), TRANSFER_LAMPORTS);
  });

  test('onAccountChange sees a balance change; after removeAccountChangeListener nothing more arrives', async () => {
    const wallet = Keypair.generate().publicKey;
    const changes: { account: AccountInfo<Buffer>; context: Context }[] = [];
    const before = server.pubsub.subscriptions;
    const listener = connection.onAccountChange(wallet, (account, context) => changes.push({ account, context }), {
      commitment: 'confirmed',
    });
    await subscribed(before);
    server.ledger.airdrop(wallet, 5_000_000n);
    await waitFor('the first change', () => changes.length === 1);
    assert.equal(changes[0]?.account.lamports, 5_000_000);
    assert.ok(changes[0]?.account.owner.equals(SystemProgram.programId));

    server.ledger.airdrop(wallet, 1_000_000n);
    await waitFor('the second change', () => changes.length === 2);
    assert.equal(changes[1]?.account.lamports, 6_000_000);
    assert.ok((changes[1]?.context.slot ?? 0) > (changes[0]?.context.slot ?? 0));

    await connection.removeAccountChangeListener(listener);
    server.ledger.airdrop(wallet, 1_000_000n);
    await sleep(SLOT_MS * 6);
    assert.equal(changes.length, 2);
  });

  test('onProgramAccountChange with a memcmp filter sees only the token accounts of one mint', async () => {
    const authority = Keypair.generate().publicKey;
    const mintA = server.ledger.createMint({ mintAuthority: authority, decimals: 0 });
    const mintB = server.ledger.createMint({ mintAuthority: authority, decimals: 0 });
    const holder = Keypair.generate().publicKey;
    const accountA = server.ledger.createTokenAccount({ mint: mintA, owner: holder });
    const accountB = server.ledger.createTokenAccount({ mint: mintB, owner: holder });
    await sleep(SLOT_MS * 2);

    const seen: KeyedAccountInfo[] = [];
    const before = server.pubsub.subscriptions;
    const listener = connection.onProgramAccountChange(TOKEN_PROGRAM_ID, (keyed) => seen.push(keyed), {
      commitment: 'confirmed',
      filters: [{ dataSize: 165 }, { memcmp: { offset: 0, bytes: mintA.toBase58() } }],
    });
    await subscribed(before);
    server.ledger.mintTo(accountB, 9n);
    server.ledger.mintTo(accountA, 7n);
    await waitFor('the mint A account to change', () => seen.length > 0);
    await sleep(SLOT_MS * 4);
    await connection.removeProgramAccountChangeListener(listener);

    assert.deepEqual(
      seen.map((keyed) => keyed.accountId.toBase58()),
      [accountA.toBase58()],
    );
    // SPL token account layout: amount is a u64 at offset 64.
    assert.equal(seen[0]?.accountInfo.data.readBigUInt64LE(64), 7n);
  });

  test('onSlotChange reports each slot with its parent and root', async () => {
    const slots: SlotInfo[] = [];
    const listener = connection.onSlotChange((slot) => slots.push(slot));
    await waitFor('five slots', () => slots.length >= 5);
    await connection.removeSlotChangeListener(listener);
    for (const [index, slot] of slots.entries()) {
      assert.equal(slot.parent, slot.slot - 1);
      assert.equal(slot.root, Math.max(0, slot.slot - FINALIZE_AFTER));
      if (index > 0) assert.equal(slot.slot, (slots[index - 1]?.slot ?? 0) + 1);
    }
  });

  test('onRootChange reports each new root, a finalization behind the newest slot', async () => {
    const roots: { root: number; chainSlot: number }[] = [];
    const listener = connection.onRootChange((root) => roots.push({ root, chainSlot: server.chain.slot }));
    await waitFor('three roots', () => roots.length >= 3);
    await connection.removeRootChangeListener(listener);
    for (const [index, { root, chainSlot }] of roots.entries()) {
      assert.ok(root <= chainSlot - FINALIZE_AFTER, `root ${root} at slot ${chainSlot}`);
      if (index > 0) assert.equal(root, (roots[index - 1]?.root ?? 0) + 1);
    }
  });

  test('after a dropped connection web3.js reconnects, and a later onSignature still fires', async () => {
    const slots: number[] = [];
    const listener = connection.onSlotChange((slot) => slots.push(slot.slot));
    await waitFor('a slot before the drop', () => slots.length > 0);
    const droppedBefore = server.pubsub.droppedConnections;
    server.faults.wsDropRate = 1;
    await waitFor('the drop', () => server.pubsub.droppedConnections > droppedBefore);
    server.faults.wsDropRate = 0;

    const { signature } = await sendTransfer();
    let result: SignatureResult | undefined;
    connection.onSignature(signature, (signatureResult) => (result = signatureResult), 'confirmed');
    await waitFor('the signature notification after reconnecting', () => result !== undefined);
    assert.deepEqual(result, { err: null });
    const slotsAfterReconnect = slots.length;
    await waitFor('slots again after reconnecting', () => slots.length > slotsAfterReconnect);
    await connection.removeSlotChangeListener(listener);
  });
});

describe('PubSub over a bare websocket', () => {
  let server: ChainServer;
  const clients: RawClient[] = [];

  before(async () => {
    server = await createChainServer({ programs: [], slotMs: SLOT_MS, finalizeAfterSlots: FINALIZE_AFTER, blockhashLifetime: LIFETIME });
  });

  after(async () => {
    for (const client of clients) client.socket.terminate();
    await server.close();
  });

  async function connect(): Promise<RawClient> {
    const client = new RawClient(server.wsUrl);
    clients.push(client);
    await client.opened();
    return client;
  }

  test("subscribe answers an id, notifications have Solana's shape, unsubscribe answers true and stops them", async () => {
    const client = await connect();
    const subscribed = await client.call('slotSubscribe');
    assert.equal(typeof subscribed['result'], 'number');
    await waitFor('a slot notification', () => client.notifications('slotNotification').length > 0);
    const [notification] = client.notifications('slotNotification');
    const slot = (notification?.['params'] as { result: { slot: number } }).result.slot;
    assert.deepEqual(notification, {
      jsonrpc: '2.0',
      method: 'slotNotification',
      params: { result: { parent: slot - 1, root: Math.max(0, slot - FINALIZE_AFTER), slot }, subscription: subscribed['result'] },
    });

    assert.deepEqual(await client.call('slotUnsubscribe', [subscribed['result']]), { jsonrpc: '2.0', id: 2, result: true });
    const count = client.notifications('slotNotification').length;
    await sleep(SLOT_MS * 4);
    assert.equal(client.notifications('slotNotification').length, count);
  });

  test("errors carry Solana's codes", async () => {
    const client = await connect();
    const cases: { reason: string; method: string; params: unknown[]; code: number; message?: string }[] = [
      { reason: 'an unknown method', method: 'blockSubscribe', params: ['all'], code: -32601, message: 'Method not found' },
      { reason: 'a bad pubkey', method: 'accountSubscribe', params: ['nope'], code: -32602 },
      { reason: 'base58 that is not a signature', method: 'signatureSubscribe', params: ['abc'], code: -32602 },
      {
        reason: 'an unknown subscription id',
        method: 'accountUnsubscribe',
        params: [4242],
        code: -32602,
        message: 'Invalid subscription id.',
      },
      { reason: 'a subscription id that is not a number', method: 'rootUnsubscribe', params: ['x'], code: -32602 },
    ];
    for (const { reason, method, params, code, message } of cases) {
      const error = (await client.call(method, params))['error'] as { code: number; message: string } | undefined;
      assert.equal(error?.code, code, reason);
      if (message !== undefined) assert.equal(error.message, message, reason);
    }
    client.socket.send('{not json');
    await waitFor('the parse error', () =>
      client.received.some((message) => (message['error'] as { code?: number } | undefined)?.code === -32700),
    );
  });

  test("a notification from the client (web3.js's ping) is not answered", async () => {
    const client = await connect();
    client.socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'ping' }));
    await client.call('rootSubscribe');
    const answers = client.received.filter((message) => message['method'] !== 'rootNotification');
    assert.deepEqual(
      answers.map((message) => message['id']),
      [1],
    );
  });

  test('a signature subscription ends by itself after its notification', async () => {
    const client = await connect();
    const signature = server.chain.requestAirdrop(Keypair.generate().publicKey, 1_000_000n);
    const subscribed = await client.call('signatureSubscribe', [signature, { commitment: 'processed', enableReceivedNotification: true }]);
    await waitFor('the status', () => client.notifications('signatureNotification').length === 2);
    const values = client
      .notifications('signatureNotification')
      .map((message) => (message['params'] as { result: { value: unknown } }).result.value);
    assert.deepEqual(values, ['receivedSignature', { err: null }]);
    const error = (await client.call('signatureUnsubscribe', [subscribed['result']]))['error'] as { code: number } | undefined;
    assert.equal(error?.code, -32602);
  });

  test('wsDropAfterNotifications cuts each connection right after that many notifications', async () => {
    server.faults.wsDropAfterNotifications = 3;
    try {
      const client = await connect();
      await client.call('slotSubscribe');
      const code = await client.closed;
      assert.equal(code, 1006);
      assert.equal(client.notifications('slotNotification').length, 3);
    } finally {
      server.faults.wsDropAfterNotifications = null;
    }
  });

  test('wsNotificationDelayMs holds notifications back, in order', async () => {
    const delayMs = 400;
    const client = await connect();
    server.faults.wsNotificationDelayMs = delayMs;
    try {
      const subscribedAt = Date.now();
      await client.call('slotSubscribe');
      await waitFor('a late slot notification', () => client.notifications('slotNotification').length >= 3);
      assert.ok(Date.now() - subscribedAt >= delayMs);
      const slots = client
        .notifications('slotNotification')
        .map((message) => (message['params'] as { result: { slot: number } }).result.slot);
      assert.deepEqual(
        slots,
        [...slots].sort((a, b) => a - b),
      );
      // Held back by the delay: the chain is already several slots further than the newest one received.
      assert.ok(server.chain.slot - (slots.at(-1) ?? 0) >= 3, `newest notified ${slots.at(-1)}, chain at ${server.chain.slot}`);
    } finally {
      server.faults.wsNotificationDelayMs = 0;
    }
  });
});

describe('PubSub lifecycle', () => {
  test('stopping the chain server closes websockets normally, so idle clients do not reconnect', async () => {
    const server = await createChainServer({ programs: [], slotMs: SLOT_MS });
    const client = new RawClient(server.wsUrl);
    await client.opened();
    await server.close();
    assert.equal(await client.closed, 1000);
  });

  test('a chosen RPC port whose next port is taken fails clearly and frees the RPC port', async () => {
    const listenOn = async (port: number): Promise<TcpServer | undefined> => {
      const server = createTcpServer();
      return new Promise((resolve) => {
        server.once('error', () => resolve(undefined));
        server.listen(port, '127.0.0.1', () => resolve(server));
      });
    };
    const close = (server: TcpServer) => new Promise<void>((resolve) => server.close(() => resolve()));
    // A taken port whose predecessor is free.
    let blocker: TcpServer | undefined;
    let rpcPort = 0;
    for (let attempt = 0; attempt < 10 && rpcPort === 0; attempt++) {
      const candidate = (await listenOn(0)) as TcpServer;
      const port = (candidate.address() as { port: number }).port;
      const probe = await listenOn(port - 1);
      if (probe) {
        await close(probe);
        blocker = candidate;
        rpcPort = port - 1;
      } else await close(candidate);
    }
    assert.ok(blocker, 'found no free port just below a taken one');
    try {
      await assert.rejects(createChainServer({ programs: [], port: rpcPort }), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.match(error.message, new RegExp(`port ${rpcPort + 1} on 127\\.0\\.0\\.1 is not free`));
        assert.match(error.message, /wsEndpoint/);
        return true;
      });
      const freed = await listenOn(rpcPort);
      assert.ok(freed, 'the RPC port stayed taken after the failure');
      await close(freed);
    } finally {
      await close(blocker);
    }
  });
});
