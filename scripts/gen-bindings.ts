/**
 * Generates src/bindings/<module>.ts from the YANG modules in yang/ (like OpenDaylight's
 * generated Java bindings): per module, the TypeScript types of the RFC 7951 JSON the datastore
 * reads and writes, typed path builders over src/yang/binding.ts, and the rpc and notification
 * payload types. The output is committed and deterministic; test/yang/bindings.test.ts fails when
 * it is stale.
 *
 *   npm run gen                                       # writes src/bindings/
 *   node --import tsx scripts/gen-bindings.ts <dir>   # writes elsewhere (the staleness test)
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSchema } from '../src/yang/compiler.ts';
import type { ResolvedType, Schema, SchemaNode } from '../src/yang/schema.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Names the runtime exports into every generated file, and the file's own constants. */
const IMPORTED = ['DataPath', 'ROOT', 'ANY', 'Any', 'Mode', 'Uint64', 'Int64'];
const FILE_NAMES = ['RPCS', 'Rpcs', 'NOTIFICATIONS', 'Notifications'];

/** Members of DataPath (and Object) a generated method must not shadow. */
const RESERVED_METHODS = new Set(['steps', 'text', 'pattern', 'child', 'toString', 'constructor', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString']);
const JS_RESERVED = new Set([
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum', 'export', 'extends',
  'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'null', 'return', 'super', 'switch', 'this', 'throw',
  'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'yield', 'let', 'static', 'implements', 'interface', 'package', 'private',
  'protected', 'public', 'await', 'arguments', 'eval',
]);

const LINE = 110;

// ----- names -----

function words(name: string): string[] {
  return name.split(/[-_.]+/).filter(Boolean);
}

function pascal(name: string): string {
  return words(name).map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}

function camel(name: string): string {
  const p = pascal(name);
  return p[0].toLowerCase() + p.slice(1);
}

function lit(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function memberName(jsonName: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(jsonName) ? jsonName : lit(jsonName);
}

// ----- schema walk -----

/** Data children with choice and case flattened away, in document order. */
function dataChildren(node: SchemaNode): SchemaNode[] {
  const out: SchemaNode[] = [];
  for (const c of node.children) {
    if (c.kind === 'choice' || c.kind === 'case') out.push(...dataChildren(c));
    else if (c.kind !== 'action' && c.kind !== 'rpc' && c.kind !== 'notification') out.push(c);
  }
  return out;
}

/** Nodes that get an interface: containers, lists, rpc input/output, notifications. */
function isNamed(node: SchemaNode): boolean {
  return node.kind === 'container' || node.kind === 'list' || node.kind === 'input' || node.kind === 'output' || node.kind === 'notification';
}

/** The node's own display name, then its ancestors', up to what makes it unique in the module. */
function nameChain(node: SchemaNode): string[] {
  const chain: string[] = [];
  for (let n: SchemaNode | undefined = node; n; n = n.parent) {
    if (n.kind === 'choice' || n.kind === 'case') continue;
    if (n.kind === 'input' || n.kind === 'output') {
      chain.push(`${n.parent!.name}-${n.kind}`);
      return chain;
    }
    if (n.kind === 'notification') {
      chain.push(`${n.name}-notification`);
      return chain;
    }
    chain.push(n.name);
  }
  chain.push(node.module);
  return chain;
}

/**
 * Interface names: the YANG name in PascalCase; where two collide (or hit a reserved name),
 * each takes its parent's name in front, and so on up.
 */
function assignNames(nodes: SchemaNode[], reserved: Iterable<string>): Map<SchemaNode, string> {
  const entries = nodes.map((node) => ({ node, chain: nameChain(node), level: 0, suffix: '' }));
  const nameOf = (e: (typeof entries)[number]) => pascal(e.chain.slice(0, e.level + 1).reverse().join('-')) + e.suffix;
  const taken = new Set(reserved);
  for (;;) {
    const groups = new Map<string, typeof entries>();
    for (const e of entries) {
      const n = nameOf(e);
      groups.set(n, [...(groups.get(n) ?? []), e]);
    }
    let changed = false;
    for (const [name, group] of groups) {
      if (group.length < 2 && !taken.has(name) && !taken.has(name.replace(/Path$/, ''))) continue;
      const bumpable = group.filter((e) => e.level < e.chain.length - 1);
      if (bumpable.length) {
        for (const e of bumpable) e.level++;
      } else {
        group.forEach((e, i) => (e.suffix += i || taken.has(name) ? String(i + 1) : ''));
      }
      changed = true;
    }
    if (!changed) break;
  }
  return new Map(entries.map((e) => [e.node, nameOf(e)]));
}

// ----- types -----

/**
 * Named leaf types of a file: identityref unions (named for their bases) and enumeration
 * typedefs (named for the typedef), emitted once and referred to by name.
 */
interface NamedType {
  kind: 'identity' | 'enumeration';
  name: string;
  doc: string;
  alternatives: string[];
}

function identities(schema: Schema, t: ResolvedType): string[] {
  const bases = (t.identityBases ?? []).map((b) => schema.identities.get(b));
  if (!bases.length || bases.some((b) => !b)) return [];
  return [...bases[0]!.derived].filter((d) => bases.every((b) => b!.derived.has(d))).sort();
}

/** The key a leaf type is named by, or undefined when it is written inline. */
function namedTypeKey(t: ResolvedType): string | undefined {
  if (t.base === 'identityref' && t.identityBases?.length) return `identity ${[...t.identityBases].sort().join(' & ')}`;
  if (t.base === 'enumeration' && t.name !== 'enumeration' && t.enums?.size) return `enum ${t.name} ${[...t.enums.keys()].join(' ')}`;
  return undefined;
}

/** Finds the identityref and enumeration-typedef types the file's leaves use, and names them. */
function collectNamedTypes(schema: Schema, nodes: SchemaNode[], reserved: Set<string>): Map<string, NamedType> {
  const found = new Map<string, NamedType>();
  const visit = (t: ResolvedType, depth: number) => {
    if (depth > 8) return;
    if (t.base === 'union') for (const u of t.union ?? []) visit(u, depth + 1);
    if (t.base === 'leafref' && t.leafrefTarget?.type) visit(t.leafrefTarget.type, depth + 1);
    const key = namedTypeKey(t);
    if (!key || found.has(key)) return;
    if (t.base === 'identityref') {
      const alternatives = identities(schema, t).map(lit);
      if (alternatives.length) {
        const bases = [...t.identityBases!].sort();
        found.set(key, { kind: 'identity', name: pascal(bases.map((b) => b.slice(b.indexOf(':') + 1)).join('-')), doc: `Identities derived from ${bases.join(' and ')}.`, alternatives });
      }
    } else {
      found.set(key, { kind: 'enumeration', name: pascal(t.name), doc: `Enumeration ${t.contextModule}:${t.name}.`, alternatives: [...t.enums!.keys()].map(lit) });
    }
  };
  const walk = (n: SchemaNode) => {
    if (n.type) visit(n.type, 0);
    n.children.forEach(walk);
  };
  nodes.forEach(walk);
  const used = new Set<string>();
  for (const nt of [...found.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    let name = reserved.has(nt.name) ? `${nt.name}${nt.kind === 'identity' ? 'Identity' : 'Enum'}` : nt.name;
    for (let i = 2; used.has(name) || reserved.has(name); i++) name = `${nt.name}${i}`;
    used.add(name);
    nt.name = name;
  }
  return found;
}

class FileWriter {
  readonly uses = new Set<string>();
  constructor(
    readonly schema: Schema,
    readonly names: Map<SchemaNode, string>,
    readonly namedTypes: Map<string, NamedType>,
  ) {}

  /** The TypeScript alternatives of a leaf type (joined with `|`). */
  alternatives(t: ResolvedType, depth = 0): string[] {
    const named = this.namedTypes.get(namedTypeKey(t) ?? '');
    if (named) return [named.name];
    switch (t.base) {
      case 'int8': case 'int16': case 'int32': case 'uint8': case 'uint16': case 'uint32':
        return ['number'];
      case 'int64':
        this.uses.add('Int64');
        return ['Int64'];
      case 'uint64':
        this.uses.add('Uint64');
        return ['Uint64'];
      case 'boolean':
        return ['boolean'];
      case 'empty':
        return ['[null]'];
      case 'enumeration':
        return [...(t.enums?.keys() ?? [])].map(lit);
      case 'identityref': {
        const allowed = identities(this.schema, t);
        return allowed.length ? allowed.map(lit) : ['string'];
      }
      case 'leafref':
        return t.leafrefTarget?.type && depth < 8 ? this.alternatives(t.leafrefTarget.type, depth + 1) : ['string'];
      case 'union': {
        const all = (t.union ?? []).flatMap((u) => this.alternatives(u, depth + 1));
        const hasString = all.includes('string');
        return [...new Set(all.filter((a) => !(hasString && a.startsWith("'"))))];
      }
      default: // string, binary, bits, decimal64, instance-identifier
        return ['string'];
    }
  }

  /** What a path method takes for a key leaf of this type. */
  keyAlternatives(t: ResolvedType, depth = 0): string[] {
    switch (t.base) {
      case 'int8': case 'int16': case 'int32': case 'int64': case 'uint8': case 'uint16': case 'uint32': case 'uint64':
        return ['string', 'number', 'bigint'];
      case 'decimal64':
        return ['string', 'number'];
      case 'leafref':
        return t.leafrefTarget?.type && depth < 8 ? this.keyAlternatives(t.leafrefTarget.type, depth + 1) : ['string'];
      case 'union': {
        const all = (t.union ?? []).flatMap((u) => this.keyAlternatives(u, depth + 1));
        const hasString = all.includes('string');
        return [...new Set(all.filter((a) => !(hasString && a.startsWith("'"))))];
      }
      default:
        return this.alternatives(t, depth);
    }
  }

  keyKind(t: ResolvedType, depth = 0): 'string' | 'integer' {
    if (/^u?int(8|16|32|64)$/.test(t.base)) return 'integer';
    if (t.base === 'leafref' && t.leafrefTarget?.type && depth < 8) return this.keyKind(t.leafrefTarget.type, depth + 1);
    return 'string';
  }

  leafType(node: SchemaNode): string[] {
    return node.type ? this.alternatives(node.type) : ['unknown'];
  }

  /** The JSON type of a data node (what Datastore.read returns for it). */
  jsonType(node: SchemaNode): string[] {
    switch (node.kind) {
      case 'container':
        return [this.names.get(node)!];
      case 'list':
        return [`${this.names.get(node)!}[]`];
      case 'leaf':
        return this.leafType(node);
      case 'leaf-list': {
        const alt = this.leafType(node);
        return [alt.length > 1 ? `Array<${alt.join(' | ')}>` : `${alt[0]}[]`];
      }
      default:
        return ['unknown'];
    }
  }
}

/** `prefix` + the alternatives joined, broken one per line when too long. */
function unionText(prefix: string, alternatives: string[], suffix: string, indent: string): string {
  const one = `${indent}${prefix}${alternatives.join(' | ')}${suffix}`;
  if (one.length <= LINE || alternatives.length < 2) return one;
  return `${indent}${prefix.trimEnd()}\n${alternatives.map((a) => `${indent}  | ${a}`).join('\n')}${suffix}`;
}

function schemaPath(node: SchemaNode): string {
  const parts: string[] = [];
  for (let n: SchemaNode | undefined = node; n; n = n.parent) {
    if (n.kind === 'choice' || n.kind === 'case') continue;
    parts.unshift(n.parent && n.parent.module === n.module ? n.name : `${n.module}:${n.name}`);
  }
  return '/' + parts.join('/');
}

function emitInterface(w: FileWriter, node: SchemaNode, out: string[]): void {
  const name = w.names.get(node)!;
  const what = node.kind === 'list' ? `An entry of list ${schemaPath(node)} (keys: ${node.keys.join(', ') || 'none'})` : `${node.kind} ${schemaPath(node)}`;
  out.push(`/** ${what}. */`);
  const members = dataChildren(node);
  if (!members.length) {
    out.push(`export type ${name} = Record<string, never>;`, '');
    return;
  }
  out.push(`export interface ${name} {`);
  for (const m of members) {
    const optional = node.kind === 'list' && node.keys.includes(m.jsonName) && m.module === node.module ? '' : '?';
    out.push(unionText(`${memberName(m.jsonName)}${optional}: `, w.jsonType(m), ';', '  '));
  }
  out.push('}', '');
}

// ----- paths -----

function stepSpec(node: SchemaNode, w: FileWriter): string {
  const parts = [`name: ${lit(node.name)}`];
  if (!node.dataParent || node.dataParent.module !== node.module) parts.push(`module: ${lit(node.module)}`);
  if (node.kind === 'list' && node.keys.length) {
    parts.push(`keys: [${node.keys.map((k) => lit(w.keyKind(node.dataChildren.get(k)!.type!))).join(', ')}]`);
  } else if (node.kind === 'leaf-list') {
    parts.push(`keys: [${lit(w.keyKind(node.type!))}]`);
  }
  return `{ ${parts.join(', ')} }`;
}

/** Method names of a node's children: camelCase, module-qualified or suffixed where they collide. */
function methodNames(parent: SchemaNode, children: SchemaNode[]): Map<SchemaNode, string> {
  const names = new Map<SchemaNode, string>();
  const count = new Map<string, number>();
  for (const c of children) count.set(camel(c.name), (count.get(camel(c.name)) ?? 0) + 1);
  const used = new Set<string>();
  for (const c of children) {
    let n = camel(c.name);
    if (count.get(n)! > 1 && c.module !== parent.module) n = camel(`${c.module}-${c.name}`);
    if (RESERVED_METHODS.has(n)) n += pascal(c.kind);
    let unique = n;
    for (let i = 2; used.has(unique); i++) unique = `${n}${i}`;
    used.add(unique);
    names.set(c, unique);
  }
  return names;
}

function paramName(key: string, used: Set<string>): string {
  let n = camel(key);
  if (JS_RESERVED.has(n)) n += 'Key';
  while (used.has(n)) n += '_';
  used.add(n);
  return n;
}

/**
 * The signatures and body of a path method for `node` (on an instance, `target` is `this`; at
 * the top level, `ROOT`), in the parent's mode `mode`.
 */
function pathMethod(w: FileWriter, node: SchemaNode, fnName: string, target: string, mode: string, isFunction: boolean): string[] {
  const head = isFunction ? `export function ${fnName}` : `  ${fnName}`;
  const indent = isFunction ? '' : '  ';
  const spec = stepSpec(node, w);
  const typeName = w.names.get(node);
  const cls = typeName ? `${typeName}Path` : '';
  const modeArg = isFunction ? '' : `<${mode}>`;
  const modeParam = isFunction ? `'exact'` : mode;
  const doc = `${indent}/** ${node.kind} ${schemaPath(node)}${node.kind === 'list' && node.keys.length ? ` (keys: ${node.keys.join(', ')})` : ''}. */`;
  const out = [doc];
  if (node.kind === 'container') {
    out.push(`${head}(): ${cls}${modeArg} {`, `${indent}  return ${target}.child(${cls}, ${spec});`, `${indent}}`);
  } else if (node.kind === 'list' && node.keys.length) {
    const used = new Set<string>();
    const params = node.keys.map((k) => {
      const leaf = node.dataChildren.get(k)!;
      return `${paramName(k, used)}: ${w.keyAlternatives(leaf.type!).join(' | ')}`;
    });
    w.uses.add('Any');
    out.push(
      `${head}(): DataPath<${typeName}[], ${modeParam}>;`,
      `${head}(${params.join(', ')}): ${cls}${modeArg};`,
      `${head}(keys: Any): ${cls}<'pattern'>;`,
      `${head}(...keys: unknown[]): DataPath<unknown, Mode> {`,
      `${indent}  return ${target}.child(${cls}, ${spec}, keys);`,
      `${indent}}`,
    );
  } else if (node.kind === 'list') {
    out.push(`${head}(): DataPath<${typeName}[], ${modeParam}> {`, `${indent}  return ${target}.child(DataPath, ${spec});`, `${indent}}`);
  } else if (node.kind === 'leaf-list') {
    const [type] = w.jsonType(node);
    const element = w.leafType(node).join(' | ');
    const value = w.keyAlternatives(node.type!).join(' | ');
    out.push(
      `${head}(): DataPath<${type}, ${modeParam}>;`,
      `${head}(value: ${value}): DataPath<${element}, ${modeParam}>;`,
      `${head}(...value: unknown[]): DataPath<unknown, Mode> {`,
      `${indent}  return ${target}.child(DataPath, ${spec}, value);`,
      `${indent}}`,
    );
  } else {
    out.push(`${head}(): DataPath<${w.jsonType(node).join(' | ')}, ${modeParam}> {`, `${indent}  return ${target}.child(DataPath, ${spec});`, `${indent}}`);
  }
  return out;
}

function emitPathClass(w: FileWriter, node: SchemaNode, out: string[]): void {
  const typeName = w.names.get(node)!;
  const what = node.kind === 'list' ? `an entry of list ${schemaPath(node)}` : `container ${schemaPath(node)}`;
  out.push(`/** Path to ${what}. */`);
  out.push(`export class ${typeName}Path<M extends Mode = 'exact'> extends DataPath<${typeName}, M> {`);
  const children = dataChildren(node);
  const names = methodNames(node, children);
  children.forEach((c, i) => {
    if (i) out.push('');
    out.push(...pathMethod(w, c, names.get(c)!, 'this', 'M', false));
  });
  out.push('}', '');
}

// ----- files -----

function modulesWithContent(schema: Schema): string[] {
  const mods = new Set<string>();
  for (const n of [...schema.roots.values(), ...schema.rpcs.values(), ...schema.notifications.values()]) mods.add(n.module);
  return [...mods].sort();
}

function byName(a: SchemaNode, b: SchemaNode): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function descendants(node: SchemaNode, out: SchemaNode[] = []): SchemaNode[] {
  for (const c of node.children) {
    if (isNamed(c)) out.push(c);
    descendants(c, out);
  }
  return out;
}

/**
 * Nodes whose JSON and paths are identical (the same grouping used in several places: OpenDaylight's
 * inventory repeats a node's tables and flows in a notification and in stale-flow lists) share one
 * interface and one path class: each node maps to the first node of its shape. The shape is what
 * the emitted text depends on, docs aside: kind, module and name, keys, and per member its name, module,
 * optionality, type (a child's shape for containers and lists) and path step.
 */
function shareIdentical(nodes: SchemaNode[], w: FileWriter): Map<SchemaNode, SchemaNode> {
  const shapeOf = new Map<SchemaNode, number>();
  const firstOfShape = new Map<string, { id: number; node: SchemaNode }>();
  const shape = (n: SchemaNode): number => {
    const known = shapeOf.get(n);
    if (known !== undefined) return known;
    const parts = [`${n.kind} ${n.module}:${n.name} ${n.keys.join(',')}`];
    for (const m of dataChildren(n)) {
      const required = n.kind === 'list' && n.keys.includes(m.jsonName) && m.module === n.module;
      const type = isNamed(m) ? `#${shape(m)}` : w.jsonType(m).join('|');
      parts.push(`${m.kind} ${m.module}:${m.name} ${m.jsonName} ${required} ${type} ${stepSpec(m, w)}`);
    }
    const text = parts.join('\n');
    let first = firstOfShape.get(text);
    if (!first) firstOfShape.set(text, (first = { id: firstOfShape.size, node: n }));
    shapeOf.set(n, first.id);
    return first.id;
  };
  const byId = new Map<number, SchemaNode>();
  const canonical = new Map<SchemaNode, SchemaNode>();
  for (const n of nodes) {
    const id = shape(n);
    if (!byId.has(id)) byId.set(id, n);
    canonical.set(n, byId.get(id)!);
  }
  return canonical;
}

export function generateModule(schema: Schema, module: string): string {
  const info = schema.modules.get(module)!;
  const roots = [...schema.roots.values()].filter((n) => n.module === module).sort(byName);
  const rpcs = [...schema.rpcs.values()].filter((n) => n.module === module).sort(byName);
  const notifications = [...schema.notifications.values()].filter((n) => n.module === module).sort(byName);

  const dataNodes = roots.flatMap((r) => (isNamed(r) ? [r, ...descendants(r)] : descendants(r)));
  const rpcNodes = rpcs.flatMap((r) => r.children.filter((c) => c.kind === 'input' || c.kind === 'output').flatMap((io) => [io, ...descendants(io)]));
  const notificationNodes = notifications.flatMap((n) => [n, ...descendants(n)]);
  // Containers and lists keep their plain names; a named leaf type that would take one is suffixed.
  const nodeNames = [...dataNodes, ...rpcNodes, ...notificationNodes].map((n) => pascal(n.name));
  const namedTypes = collectNamedTypes(schema, [...roots, ...rpcs, ...notifications], new Set([...IMPORTED, ...FILE_NAMES, ...nodeNames]));
  const all = [...dataNodes, ...rpcNodes, ...notificationNodes];
  const canonical = shareIdentical(all, new FileWriter(schema, new Map(), namedTypes));
  const own = (n: SchemaNode) => canonical.get(n) === n;
  const distinctNames = assignNames(all.filter(own), [...IMPORTED, ...FILE_NAMES, ...[...namedTypes.values()].map((n) => n.name)]);
  const names = new Map(all.map((n) => [n, distinctNames.get(canonical.get(n)!)!]));
  const w = new FileWriter(schema, names, namedTypes);

  const body: string[] = [];
  if (namedTypes.size) {
    body.push('// ----- Identities and enumerations -----', '');
    for (const nt of [...namedTypes.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      body.push(`/** ${nt.doc} */`, unionText(`export type ${nt.name} = `, nt.alternatives, ';', ''), '');
    }
  }
  if (dataNodes.length || roots.length) {
    body.push('// ----- Data: the JSON (RFC 7951) the datastore reads and writes -----', '');
    for (const n of dataNodes) if (own(n)) emitInterface(w, n, body);
    body.push('// ----- Paths -----', '');
    for (const n of dataNodes) if (own(n) && (n.kind === 'container' || (n.kind === 'list' && n.keys.length))) emitPathClass(w, n, body);
    const topNames = methodNames({ module } as SchemaNode, roots);
    for (const r of roots) {
      body.push(...pathMethod(w, r, topNames.get(r)!, 'ROOT', `'exact'`, true), '');
    }
    w.uses.add('ROOT');
  }
  if (rpcs.length) {
    body.push('// ----- RPCs -----', '');
    for (const n of rpcNodes) if (own(n)) emitInterface(w, n, body);
    const rpcNames = methodNames({ module } as SchemaNode, rpcs);
    body.push('/** The qualified name of each rpc (the key of a plugin\'s `rpcs` table). */', 'export const RPCS = {');
    for (const r of rpcs) body.push(`  ${rpcNames.get(r)}: ${lit(`${module}:${r.name}`)},`);
    body.push('} as const;', '');
    body.push('/** Input and output JSON of each rpc, by qualified name. */', 'export interface Rpcs {');
    for (const r of rpcs) {
      const io = (kind: string) => names.get(r.children.find((c) => c.kind === kind)!) ?? 'Record<string, never>';
      body.push(`  ${lit(`${module}:${r.name}`)}: { input: ${io('input')}; output: ${io('output')} };`);
    }
    body.push('}', '');
  }
  if (notifications.length) {
    body.push('// ----- Notifications -----', '');
    for (const n of notificationNodes) if (own(n)) emitInterface(w, n, body);
    const notificationNames = methodNames({ module } as SchemaNode, notifications);
    body.push('/** The qualified name of each notification. */', 'export const NOTIFICATIONS = {');
    for (const n of notifications) body.push(`  ${notificationNames.get(n)}: ${lit(`${module}:${n.name}`)},`);
    body.push('} as const;', '');
    body.push('/** Payload JSON of each notification, by qualified name. */', 'export interface Notifications {');
    for (const n of notifications) body.push(`  ${lit(`${module}:${n.name}`)}: ${names.get(n)};`);
    body.push('}', '');
  }

  const source = `yang/${basename(info.file)}`;
  const values = ['DataPath', 'ROOT'].filter((v) => v === 'DataPath' ? body.some((l) => l.includes('DataPath')) : w.uses.has(v));
  const types = ['Any', 'Int64', 'Mode', 'Uint64'].filter((t) => (t === 'Mode' ? body.some((l) => /\bMode\b/.test(l)) : w.uses.has(t)));
  const specifiers = [...values, ...types.map((t) => `type ${t}`)];
  const head = [
    `// Generated by scripts/gen-bindings.ts from ${source}${info.revision ? ` (revision ${info.revision})` : ''}.`,
    '// Do not edit: change the YANG module and run `npm run gen`.',
    '',
  ];
  if (specifiers.length) head.push(`import { ${specifiers.join(', ')} } from '../yang/binding.ts';`, '');
  return [...head, ...body].join('\n').replace(/\n+$/, '\n');
}

const README = `# Generated bindings

Everything in this folder except this file is generated by \`scripts/gen-bindings.ts\` from the YANG
modules in \`yang/\`. **Never edit it by hand**: change the module (or the generator) and run

    npm run gen

then commit the result. \`test/yang/bindings.test.ts\` regenerates into a temporary folder and fails
when a committed file differs, is missing or is extra.

One file per module that has top-level data nodes, rpcs or notifications. Each holds:

- the types of the JSON (RFC 7951) the datastore reads and writes: one interface per container
  and list entry (nodes of the same name and identical shape, such as a grouping used twice, share
  one interface and one path class), members named as in the JSON (\`'ovsdb:bridge-name'\` where another module's
  augment adds them, so augment-only modules such as \`ovsdb\` and \`flow-node-inventory\` have no
  file of their own: their nodes are in the file of the module they augment); uint64/int64 are
  \`Uint64\`/\`Int64\` (decimal strings);
- typed path builders: a function per top-level container or list, a method per child, list
  methods taking the keys in key order (or \`ANY\` for a subscription pattern), returning
  \`DataPath<T>\` (see \`src/yang/binding.ts\`) that \`Datastore.read\`, the transaction verbs and
  \`subscribe\` accept;
- the rpc input/output types with \`RPCS\` (qualified names) and \`Rpcs\` (types by name), and the
  notification payload types with \`NOTIFICATIONS\` and \`Notifications\`.

\`\`\`ts
import { networkTopology } from '../../src/bindings/network-topology.ts';
const node = networkTopology().topology('ovsdb:1').node(nodeId);
const json = ctx.data.read('operational', node); // Node | undefined
\`\`\`
`;

export function generateBindings(schema: Schema): Map<string, string> {
  const files = new Map<string, string>([['README.md', README]]);
  for (const m of modulesWithContent(schema)) files.set(`${m}.ts`, generateModule(schema, m));
  return files;
}

async function main(): Promise<void> {
  const out = resolve(process.argv[2] ?? join(REPO, 'src/bindings'));
  const schema = await loadSchema(join(REPO, 'yang'));
  const files = generateBindings(schema);
  await mkdir(out, { recursive: true });
  for (const name of await readdir(out)) if (!files.has(name)) await rm(join(out, name), { recursive: true });
  for (const [name, text] of files) await writeFile(join(out, name), text);
  console.log(`wrote ${files.size} files to ${out}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
