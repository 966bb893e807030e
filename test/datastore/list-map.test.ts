/**
 * ListMap: a transaction's writable list over a published one. It must behave exactly like a
 * Map copied from its base, and must never change the base.
 */
import t from 'tap';
import { ListMap } from '../../src/datastore/list-map.ts';
import type { DataObject } from '../../src/yang/schema.ts';

const o = (n: number): DataObject => ({ n });

t.test('behaves like a copied Map through random edits and overlay chains, base untouched', async (t) => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  let published: Map<string, DataObject> = new Map([['a', o(1)], ['b', o(2)]]);
  let model = new Map(published);
  for (let generation = 0; generation < 60; generation++) {
    const frozen = [...published];
    const m = ListMap.over(published);
    const expect = new Map(model);
    for (let i = 0; i < 40; i++) {
      const k = `k${rand(25)}`;
      if (rand(3) === 0) t.equal(m.delete(k), expect.delete(k), `delete ${k} answers like a Map`);
      else {
        const v = o(rand(1000));
        m.set(k, v);
        expect.set(k, v);
      }
    }
    t.same([...m], [...expect], `generation ${generation}: same entries in the same order`);
    t.equal(m.size, expect.size, 'same size');
    for (const k of ['a', 'b', 'k1', 'k24', 'zz']) {
      t.equal(m.get(k), expect.get(k));
      t.equal(m.has(k), expect.has(k));
    }
    t.same([...published], frozen, 'the base it was made over is unchanged');
    t.ok(m.depth <= 6, 'the overlay chain stays short');
    published = m;
    model = expect;
  }
  t.same([...new Map(published)], [...model], 'new Map(listMap) copies it faithfully');
  t.same([...published.keys()], [...model.keys()]);
  t.same([...published.values()], [...model.values()]);
});

t.test('many small edits over a large list: chains are merged, not copied, and stay exact', async (t) => {
  let seed = 11;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  let published: Map<string, DataObject> = new Map(Array.from({ length: 2000 }, (_, i) => [`k${i}`, o(i)] as [string, DataObject]));
  let model = new Map(published);
  for (let generation = 0; generation < 300; generation++) {
    const frozen = published.get('k5');
    const m = ListMap.over(published);
    for (let i = 0; i < 5; i++) {
      const k = `k${rand(2100)}`;
      if (rand(2) === 0) {
        t.equal(m.delete(k), model.delete(k));
      } else {
        const v = o(rand(1000));
        m.set(k, v);
        model.set(k, v);
      }
    }
    t.ok(m.depth <= 6, 'short chain');
    t.equal(published.get('k5'), frozen, 'the published list is untouched');
    published = m;
    if (generation % 25 === 24) t.same([...published.keys()], [...model.keys()], `generation ${generation}: same order`);
    t.equal(published.size, model.size);
  }
  t.same([...published], [...model]);
});
