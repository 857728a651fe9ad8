// Which market a NosanaNode serves (resolveMarket), against a cache of NosanaMarkets: one of the
// node's own namespace by name, with its settings, or a bare market address; never a NosanaMarket
// of another namespace, whose author could point the node at an RPC that lies.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair } from '@solana/web3.js';
import type { NosanaMarketObject } from '../../../src/api/crds/nosana-market.ts';
import type { NosanaNodeObject } from '../../../src/api/crds/nosana-node.ts';
import { nosanaNodeSpec } from '../../../src/api/crds/nosana-node.ts';
import type { V1Node } from '@kubernetes/client-node';
import {
  JOIN_HOLDS_MS,
  capacityFor,
  joinHolds,
  otherHolder,
  resolveMarket,
  unsettledJoinAt,
} from '../../../src/controllers/nosana-node/world.ts';
import type { NodeAgentDeps } from '../../../src/controllers/nosana-node/agent-deps.ts';
import type { JoinNote } from '../../../src/controllers/nosana-node/agent-deps.ts';
import type { ObjectCache, ObjectKey } from '../../../src/runtime/types.ts';

const NAMESPACE = 'gpu-nodes';
const ADDRESS = Keypair.generate().publicKey.toBase58();
const ATTACKER_ADDRESS = Keypair.generate().publicKey.toBase58();

function nosanaNode(market: string): NosanaNodeObject {
  return {
    apiVersion: 'nosana.io/v1alpha1',
    kind: 'NosanaNode',
    metadata: { namespace: NAMESPACE, name: 'rack-1' },
    spec: nosanaNodeSpec.parse({ market, keySecretRef: { name: 'node-key' } }),
  };
}

function nosanaMarket(namespace: string, name: string, spec: NosanaMarketObject['spec'], address?: string): NosanaMarketObject {
  return {
    apiVersion: 'nosana.io/v1alpha1',
    kind: 'NosanaMarket',
    metadata: { namespace, name },
    spec,
    ...(address === undefined ? {} : { status: { address } }),
  };
}

/** A cache of the given NosanaMarkets, logging every key asked for. */
function markets(...objects: NosanaMarketObject[]): ObjectCache<NosanaMarketObject> & { asked: ObjectKey[] } {
  const asked: ObjectKey[] = [];
  const byKey = new Map(objects.map((object) => [`${object.metadata?.namespace}/${object.metadata?.name}`, object]));
  return {
    asked,
    get: (key) => {
      asked.push(key);
      return byKey.get(`${key.namespace}/${key.name}`);
    },
    list: (namespace) => objects.filter((object) => namespace === undefined || object.metadata?.namespace === namespace),
    hasSynced: () => true,
  };
}

const SLUG_SPEC: NosanaMarketObject['spec'] = { slug: 'nvidia-4090', network: 'devnet', refreshInterval: '60s' };

