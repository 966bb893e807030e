/**
 * The compiled schema: what the YANG compiler produces and everything else reads.
 *
 * Data trees inside Sextant are held in RFC 7951 form with two changes that make them cheap to
 * edit: a list is a `Map` from its key string (RFC 8040 key encoding, `k1,k2`) to the entry
 * object, and nothing else is ever a `Map`. Member names follow RFC 7951: qualified (`mod:name`)
 * at the top level and wherever the module changes, plain otherwise. Leaf values are the RFC 7951
 * canonical JSON values (64-bit integers and decimal64 as strings, empty as `[null]`,
 * identityref as `module:identity`), so no uint64 ever passes through a JS number.
 */

import type { XPathExpr } from './xpath/parser.ts';

export type LeafValue = string | number | boolean | [null];
export type DataObject = { [member: string]: DataValue };
export type ListValue = Map<string, DataObject>;
export type DataValue = LeafValue | LeafValue[] | DataObject | ListValue;

export interface SourcePos {
  file: string;
  line: number;
}

export interface ModuleInfo {
  name: string;
  revision?: string;
  namespace: string;
  prefix: string;
  /** Absolute path of the `.yang` file (main module file). */
  file: string;
  /** File names of the submodules it includes. */
  submodules: { name: string; revision?: string; file: string }[];
  features: Set<string>;
  yangVersion: '1' | '1.1';
  /** Prefix -> module name, as the module's imports (and its own prefix) declare. */
  prefixes: Map<string, string>;
  /** The module's source text (served as its schema). */
  text: string;
}

export type BuiltinType =
  | 'int8' | 'int16' | 'int32' | 'int64'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'decimal64' | 'string' | 'boolean' | 'enumeration' | 'bits' | 'binary'
  | 'leafref' | 'identityref' | 'empty' | 'union' | 'instance-identifier';

export interface Range {
  /** Inclusive bounds as bigint (integers) or as scaled bigint (decimal64, scaled by 10^fractionDigits). */
  min: bigint;
  max: bigint;
}

export interface Identity {
  module: string;
  name: string;
  /** Direct bases, as `module:name`. */
  bases: string[];
  /** Identities derived (transitively) from this one, as `module:name`, filled after compile. */
  derived: Set<string>;
}

export interface ResolvedType {
  /** The built-in type at the bottom of the typedef chain. */
  base: BuiltinType;
  /** Name as written (typedef name or builtin), for messages. */
  name: string;
  /** Integer and decimal64 ranges; all must be satisfied (union of parts within one restriction). */
  ranges?: Range[][];
  /** Length restrictions for string and binary (characters / octets). */
  lengths?: Range[][];
  /** Patterns: all must match (each compiled from XSD regex syntax). */
  patterns?: { regex: RegExp; invert: boolean; source: string; errorMessage?: string; errorAppTag?: string }[];
  fractionDigits?: number;
  enums?: Map<string, number>;
  bits?: Map<string, number>;
  /** identityref: allowed bases as `module:name`. */
  identityBases?: string[];
  /** leafref: the compiled path and the leaf it resolves to. */
  leafrefPath?: XPathExpr;
  leafrefTarget?: SchemaNode;
  requireInstance?: boolean;
  union?: ResolvedType[];
  /** Module whose prefixes the path and identity names are read in. */
  contextModule: string;
  rangeErrorMessage?: string;
  lengthErrorMessage?: string;
}

/** A must or when expression, compiled. */
export interface Constraint {
  expr: XPathExpr;
  source: string;
  errorMessage?: string;
  errorAppTag?: string;
  /** Module whose prefixes the expression is read in. */
  contextModule: string;
  /**
   * For `when` on `uses`/`augment`, the context node is the parent of the node the constraint sits
   * on (RFC 7950 7.21.5); otherwise the node itself.
   */
  contextIsParent: boolean;
  pos: SourcePos;
}

export type SchemaKind =
  | 'container'
  | 'list'
  | 'leaf'
  | 'leaf-list'
  | 'choice'
  | 'case'
  | 'anydata'
  | 'anyxml'
  | 'rpc'
  | 'action'
  | 'input'
  | 'output'
  | 'notification';

export interface SchemaNode {
  kind: SchemaKind;
  name: string;
  /** Module the node belongs to (after augment: the augmenting module). */
  module: string;
  /** Member name under its data parent in RFC 7951 form (`name` or `module:name`). */
  jsonName: string;
  /** `module:name`, the unambiguous identity of the node among its siblings. */
  qname: string;
  parent?: SchemaNode;
  /** Nearest ancestor that is a data node (not choice/case), or undefined at the top. */
  dataParent?: SchemaNode;
  /** Schema children in document order, choice and case included. */
  children: SchemaNode[];
  /**
   * Data children (choice/case flattened), keyed by `module:name` and, for children in the same
   * module as this node, also by plain `name`.
   */
  dataChildren: Map<string, SchemaNode>;
  config: boolean;
  presence?: string;
  mandatory: boolean;
  /** Leaf default (canonical value), or leaf-list defaults. */
  default?: LeafValue;
  defaults?: LeafValue[];
  /** Choice default case name. */
  defaultCase?: string;
  minElements: number;
  maxElements: number;
  orderedBy: 'system' | 'user';
  /** List keys as leaf names (same module as the list). */
  keys: string[];
  /** Each unique statement: descendant leaf paths, each a list of `module:name` steps. */
  unique: string[][][];
  type?: ResolvedType;
  must: Constraint[];
  when: Constraint[];
  /** For nodes whose nearest schema ancestors include a case: that case and its choice. */
  case?: SchemaNode;
  status: 'current' | 'deprecated' | 'obsolete';
  description?: string;
  units?: string;
  pos: SourcePos;
}

/** The schema of all loaded modules. */
export interface Schema {
  modules: Map<string, ModuleInfo>;
  /** Top-level data nodes, keyed by `module:name`. */
  roots: Map<string, SchemaNode>;
  rpcs: Map<string, SchemaNode>;
  notifications: Map<string, SchemaNode>;
  identities: Map<string, Identity>;
  /** Modules that are imported only (no data); kept for yang-library `import-only-module`. */
  importOnly: Set<string>;
}

// The XPath syntax tree belongs to the XPath parser; compiled schemas carry it.
export type { XPathExpr, XPathStep } from './xpath/parser.ts';
