/**
 * The runtime of the generated bindings (src/bindings/, written by scripts/gen-bindings.ts).
 *
 * A `DataPath<T>` is an api-path already split into the RawSteps parsePath would give, with its
 * canonical text, and a phantom type `T`: the RFC 7951 JSON of the node it names, which is what
 * Datastore.read returns and Transaction.put takes. The generated classes add one method per
 * schema child; this file only knows how to append a step. A path with `ANY` in place of a key
 * is a subscription pattern (`node=*`): its mode is `'pattern'`, and the datastore's reads and
 * writes refuse it at compile time and at run time.
 */
import { YangError } from '../errors.ts';
import { encodeKeyValue, resolvePath, type InstancePath, type RawStep } from './path.ts';
import type { Schema } from './schema.ts';

/** RFC 7951 gives 64-bit integers as decimal strings; the type keeps them out of JS numbers. */
export type Uint64 = `${bigint}`;
export type Int64 = `${bigint}`;

/** The JSON form of a uint64 or int64 (for writing a `Dpn` or any bigint into a binding type). */
export function uint64(value: bigint | number | string): Uint64 {
  return BigInt(value).toString() as Uint64;
}
export const int64: (value: bigint | number | string) => Int64 = uint64;

/** In place of a list's keys: every entry (`node=*`), for subscriptions. */
export const ANY: unique symbol = Symbol('ANY');
export type Any = typeof ANY;

/** `exact` paths name one node; `pattern` paths (built with ANY) are for subscriptions only. */
export type Mode = 'exact' | 'pattern';

/** How a key value is written in the path: integers are canonicalised (`007` -> `7`). */
export type KeyKind = 'string' | 'integer';

/** One step as the generated code describes it. `module` only where the module changes. */
export interface StepSpec {
  name: string;
  module?: string;
  /** For a list (its keys, in order) or a leaf-list (one value). */
  keys?: readonly KeyKind[];
}

export type PathMaker = new (steps: readonly RawStep[], text: string, pattern: boolean) => DataPath<unknown, Mode>;

declare const jsonType: unique symbol;
declare const pathMode: unique symbol;

/** Objects with every member optional, all the way down (what a merge may leave out). */
export type DeepPartial<T> = T extends readonly (infer E)[]
  ? DeepPartial<E>[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export class DataPath<T, M extends Mode = 'exact'> {
  /** Phantom: the JSON type of the node. Never set. */
  declare readonly [jsonType]?: T;
  /** Phantom: whether the path names one node or is a pattern. Never set. */
  declare readonly [pathMode]?: M;

  constructor(
    /** The steps, as parseApiPath returns them for `text`. */
    readonly steps: readonly RawStep[],
    /** Canonical api-path text (what formatPath gives for the resolved path). */
    readonly text: string,
    /** True when some step has `*` for its keys. */
    readonly pattern: boolean,
  ) {}

  /**
   * Appends one step. `keys` empty on a list: the whole list (a plain DataPath); `[ANY]`: every
   * entry; otherwise the key values in key order. Used by the generated classes, and by hand for
   * what they do not cover. Returns `any`: the generated method's signature gives the type.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  child(make: PathMaker, spec: StepSpec, keys: readonly unknown[] = []): any {
    const step: RawStep = { module: spec.module, name: spec.name };
    let segment = spec.module === undefined ? spec.name : `${spec.module}:${spec.name}`;
    let pattern = this.pattern;
    if (spec.keys && keys.length) {
      if (keys.length === 1 && keys[0] === ANY) {
        step.keys = ['*'];
        segment += '=*';
        pattern = true;
      } else {
        if (keys.length !== spec.keys.length) {
          throw new YangError({ tag: 'invalid-value', message: `"${spec.name}" takes ${spec.keys.length} key value(s), got ${keys.length}` });
        }
        step.keys = keys.map((k, i) => keyText(spec, k, spec.keys![i]));
        segment += '=' + step.keys.map(encodeKeyValue).join(',');
      }
    } else if (spec.keys) {
      make = DataPath;
    }
    return new make([...this.steps, step], `${this.steps.length ? this.text : ''}/${segment}`, pattern);
  }

  toString(): string {
    return this.text;
  }
}

/** The datastore root: where the generated top-level functions start. */
export const ROOT = new DataPath<never>([], '/', false);

function keyText(spec: StepSpec, value: unknown, kind: KeyKind): string {
  if (value === ANY) throw new YangError({ tag: 'invalid-value', message: `ANY stands for all the keys of "${spec.name}", not one of them` });
  if (kind === 'integer') {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value).toString();
    if (typeof value === 'string' && /^[+-]?[0-9]+$/.test(value)) return BigInt(value).toString();
  }
  if (value === undefined || value === null || typeof value === 'object') {
    throw new YangError({ tag: 'invalid-value', message: `bad key value for "${spec.name}": ${String(value)}` });
  }
  return String(value);
}

const resolved = new WeakMap<Schema, WeakMap<DataPath<unknown, Mode>, InstancePath>>();

/**
 * The InstancePath of an exact DataPath, validated against the schema (keys parsed and checked).
 * Cached per schema and per path object: a path kept in a constant resolves once, and paths built
 * per call are collected with their entries.
 */
export function resolveDataPath(schema: Schema, path: DataPath<unknown, Mode>): InstancePath {
  if (path.pattern) {
    throw new YangError({ tag: 'invalid-value', message: `${path.text} is a subscription pattern, not a path to one node` });
  }
  let bySchema = resolved.get(schema);
  if (!bySchema) resolved.set(schema, (bySchema = new WeakMap()));
  let p = bySchema.get(path);
  // Frozen: the same array is handed to every caller of this path.
  if (!p) bySchema.set(path, (p = Object.freeze(resolvePath(schema, path.steps as RawStep[], path.text)) as InstancePath));
  return p;
}