describe('resolveMarket', () => {
  test("a NosanaMarket of the node's namespace, by name: its resolved address, and the object whose settings apply", () => {
    const own = nosanaMarket(NAMESPACE, 'gpu-market', SLUG_SPEC, ADDRESS);
    const cache = markets(own);
    const resolved = resolveMarket({ markets: cache }, nosanaNode('gpu-market'));
    assert.deepEqual(resolved, { address: ADDRESS, object: own });
    assert.deepEqual(cache.asked, [{ namespace: NAMESPACE, name: 'gpu-market' }]);
  });

  test('a NosanaMarket given by address in its spec, not resolved yet: that address', () => {
    const own = nosanaMarket(NAMESPACE, 'gpu-market', { address: ADDRESS, network: 'devnet', refreshInterval: '60s' });
    assert.deepEqual(resolveMarket({ markets: markets(own) }, nosanaNode('gpu-market')), { address: ADDRESS, object: own });
  });

  test('a NosanaMarket with no address yet (its slug not resolved): missing, saying so, its settings still known', () => {
    const own = nosanaMarket(NAMESPACE, 'gpu-market', SLUG_SPEC);
    assert.deepEqual(resolveMarket({ markets: markets(own) }, nosanaNode('gpu-market')), {
      address: { missing: `NosanaMarket ${NAMESPACE}/gpu-market has no market address yet` },
      object: own,
    });
  });

  test("a bare market address: that address, no NosanaMarket (the agent's default network)", () => {
    assert.deepEqual(resolveMarket({ markets: markets() }, nosanaNode(ADDRESS)), { address: ADDRESS });
  });

  test('neither a NosanaMarket nor an address: missing, naming spec.market and the namespace looked in', () => {
    assert.deepEqual(resolveMarket({ markets: markets() }, nosanaNode('not-a-market')), {
      address: { missing: `spec.market "not-a-market" is neither a NosanaMarket in namespace ${NAMESPACE} nor a market address` },
    });
  });

  test('a NosanaMarket of another namespace with the same name is never used, whatever it points at', () => {
    const planted = nosanaMarket(
      'attacker',
      'gpu-market',
      { ...SLUG_SPEC, rpc: { url: 'https://rpc.attacker.example' } },
      ATTACKER_ADDRESS,
    );
    const cache = markets(planted);
    const resolved = resolveMarket({ markets: cache }, nosanaNode('gpu-market'));
    assert.equal(resolved.object, undefined, "the planted market's settings do not apply");
    assert.notEqual(resolved.address, ATTACKER_ADDRESS);
    assert.deepEqual(resolved.address, {
      missing: `spec.market "gpu-market" is neither a NosanaMarket in namespace ${NAMESPACE} nor a market address`,
    });
    assert.ok(
      cache.asked.every((key) => key.namespace === NAMESPACE),
      `only the node's namespace is looked in: ${JSON.stringify(cache.asked)}`,
    );
  });

  test("with a NosanaMarket of the same name in both namespaces, the node's own is the one used", () => {
    const own = nosanaMarket(NAMESPACE, 'gpu-market', SLUG_SPEC, ADDRESS);
    const planted = nosanaMarket('attacker', 'gpu-market', SLUG_SPEC, ATTACKER_ADDRESS);
    assert.deepEqual(resolveMarket({ markets: markets(planted, own) }, nosanaNode('gpu-market')), { address: ADDRESS, object: own });
  });
});

describe('one key serves one NosanaNode across the agent', () => {
  const nodeObject = (namespace: string, name: string, uid: string) =>
    ({
      metadata: { namespace, name, uid },
      spec: { market: 'm', keySecretRef: { name: 'k', key: 'keypair' } },
    }) as unknown as NosanaNodeObject;
  const a = nodeObject('team-a', 'gpu', 'uid-a');
  const b = nodeObject('team-b', 'gpu', 'uid-b');

  test('the first NosanaNode by namespace/name keeps the key; a later one is told which holds it, whatever order they are read in', () => {
    const live = [a, b];
    const deps = {
      nodes: { get: () => undefined, list: () => live, hasSynced: () => true },
      keyHolders: new Map<string, Map<string, string>>(),
    };
    assert.equal(otherHolder(deps, b, 'ADDR'), undefined, 'alone so far, b serves it');
    assert.equal(otherHolder(deps, a, 'ADDR'), undefined, 'a comes first by name');
    assert.equal(otherHolder(deps, b, 'ADDR'), 'team-a/gpu', 'b is refused once a is seen');
    live.splice(0, 1);
    assert.equal(otherHolder(deps, b, 'ADDR'), undefined, 'with a deleted, b serves the key');
  });

  test('a NosanaNode whose key Secret changed no longer holds the old key', () => {
    const deps = {
      nodes: { get: () => undefined, list: () => [a, b], hasSynced: () => true },
      keyHolders: new Map<string, Map<string, string>>(),
    };
    assert.equal(otherHolder(deps, a, 'OLD'), undefined);
    assert.equal(otherHolder(deps, a, 'NEW'), undefined, 'a moved to another key');
    assert.equal(otherHolder(deps, b, 'OLD'), undefined, 'the old key is free for b');
  });
});

describe('unsettledJoinAt: when a join that may not show in the read yet was sent', () => {
  const LEADING_SINCE = new Date('2026-12-05T10:00:00Z');
  const SENT = new Date('2026-12-05T10:05:00Z');
  const cases: { reason: string; join: JoinNote | undefined; want: Date | undefined }[] = [
    {
      reason: 'no join of this agent yet: a `work` of the process before it may still land, so since it started leading',
      join: undefined,
      want: LEADING_SINCE,
    },
    { reason: 'sent, its answer not back (or lost): since it was sent', join: { sentAt: SENT }, want: SENT },
    {
      reason: 'confirmed: none, the read is made as of its landing slot and shows what it did',
      join: { sentAt: SENT, landedSlot: 1_234 },
      want: undefined,
    },
  ];
  for (const { reason, join, want } of cases) {
    test(reason, () => assert.deepEqual(unsettledJoinAt({ leadingSince: () => LEADING_SINCE }, join), want));
  }
});

