/**
 * The list value a transaction writes into: a Map that records its own changes over a base Map
 * it never modifies. Copy-on-write of a 100,000-entry list would copy every entry each time a
 * transaction touches it; an overlay costs only the entries it changes. Reads walk at most
 * MAX_DEPTH overlays before a list is flattened again, so lookups stay O(1).
 *
 * It is a real Map subclass (overlay entries live in the Map itself), so every reader of lists
 * (`instanceof Map`, get, has, size, iteration in insertion order) works unchanged.
 */
import type { DataObject } from '../yang/schema.ts';

const MAX_DEPTH = 6;

export class ListMap extends Map<string, DataObject> {
  private base?: Map<string, DataObject>;
  /** Keys of the base that this overlay deletes. */
  private deleted?: Set<string>;
  /** Keys set here that the base does not have. */
  private added = 0;
  readonly depth: number;

  private constructor(base?: Map<string, DataObject>) {
    super();
    this.base = base;
    this.depth = base instanceof ListMap ? base.depth + 1 : base ? 1 : 0;
  }

  /** A writable list over `base` (which stays as it is), flattened when the chain grows deep. */
  static over(base: Map<string, DataObject> | undefined): ListMap {
    if (!base) return new ListMap();
    if (base instanceof ListMap && base.depth >= MAX_DEPTH) return ListMap.compact(base);
    return new ListMap(base);
  }

  /**
   * Shortens a deep chain, like a size-tiered LSM tree: the newest layers are merged into one
   * for as long as the next older layer is not much larger than what has been merged so far, so
   * each merge costs about the entries of the small recent layers, not the list. Only when the
   * merge reaches the flat bottom and has grown to a quarter of it is the whole list copied flat.
   * Many small commits to one big list therefore stay cheap (amortised O(log n) per change).
   */
  private static compact(top: ListMap): ListMap {
    const layers: ListMap[] = [];
    let bottom: Map<string, DataObject> | undefined = top;
    while (bottom instanceof ListMap && bottom.base) {
      layers.push(bottom);
      bottom = bottom.base;
    }
    // layers[0] is the newest.
    let merged = 0;
    let count = 0;
    while (count < layers.length && (count < 2 || layers[count].weight() <= merged * 2)) {
      merged += layers[count].weight();
      count++;
    }
    const under = count < layers.length ? layers[count] : bottom;
    if (!under || (count === layers.length && merged * 4 > under.size)) return new ListMap(ListMap.copy(top));
    const result = new ListMap(under);
    for (let i = count - 1; i >= 0; i--) {
      const layer = layers[i];
      // Deleted first, then set: a key deleted and set again moves to the end, as with a Map.
      if (layer.deleted) for (const k of layer.deleted) result.delete(k);
      for (const [k, v] of Map.prototype.entries.call(layer) as MapIterator<[string, DataObject]>) result.set(k, v);
    }
    // The merged layer is immutable from here; the caller writes into a fresh one above it.
    return new ListMap(result);
  }

  /** How much this layer changes its base. */
  private weight(): number {
    return this.ownSize() + (this.deleted?.size ?? 0);
  }

  /** A flat copy: the bottom map copied natively, then each overlay's changes applied in order. */
  static copy(from: Map<string, DataObject>): ListMap {
    const layers: ListMap[] = [];
    let bottom: Map<string, DataObject> | undefined = from;
    while (bottom instanceof ListMap && bottom.base) {
      layers.push(bottom);
      bottom = bottom.base;
    }
    const m = new ListMap();
    const set = Map.prototype.set;
    const del = Map.prototype.delete;
    if (bottom) for (const [k, v] of Map.prototype.entries.call(bottom) as MapIterator<[string, DataObject]>) set.call(m, k, v);
    for (let i = layers.length - 1; i >= 0; i--) {
      const layer = layers[i];
      if (layer.deleted) for (const k of layer.deleted) del.call(m, k);
      for (const [k, v] of Map.prototype.entries.call(layer) as MapIterator<[string, DataObject]>) set.call(m, k, v);
    }
    return m;
  }

  /** Entries held in this layer itself. */
  private ownSize(): number {
    return super.size;
  }

  override get size(): number {
    const own = super.size;
    if (!this.base) return own;
    return this.base.size + this.added - (this.deleted?.size ?? 0);
  }

  override get(key: string): DataObject | undefined {
    const v = super.get(key);
    if (v !== undefined || !this.base) return v;
    if (this.deleted?.has(key)) return undefined;
    return this.base.get(key);
  }

  override has(key: string): boolean {
    if (super.has(key)) return true;
    if (!this.base || this.deleted?.has(key)) return false;
    return this.base.has(key);
  }

  override set(key: string, value: DataObject): this {
    if (this.base && !super.has(key)) {
      // New here, or a base key deleted earlier that comes back: like a Map's delete then set,
      // it now sits after the base's entries (it stays in `deleted` so the base's copy is skipped).
      if (!this.base.has(key) || this.deleted?.has(key)) this.added++;
    }
    super.set(key, value);
    return this;
  }

  /** `set` for a caller that has just looked the key up (`present`: get returned an entry). */
  setSeen(key: string, value: DataObject, present: boolean): this {
    // Not visible here means: not in the base, or deleted from it by this overlay; either way the
    // entry is one more than the base shows (see set).
    if (!present && this.base) this.added++;
    super.set(key, value);
    return this;
  }

  override delete(key: string): boolean {
    if (!this.base) return super.delete(key);
    const inBase = this.base.has(key) && !this.deleted?.has(key);
    const own = super.delete(key);
    if (inBase) {
      (this.deleted ??= new Set()).add(key);
      return true;
    }
    if (own) this.added--;
    return own;
  }

  override clear(): void {
    super.clear();
    this.base = undefined;
    this.deleted = undefined;
    this.added = 0;
  }

  override *entries(): MapIterator<[string, DataObject]> {
    if (!this.base) {
      yield* super.entries();
      return;
    }
    // Base order first (with this overlay's values and deletions), then keys new here.
    for (const [k, v] of this.base) {
      if (this.deleted?.has(k)) continue;
      const mine = super.get(k);
      yield [k, mine !== undefined ? mine : v];
    }
    for (const [k, v] of super.entries()) if (!this.base.has(k) || this.deleted?.has(k)) yield [k, v];
  }

  override [Symbol.iterator](): MapIterator<[string, DataObject]> {
    return this.entries();
  }

  override *keys(): MapIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  override *values(): MapIterator<DataObject> {
    for (const [, v] of this.entries()) yield v;
  }

  override forEach(fn: (value: DataObject, key: string, map: Map<string, DataObject>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }
}