describe('joins in flight hold GPUs: two nodes deciding at once never both join on the last free ones', () => {
  const NOW = new Date('2026-12-05T12:00:00Z');
  const SETTLE_MS = 90_000;
  const sent = (agoMs: number, landedSlot?: number): JoinNote => ({
    sentAt: new Date(NOW.getTime() - agoMs),
    ...(landedSlot === undefined ? {} : { landedSlot }),
  });

  test('joinHolds: unconfirmed while it may still land, confirmed until its status had time to show it', () => {
    const rows: { reason: string; note: JoinNote | undefined; holds: boolean }[] = [
      { reason: 'no join sent', note: undefined, holds: false },
      { reason: 'sent, not confirmed yet', note: sent(2_000), holds: true },
      { reason: 'sent a while ago, its answer lost: it may still land', note: sent(SETTLE_MS - 1), holds: true },
      { reason: 'unconfirmed past the settle time: it can no longer land', note: sent(SETTLE_MS), holds: false },
      { reason: 'confirmed a moment ago: the status may not show it yet', note: sent(1_000, 42), holds: true },
      {
        reason: 'confirmed long enough ago: the status shows it (counted by phase) or the node let go',
        note: sent(JOIN_HOLDS_MS, 42),
        holds: false,
      },
    ];
    for (const { reason, note, holds } of rows) assert.equal(joinHolds(note, NOW, SETTLE_MS), holds, reason);
  });

  const gpuNode: V1Node = {
    metadata: { name: 'gpu-node-0', labels: { 'kubernetes.io/hostname': 'gpu-node-0' } },
    spec: {},
    status: {
      allocatable: { cpu: '64', memory: '512Gi', pods: '110', 'nvidia.com/gpu': '1' },
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
  const rack = (name: string, phase?: NonNullable<NosanaNodeObject['status']>['phase']): NosanaNodeObject => ({
    ...nosanaNode('market'),
    metadata: { namespace: NAMESPACE, name, uid: `uid-${name}` },
    ...(phase === undefined ? {} : { status: { phase } }),
  });
  const cache = <T extends { metadata?: { namespace?: string; name?: string } }>(objects: T[]) => ({
    get: (key: ObjectKey) => objects.find((o) => o.metadata?.name === key.name && (o.metadata?.namespace ?? '') === key.namespace),
    list: () => objects,
    hasSynced: () => true,
  });
  const depsWith = (others: NosanaNodeObject[], joins: [string, JoinNote][]) =>
    ({
      nodes: cache(others),
      cluster: { nodes: cache([gpuNode]), pods: cache([]), namespaces: cache([]) },
      joins: new Map(joins),
      timings: { joinSettleMs: SETTLE_MS },
      now: () => NOW,
    }) as unknown as NodeAgentDeps;

  test('capacityFor: one free GPU and another node joining on it right now: no room, before any status shows that node queued', () => {
    const me = rack('rack-a');
    const other = rack('rack-b', 'Idle');
    assert.equal(capacityFor(depsWith([me, other], []), me).fits, true, 'nobody else joining: the GPU is free');
    const verdict = capacityFor(depsWith([me, other], [['uid-rack-b', sent(500)]]), me);
    assert.equal(verdict.fits, false, 'the other join holds the GPU');
    assert.equal(capacityFor(depsWith([me, rack('rack-b', 'Queued')], []), me).fits, false, 'a queued node holds it by its phase');
    assert.equal(
      capacityFor(depsWith([me, other], [['uid-rack-b', sent(JOIN_HOLDS_MS, 7)]]), me).fits,
      true,
      'a join confirmed long ago by a node now Idle holds nothing',
    );
    assert.equal(
      capacityFor(depsWith([me, other], [['uid-rack-a', sent(500)]]), me).fits,
      true,
      "a node's own join is not counted against it",
    );
  });
});
