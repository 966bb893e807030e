/**
 * YANG compiler: every module of a directory -> one Schema. Resolves imports and includes,
 * typedefs, groupings (uses, refine, augment-in-uses), top-level augments across modules,
 * identities, features and if-feature, choice/case, leafref targets, defaults, must and when.
 *
 * Two contexts travel through the walk: the *namespace* module (which module new nodes belong to;
 * a grouping's nodes belong to the module that uses it) and the *lexical scope* (the file whose
 * prefixes and definitions a statement's text is read in). Errors name the file and line.
 *
 * Import-only modules (RFC 7950 section 5.6.5, RFC 8525 `import-only-module`) are read from an
 * `import-only/` folder next to the implemented ones, the way `yanglint -p` and `pyang --path`
 * find imports: their typedefs, groupings, identities and features serve the modules that import
 * them, but their own data nodes, rpcs, notifications, augments and deviations are not part of
 * the schema. OpenDaylight's openflowplugin type modules need this: they hold protocol-message
 * containers (some with keyless config lists, which RFC 7950 section 7.8.2 forbids) that nothing
 * stores, next to the groupings flow-node-inventory is built from.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { YangCompileError } from '../errors.ts';
import { parseYang, sub, subArg, subs, type Statement } from './parser.ts';
import type {
  Constraint,
  Identity,
  LeafValue,
  ModuleInfo,
  ResolvedType,
  Schema,
  SchemaKind,
  SchemaNode,
} from './schema.ts';
import { parseLexical, resolveBuiltinType, restrictType, isBuiltinType } from './types.ts';
import { parseXPath, schemaTarget } from './xpath/index.ts';

export interface CompileOptions {
  /**
   * Enabled features: `all` (default: a controller serves every feature its modules define), or
   * per module the set of enabled feature names.
   */
  features?: 'all' | Record<string, string[]>;
}

export interface YangSource {
  path: string;
  text: string;
  /** Only imported: its definitions serve other modules, its data nodes are not implemented. */
  importOnly?: boolean;
}

/** The folder of a YANG directory holding its import-only modules. */
export const IMPORT_ONLY_DIR = 'import-only';

/**
 * Reads every `*.yang` file of the directories (implemented modules) and of their
 * `import-only/` folders (import-only modules) and compiles them together.
 */
export async function loadSchema(dirs: string | string[], options: CompileOptions = {}): Promise<Schema> {
  const sources: YangSource[] = [];
  const read = async (dir: string, importOnly: boolean): Promise<void> => {
    const names = (await readdir(dir)).filter((n) => n.endsWith('.yang')).sort();
    for (const name of names) {
      const path = resolve(join(dir, name));
      sources.push({ path, text: await readFile(path, 'utf8'), importOnly });
    }
  };
  for (const dir of Array.isArray(dirs) ? dirs : [dirs]) {
    await read(dir, false);
    const importDir = join(dir, IMPORT_ONLY_DIR);
    if ((await stat(importDir).catch(() => undefined))?.isDirectory()) await read(importDir, true);
  }
  return compileSchema(sources, options);
}

interface FileScope {
  file: string;
  /** The module this file belongs to (for a submodule: its belongs-to module). */
  module: string;
  prefixes: Map<string, string>;
}

interface Defs {
  typedefs: Map<string, Statement>;
  groupings: Map<string, Statement>;
}

/** What the walk carries while compiling a body of statements. */
interface Ctx {
  /** Module the created nodes belong to. */
  ns: string;
  config: boolean;
  /** Inside rpc input/output or a notification: `config` does not apply. */
  inOperation: boolean;
}

const DATA_KEYWORDS = new Set([
  'container', 'list', 'leaf', 'leaf-list', 'choice', 'anydata', 'anyxml', 'uses', 'case',
]);

/** Statements a data-definition body may hold besides data definitions; anything else is a typo. */
const KNOWN_KEYWORDS = new Set([
  'action', 'anydata', 'anyxml', 'argument', 'augment', 'base', 'belongs-to', 'bit', 'case', 'choice',
  'config', 'contact', 'container', 'default', 'description', 'deviate', 'deviation', 'enum',
  'error-app-tag', 'error-message', 'extension', 'feature', 'fraction-digits', 'grouping',
  'identity', 'if-feature', 'import', 'include', 'input', 'key', 'leaf', 'leaf-list', 'length',
  'list', 'mandatory', 'max-elements', 'min-elements', 'modifier', 'module', 'must', 'namespace',
  'notification', 'ordered-by', 'organization', 'output', 'path', 'pattern', 'position', 'prefix',
  'presence', 'range', 'reference', 'refine', 'require-instance', 'revision', 'revision-date',
  'rpc', 'status', 'submodule', 'type', 'typedef', 'unique', 'units', 'uses', 'value', 'when',
  'yang-version', 'yin-element',
]);

interface Pending {
  node: SchemaNode;
  scope: FileScope;
  rawDefault?: Statement;
  rawDefaults?: Statement[];
  typeStmt?: Statement;
  mustStmts: { stmt: Statement; scope: FileScope; ns: string }[];
  whenStmts: { stmt: Statement; scope: FileScope; ns: string; contextIsParent: boolean }[];
}

export function compileSchema(sources: YangSource[], options: CompileOptions = {}): Schema {
  return new Compiler(sources, options).compile();
}

class Compiler {
  private readonly parsed = new Map<string, { stmt: Statement; path: string; text: string }>();
  private readonly submodules = new Map<string, { stmt: Statement; path: string; text: string }>();
  private readonly scopes = new WeakMap<Statement, FileScope>();
  private readonly parents = new WeakMap<Statement, Statement>();
  private readonly defs = new Map<string, Defs>();
  private readonly schema: Schema = {
    modules: new Map(),
    roots: new Map(),
    rpcs: new Map(),
    notifications: new Map(),
    identities: new Map(),
    importOnly: new Set(),
  };
  /** Per node: what is resolved only once every node exists (types, defaults, XPath). */
  private readonly pending = new Map<SchemaNode, Pending>();
  /** Top-level schema nodes (data, rpc, notification) by `module:name`, for augment targets. */
  private readonly topNodes = new Map<string, SchemaNode>();
  private readonly featureCache = new Map<string, boolean>();
  /** Modules read as import-only: no data nodes, rpcs, notifications, augments or deviations. */
  private readonly declaredImportOnly = new Set<string>();

  constructor(
    private readonly sources: YangSource[],
    private readonly options: CompileOptions,
  ) {}

  compile(): Schema {
    for (const src of this.sources) this.parseFile(src);
    for (const [name, m] of this.parsed) this.loadModuleInfo(name, m);
    for (const info of this.schema.modules.values()) this.collectDefs(info);
    for (const info of this.schema.modules.values()) this.collectIdentities(info);
    this.linkIdentities();
    for (const info of this.schema.modules.values()) if (this.implemented(info.name)) this.compileModuleBody(info);
    this.applyAugments();
    this.applyDeviations();
    for (const p of this.pending.values()) this.finish(p);
    for (const info of this.schema.modules.values()) {
      const body = this.moduleBodies(info.name);
      const hasData = body.some((s) => DATA_KEYWORDS.has(s.keyword) || s.keyword === 'rpc' || s.keyword === 'notification' || s.keyword === 'augment' || s.keyword === 'deviation');
      if (!hasData || !this.implemented(info.name)) this.schema.importOnly.add(info.name);
    }
    return this.schema;
  }

  private implemented(module: string): boolean {
    return !this.declaredImportOnly.has(module);
  }

  // ----- loading -----

  private parseFile(src: YangSource): void {
    const stmt = parseYang(src.text, src.path);
    const name = stmt.arg ?? '';
    const fileBase = basename(src.path, '.yang');
    const [fileModule, fileRev] = fileBase.split('@');
    if (fileModule !== name) {
      throw new YangCompileError(src.path, stmt.line, `${stmt.keyword} "${name}" is in a file named for "${fileModule}"`);
    }
    const rev = latestRevision(stmt);
    if (fileRev !== undefined && rev !== fileRev) {
      throw new YangCompileError(src.path, stmt.line, `file name says revision ${fileRev} but the latest revision statement is ${rev ?? 'missing'}`);
    }
    const table = stmt.keyword === 'module' ? this.parsed : this.submodules;
    if (table.has(name)) {
      throw new YangCompileError(src.path, stmt.line, `${stmt.keyword} "${name}" is defined twice (also in ${table.get(name)!.path})`);
    }
    table.set(name, { stmt, path: src.path, text: src.text });
    if (src.importOnly && stmt.keyword === 'module') this.declaredImportOnly.add(name);
    this.indexParents(stmt);
  }

  private indexParents(stmt: Statement): void {
    for (const s of stmt.subs) {
      this.parents.set(s, stmt);
      this.indexParents(s);
    }
  }

  private loadModuleInfo(name: string, m: { stmt: Statement; path: string; text: string }): void {
    const stmt = m.stmt;
    const namespace = this.required(stmt, 'namespace');
    const prefix = this.required(stmt, 'prefix');
    const info: ModuleInfo = {
      name,
      revision: latestRevision(stmt),
      namespace,
      prefix,
      file: m.path,
      submodules: [],
      features: new Set(),
      yangVersion: subArg(stmt, 'yang-version') === '1.1' ? '1.1' : '1',
      prefixes: this.importPrefixes(stmt, name, prefix),
      text: m.text,
    };
    this.schema.modules.set(name, info);
    this.assignScope(stmt, { file: m.path, module: name, prefixes: info.prefixes });
    for (const inc of subs(stmt, 'include')) {
      const subName = inc.arg!;
      const sm = this.submodules.get(subName);
      if (!sm) throw new YangCompileError(m.path, inc.line, `included submodule "${subName}" not found`);
      const belongs = sub(sm.stmt, 'belongs-to');
      if (belongs?.arg !== name) {
        throw new YangCompileError(sm.path, sm.stmt.line, `submodule "${subName}" does not belong to "${name}"`);
      }
      const ownPrefix = subArg(belongs, 'prefix') ?? prefix;
      const prefixes = this.importPrefixes(sm.stmt, name, ownPrefix);
      this.assignScope(sm.stmt, { file: sm.path, module: name, prefixes });
      info.submodules.push({ name: subName, revision: latestRevision(sm.stmt), file: sm.path });
    }
    for (const f of this.moduleBodies(name)) if (f.keyword === 'feature') info.features.add(f.arg!);
  }

  private importPrefixes(stmt: Statement, ownModule: string, ownPrefix: string): Map<string, string> {
    const prefixes = new Map<string, string>([[ownPrefix, ownModule]]);
    for (const imp of subs(stmt, 'import')) {
      const target = imp.arg!;
      if (!this.parsed.has(target)) {
        throw new YangCompileError(stmt.file, imp.line, `imported module "${target}" not found (looked for ${target}@<revision>.yang)`);
      }
      const rd = subArg(imp, 'revision-date');
      const actual = latestRevision(this.parsed.get(target)!.stmt);
      if (rd && rd !== actual) {
        throw new YangCompileError(stmt.file, imp.line, `import of "${target}" asks for revision ${rd}, but ${actual ?? 'no revision'} is loaded`);
      }
      const p = subArg(imp, 'prefix');
      if (!p) throw new YangCompileError(stmt.file, imp.line, `import of "${target}" has no prefix`);
      prefixes.set(p, target);
    }
    return prefixes;
  }

  private assignScope(stmt: Statement, scope: FileScope): void {
    this.scopes.set(stmt, scope);
    for (const s of stmt.subs) this.assignScope(s, scope);
  }

  private scopeOf(stmt: Statement): FileScope {
    const s = this.scopes.get(stmt);
    if (!s) throw new YangCompileError(stmt.file, stmt.line, 'statement outside any loaded module');
    return s;
  }

  /** Top-level statements of a module and of all its submodules. */
  private moduleBodies(module: string): Statement[] {
    const m = this.parsed.get(module)!;
    const out = [...m.stmt.subs];
    for (const inc of subs(m.stmt, 'include')) out.push(...this.submodules.get(inc.arg!)!.stmt.subs);
    return out;
  }

  private required(stmt: Statement, keyword: string): string {
    const v = subArg(stmt, keyword);
    if (v === undefined) throw new YangCompileError(stmt.file, stmt.line, `${stmt.keyword} "${stmt.arg}" has no ${keyword} statement`);
    return v;
  }

  private collectDefs(info: ModuleInfo): void {
    const d: Defs = { typedefs: new Map(), groupings: new Map() };
    for (const s of this.moduleBodies(info.name)) {
      if (s.keyword === 'typedef') d.typedefs.set(s.arg!, s);
      if (s.keyword === 'grouping') d.groupings.set(s.arg!, s);
    }
    this.defs.set(info.name, d);
  }

  // ----- identities and features -----

  private collectIdentities(info: ModuleInfo): void {
    for (const s of this.moduleBodies(info.name)) {
      if (s.keyword !== 'identity') continue;
      if (!this.enabled(s)) continue;
      const id: Identity = { module: info.name, name: s.arg!, bases: [], derived: new Set() };
      for (const b of subs(s, 'base')) id.bases.push(this.qualify(b.arg!, this.scopeOf(b), b));
      this.schema.identities.set(`${info.name}:${s.arg}`, id);
    }
  }

  private linkIdentities(): void {
    for (const [qname, id] of this.schema.identities) {
      const seen = new Set<string>();
      const stack = [...id.bases];
      while (stack.length) {
        const b = stack.pop()!;
        if (seen.has(b)) continue;
        seen.add(b);
        const base = this.schema.identities.get(b);
        if (!base) throw new Error(`identity ${qname}: base ${b} not found`);
        base.derived.add(qname);
        stack.push(...base.bases);
      }
    }
  }

  /** `pfx:name` or `name` -> `module:name` in the statement's scope. */
  private qualify(ref: string, scope: FileScope, at: Statement): string {
    const i = ref.indexOf(':');
    if (i < 0) return `${scope.module}:${ref}`;
    const module = scope.prefixes.get(ref.slice(0, i));
    if (!module) throw new YangCompileError(at.file, at.line, `unknown prefix "${ref.slice(0, i)}" in "${ref}"`);
    return `${module}:${ref.slice(i + 1)}`;
  }

  private featureOn(qname: string, at: Statement): boolean {
    const cached = this.featureCache.get(qname);
    if (cached !== undefined) return cached;
    const [module, name] = splitQName(qname);
    const info = this.schema.modules.get(module);
    if (!info || !info.features.has(name)) throw new YangCompileError(at.file, at.line, `unknown feature "${qname}"`);
    const f = this.options.features ?? 'all';
    let on = f === 'all' ? true : (f[module] ?? []).includes(name);
    this.featureCache.set(qname, on);
    if (on) {
      const stmt = this.moduleBodies(module).find((s) => s.keyword === 'feature' && s.arg === name)!;
      on = this.enabled(stmt);
      this.featureCache.set(qname, on);
    }
    return on;
  }

  /** Every if-feature of the statement holds. */
  private enabled(stmt: Statement): boolean {
    for (const f of subs(stmt, 'if-feature')) {
      if (!this.ifFeature(f.arg!, this.scopeOf(f), f)) return false;
    }
    return true;
  }

  private ifFeature(expr: string, scope: FileScope, at: Statement): boolean {
    const tokens = expr.match(/\(|\)|[^\s()]+/g) ?? [];
    let i = 0;
    const orExpr = (): boolean => {
      let v = andExpr();
      while (tokens[i] === 'or') {
        i++;
        const r = andExpr();
        v = v || r;
      }
      return v;
    };
    const andExpr = (): boolean => {
      let v = factor();
      while (tokens[i] === 'and') {
        i++;
        const r = factor();
        v = v && r;
      }
      return v;
    };
    const factor = (): boolean => {
      const t = tokens[i++];
      if (t === 'not') return !factor();
      if (t === '(') {
        const v = orExpr();
        if (tokens[i++] !== ')') throw new YangCompileError(at.file, at.line, `if-feature "${expr}": missing ")"`);
        return v;
      }
      if (t === undefined || t === ')' || t === 'and' || t === 'or') {
        throw new YangCompileError(at.file, at.line, `if-feature "${expr}": syntax error`);
      }
      return this.featureOn(this.qualify(t, scope, at), at);
    };
    const v = orExpr();
    if (i !== tokens.length) throw new YangCompileError(at.file, at.line, `if-feature "${expr}": syntax error`);
    return v;
  }

  // ----- definitions lookup -----

  private findDef(kind: 'typedef' | 'grouping', ref: string, at: Statement): Statement {
    const scope = this.scopeOf(at);
    const i = ref.indexOf(':');
    let module = scope.module;
    let name = ref;
    if (i >= 0) {
      const m = scope.prefixes.get(ref.slice(0, i));
      if (!m) throw new YangCompileError(at.file, at.line, `unknown prefix "${ref.slice(0, i)}" in ${kind} reference "${ref}"`);
      module = m;
      name = ref.slice(i + 1);
    }
    if (module === scope.module) {
      // Lexical scoping: nearest enclosing definition first.
      for (let s: Statement | undefined = this.parents.get(at); s; s = this.parents.get(s)) {
        for (const d of s.subs) if (d.keyword === kind && d.arg === name) return d;
      }
    }
    const defs = this.defs.get(module);
    const d = kind === 'typedef' ? defs?.typedefs.get(name) : defs?.groupings.get(name);
    if (!d) throw new YangCompileError(at.file, at.line, `${kind} "${ref}" not found`);
    return d;
  }

  // ----- types -----

  private readonly typedefCache = new WeakMap<Statement, ResolvedType>();

  resolveType(typeStmt: Statement, ns: string): ResolvedType {
    const name = typeStmt.arg!;
    const scope = this.scopeOf(typeStmt);
    const fail = (reason: string, at: Statement = typeStmt): never => {
      throw new YangCompileError(at.file, at.line, reason);
    };
    let base: ResolvedType;
    if (!name.includes(':') && isBuiltinType(name)) {
      base = resolveBuiltinType(name, typeStmt, {
        contextModule: ns,
        fail,
        resolveUnion: (m) => this.resolveType(m, ns),
        qualifyIdentity: (ref, at) => {
          const q = this.qualify(ref, scope, at);
          if (!this.schema.identities.has(q)) fail(`identity "${ref}" not found`, at);
          return q;
        },
        parseXPath: (text, at) => this.xpath(text, scope, ns, at),
        enabled: (s) => this.enabled(s),
      });
    } else {
      const td = this.findDef('typedef', name, typeStmt);
      let resolved = this.typedefCache.get(td);
      if (!resolved) {
        const inner = sub(td, 'type');
        if (!inner) fail(`typedef "${td.arg}" has no type`, td);
        resolved = { ...this.resolveType(inner!, ns), name: td.arg! };
        this.typedefCache.set(td, resolved);
      }
      base = resolved;
    }
    return restrictType(base, typeStmt, fail);
  }

  private xpath(text: string, scope: FileScope, ns: string, at: Statement) {
    try {
      return parseXPath(text, (p) => scope.prefixes.get(p), ns);
    } catch (e) {
      throw new YangCompileError(at.file, at.line, `XPath "${text}": ${(e as Error).message}`);
    }
  }

  /** Typedef default, if the type comes from a typedef chain carrying one. */
  private typedefDefault(typeStmt: Statement): Statement | undefined {
    const name = typeStmt.arg!;
    if (!name.includes(':') && isBuiltinType(name)) return undefined;
    const td = this.findDef('typedef', name, typeStmt);
    return sub(td, 'default') ?? this.typedefDefault(sub(td, 'type')!);
  }

  // ----- nodes -----

  private compileModuleBody(info: ModuleInfo): void {
    const ctx: Ctx = { ns: info.name, config: true, inOperation: false };
    for (const s of this.moduleBodies(info.name)) {
      if (DATA_KEYWORDS.has(s.keyword) && s.keyword !== 'case') {
        for (const n of this.compileStatement(s, ctx, undefined)) this.attachTop(n, s);
      } else if (s.keyword === 'rpc') {
        if (!this.enabled(s)) continue;
        const n = this.compileOperation(s, 'rpc', ctx);
        this.schema.rpcs.set(n.qname, n);
        this.attachTop(n, s);
      } else if (s.keyword === 'notification') {
        if (!this.enabled(s)) continue;
        const n = this.compileNotification(s, ctx);
        this.schema.notifications.set(n.qname, n);
        this.attachTop(n, s);
      }
    }
  }

  private attachTop(n: SchemaNode, at: Statement): void {
    if (this.topNodes.has(n.qname)) throw new YangCompileError(at.file, at.line, `"${n.name}" is defined twice at the top of ${n.module}`);
    this.topNodes.set(n.qname, n);
    this.registerData(n);
  }

  private newNode(kind: SchemaKind, stmt: Statement, ctx: Ctx): SchemaNode {
    const name = stmt.arg ?? kind;
    const node: SchemaNode = {
      kind,
      name,
      module: ctx.ns,
      jsonName: `${ctx.ns}:${name}`,
      qname: `${ctx.ns}:${name}`,
      children: [],
      dataChildren: new Map(),
      config: ctx.config,
      mandatory: false,
      minElements: 0,
      maxElements: Infinity,
      orderedBy: 'system',
      keys: [],
      unique: [],
      must: [],
      when: [],
      status: (subArg(stmt, 'status') as SchemaNode['status']) ?? 'current',
      description: subArg(stmt, 'description'),
      pos: { file: stmt.file, line: stmt.line },
    };
    const cfg = subArg(stmt, 'config');
    if (cfg !== undefined && !ctx.inOperation) {
      if (cfg === 'true' && !ctx.config) {
        throw new YangCompileError(stmt.file, stmt.line, `"${name}" is config true under a config false node`);
      }
      node.config = cfg === 'true';
    }
    const p: Pending = { node, scope: this.scopeOf(stmt), mustStmts: [], whenStmts: [] };
    for (const m of subs(stmt, 'must')) p.mustStmts.push({ stmt: m, scope: this.scopeOf(m), ns: ctx.ns });
    const w = sub(stmt, 'when');
    if (w) p.whenStmts.push({ stmt: w, scope: this.scopeOf(w), ns: ctx.ns, contextIsParent: false });
    this.pending.set(node, p);
    return node;
  }

  /** Compiles one body statement into zero or more schema nodes (uses may give many). */
  private compileStatement(s: Statement, ctx: Ctx, parent: SchemaNode | undefined): SchemaNode[] {
    if (!this.enabled(s)) return [];
    switch (s.keyword) {
      case 'container': {
        const n = this.newNode('container', s, ctx);
        n.presence = subArg(s, 'presence');
        this.compileChildren(n, s, { ...ctx, config: n.config });
        return [n];
      }
      case 'list': {
        const n = this.newNode('list', s, ctx);
        this.elementCounts(n, s);
        n.orderedBy = subArg(s, 'ordered-by') === 'user' ? 'user' : 'system';
        this.compileChildren(n, s, { ...ctx, config: n.config });
        const key = subArg(s, 'key');
        n.keys = key ? key.trim().split(/\s+/).map((k) => k.slice(k.indexOf(':') + 1)) : [];
        if (n.config && !n.keys.length && !ctx.inOperation) {
          throw new YangCompileError(s.file, s.line, `config list "${n.name}" has no key`);
        }
        for (const k of n.keys) {
          const leaf = n.dataChildren.get(k);
          if (!leaf || leaf.kind !== 'leaf') throw new YangCompileError(s.file, s.line, `list "${n.name}": key leaf "${k}" not found`);
        }
        for (const u of subs(s, 'unique')) {
          const scope = this.scopeOf(u);
          n.unique.push(
            u.arg!.trim().split(/\s+/).map((path) => path.split('/').map((step) => this.qualify(step, { ...scope, module: ctx.ns }, u))),
          );
        }
        return [n];
      }
      case 'leaf': {
        const n = this.newNode('leaf', s, ctx);
        n.mandatory = subArg(s, 'mandatory') === 'true';
        n.units = subArg(s, 'units');
        const p = this.pending.get(n)!;
        p.typeStmt = this.typeOf(s);
        p.rawDefault = sub(s, 'default') ?? this.typedefDefault(p.typeStmt);
        return [n];
      }
      case 'leaf-list': {
        const n = this.newNode('leaf-list', s, ctx);
        this.elementCounts(n, s);
        n.orderedBy = subArg(s, 'ordered-by') === 'user' ? 'user' : 'system';
        n.units = subArg(s, 'units');
        const p = this.pending.get(n)!;
        p.typeStmt = this.typeOf(s);
        const defaults = subs(s, 'default');
        if (defaults.length) p.rawDefaults = defaults;
        else if (n.minElements === 0) {
          const td = this.typedefDefault(p.typeStmt);
          if (td) p.rawDefaults = [td];
        }
        return [n];
      }
      case 'anydata':
      case 'anyxml': {
        const n = this.newNode(s.keyword, s, ctx);
        n.mandatory = subArg(s, 'mandatory') === 'true';
        return [n];
      }
      case 'choice': {
        const n = this.newNode('choice', s, ctx);
        n.mandatory = subArg(s, 'mandatory') === 'true';
        n.defaultCase = subArg(s, 'default');
        for (const c of s.subs) {
          if (c.keyword === 'case') {
            for (const cn of this.compileStatement(c, { ...ctx, config: n.config }, n)) this.attach(n, cn, c);
          } else if (DATA_KEYWORDS.has(c.keyword) && c.keyword !== 'uses') {
            // Shorthand: a data node directly in a choice is a case of its own name.
            if (!this.enabled(c)) continue;
            const cs = this.newNode('case', c, { ...ctx, config: n.config });
            for (const dn of this.compileStatement(c, { ...ctx, config: n.config }, cs)) this.attach(cs, dn, c);
            this.attach(n, cs, c);
          } else if (!KNOWN_KEYWORDS.has(c.keyword) && !c.keyword.includes(':')) {
            throw new YangCompileError(c.file, c.line, `unknown statement "${c.keyword}"`);
          }
        }
        if (n.defaultCase && !n.children.some((c) => c.name === n.defaultCase)) {
          throw new YangCompileError(s.file, s.line, `choice "${n.name}": default case "${n.defaultCase}" not found`);
        }
        return [n];
      }
      case 'case': {
        const n = this.newNode('case', s, ctx);
        this.compileChildren(n, s, ctx);
        return [n];
      }
      case 'uses':
        return this.expandUses(s, ctx, parent);
      case 'action': {
        const n = this.compileOperation(s, 'action', ctx);
        return [n];
      }
      case 'notification':
        return [this.compileNotification(s, ctx)];
      default:
        return [];
    }
  }

  /** A statement the text does not have (an implicit rpc input, a uses holder), scoped like `at`. */
  private synthetic(keyword: string, at: Statement): Statement {
    const stmt: Statement = { keyword, subs: [], file: at.file, line: at.line };
    this.scopes.set(stmt, this.scopeOf(at));
    return stmt;
  }

  private typeOf(s: Statement): Statement {
    const t = sub(s, 'type');
    if (!t) throw new YangCompileError(s.file, s.line, `${s.keyword} "${s.arg}" has no type`);
    return t;
  }

  private elementCounts(n: SchemaNode, s: Statement): void {
    const min = subArg(s, 'min-elements');
    const max = subArg(s, 'max-elements');
    if (min !== undefined) n.minElements = Number(min);
    if (max !== undefined && max !== 'unbounded') n.maxElements = Number(max);
  }

  private compileChildren(n: SchemaNode, s: Statement, ctx: Ctx): void {
    for (const c of s.subs) {
      if (DATA_KEYWORDS.has(c.keyword) || c.keyword === 'action' || c.keyword === 'notification') {
        for (const child of this.compileStatement(c, ctx, n)) this.attach(n, child, c);
      } else if (!KNOWN_KEYWORDS.has(c.keyword) && !c.keyword.includes(':')) {
        throw new YangCompileError(c.file, c.line, `unknown statement "${c.keyword}"`);
      }
    }
  }

  private compileOperation(s: Statement, kind: 'rpc' | 'action', ctx: Ctx): SchemaNode {
    const n = this.newNode(kind, s, ctx);
    for (const io of ['input', 'output'] as const) {
      const ioStmt = sub(s, io) ?? this.synthetic(io, s);
      const ioNode = this.newNode(io, ioStmt, {
        ...ctx,
        inOperation: true,
      });
      ioNode.name = io;
      ioNode.qname = `${ctx.ns}:${io}`;
      ioNode.jsonName = ioNode.qname;
      this.compileChildren(ioNode, ioStmt, { ...ctx, inOperation: true, config: true });
      ioNode.parent = n;
      n.children.push(ioNode);
    }
    return n;
  }

  private compileNotification(s: Statement, ctx: Ctx): SchemaNode {
    const n = this.newNode('notification', s, { ...ctx, inOperation: true });
    this.compileChildren(n, s, { ...ctx, inOperation: true, config: true });
    return n;
  }

  private expandUses(s: Statement, ctx: Ctx, parent: SchemaNode | undefined): SchemaNode[] {
    const g = this.findDef('grouping', s.arg!, s);
    const nodes: SchemaNode[] = [];
    // A temporary holder lets refine and augment find the grouping's nodes by path.
    const holderStmt = this.synthetic('uses', s);
    holderStmt.arg = '#uses';
    const holder = this.newNode('container', holderStmt, ctx);
    this.pending.delete(holder);
    for (const c of g.subs) {
      if (DATA_KEYWORDS.has(c.keyword) || c.keyword === 'action' || c.keyword === 'notification') {
        for (const n of this.compileStatement(c, ctx, parent)) {
          nodes.push(n);
          holder.children.push(n);
        }
      }
    }
    for (const r of subs(s, 'refine')) this.refine(holder, r, ctx);
    for (const a of subs(s, 'augment')) {
      if (!this.enabled(a)) continue;
      const target = this.descend(holder, a.arg!, a, ctx.ns);
      this.augmentInto(target, a, ctx.ns);
    }
    const w = sub(s, 'when');
    for (const n of nodes) {
      for (const m of subs(s, 'must')) this.pending.get(n)?.mustStmts.push({ stmt: m, scope: this.scopeOf(m), ns: ctx.ns });
      if (w) this.pending.get(n)?.whenStmts.push({ stmt: w, scope: this.scopeOf(w), ns: ctx.ns, contextIsParent: true });
    }
    return nodes;
  }

  /** Follows a descendant schema node id (`a/b`, prefixes allowed) from a node's schema children. */
  private descend(from: SchemaNode, path: string, at: Statement, defaultModule: string): SchemaNode {
    let cur = from;
    for (const step of path.split('/').filter(Boolean)) {
      const [module, name] = this.stepName(step, at, defaultModule);
      const next = this.schemaChild(cur, module, name);
      if (!next) throw new YangCompileError(at.file, at.line, `target "${path}" not found (no "${step}")`);
      cur = next;
    }
    return cur;
  }

  private stepName(step: string, at: Statement, defaultModule: string): [string, string] {
    const i = step.indexOf(':');
    if (i < 0) return [defaultModule, step];
    const m = this.scopeOf(at).prefixes.get(step.slice(0, i));
    if (!m) throw new YangCompileError(at.file, at.line, `unknown prefix in "${step}"`);
    return [m, step.slice(i + 1)];
  }

  private schemaChild(node: SchemaNode, module: string, name: string): SchemaNode | undefined {
    // The uses holder's children keep the using module; grouping nodes are matched by name there.
    return node.children.find((c) => c.name === name && (c.module === module || node.name === '#uses'));
  }

  private refine(holder: SchemaNode, r: Statement, ctx: Ctx): void {
    const target = this.descend(holder, r.arg!, r, ctx.ns);
    const p = this.pending.get(target);
    for (const s of r.subs) {
      switch (s.keyword) {
        case 'default':
          if (target.kind === 'leaf' && p) p.rawDefault = s;
          else if (target.kind === 'leaf-list' && p) p.rawDefaults = subs(r, 'default');
          else if (target.kind === 'choice') target.defaultCase = s.arg;
          break;
        case 'mandatory':
          target.mandatory = s.arg === 'true';
          break;
        case 'presence':
          target.presence = s.arg;
          break;
        case 'config':
          target.config = s.arg === 'true';
          propagateConfig(target, target.config);
          break;
        case 'min-elements':
          target.minElements = Number(s.arg);
          break;
        case 'max-elements':
          target.maxElements = s.arg === 'unbounded' ? Infinity : Number(s.arg);
          break;
        case 'must':
          p?.mustStmts.push({ stmt: s, scope: this.scopeOf(s), ns: ctx.ns });
          break;
        case 'description':
          target.description = s.arg;
          break;
        case 'if-feature':
          if (!this.ifFeature(s.arg!, this.scopeOf(s), s)) {
            holder.children = holder.children.filter((c) => c !== target);
            if (target.parent) target.parent.children = target.parent.children.filter((c) => c !== target);
          }
          break;
        default:
          break;
      }
    }
  }

  /** Adds an augment's nodes to its target. */
  private augmentInto(target: SchemaNode, a: Statement, ns: string): void {
    const ctx: Ctx = {
      ns,
      config: target.config,
      inOperation: target.kind === 'input' || target.kind === 'output' || target.kind === 'notification' || hasOperationAncestor(target),
    };
    const w = sub(a, 'when');
    for (const c of a.subs) {
      let made: SchemaNode[] = [];
      if (c.keyword === 'case' || (target.kind === 'choice' && DATA_KEYWORDS.has(c.keyword) && c.keyword !== 'uses')) {
        if (c.keyword === 'case') made = this.compileStatement(c, ctx, target);
        else if (this.enabled(c)) {
          const cs = this.newNode('case', c, ctx);
          for (const dn of this.compileStatement(c, ctx, cs)) this.attach(cs, dn, c);
          made = [cs];
        }
      } else if (DATA_KEYWORDS.has(c.keyword) || c.keyword === 'action' || c.keyword === 'notification') {
        made = this.compileStatement(c, ctx, target);
      } else continue;
      for (const n of made) {
        if (w) this.pending.get(n)?.whenStmts.push({ stmt: w, scope: this.scopeOf(w), ns, contextIsParent: true });
        this.attach(target, n, c);
      }
    }
  }

  private applyAugments(): void {
    const todo: { stmt: Statement; module: string }[] = [];
    for (const info of this.schema.modules.values()) {
      if (!this.implemented(info.name)) continue;
      for (const s of this.moduleBodies(info.name)) if (s.keyword === 'augment' && this.enabled(s)) todo.push({ stmt: s, module: info.name });
    }
    // Augments may target nodes that other augments add: apply until nothing moves.
    let remaining = todo;
    while (remaining.length) {
      const next: typeof todo = [];
      for (const a of remaining) {
        const target = this.absoluteTarget(a.stmt.arg!, a.stmt, a.module);
        if (target) this.augmentInto(target, a.stmt, a.module);
        else next.push(a);
      }
      if (next.length === remaining.length) {
        const a = next[0].stmt;
        const [targetModule] = this.stepName(a.arg!.split('/').filter(Boolean)[0] ?? '', a, next[0].module);
        if (!this.implemented(targetModule)) {
          throw new YangCompileError(a.file, a.line, `augment target "${a.arg}" is in import-only module "${targetModule}"; an augmented module must be implemented`);
        }
        throw new YangCompileError(a.file, a.line, `augment target "${a.arg}" not found`);
      }
      remaining = next;
    }
  }

  private absoluteTarget(path: string, at: Statement, defaultModule: string): SchemaNode | undefined {
    const steps = path.split('/').filter(Boolean);
    if (!path.startsWith('/') || !steps.length) throw new YangCompileError(at.file, at.line, `augment target "${path}" must be an absolute path`);
    const [m0, n0] = this.stepName(steps[0], at, defaultModule);
    let cur = this.topNodes.get(`${m0}:${n0}`);
    for (const step of steps.slice(1)) {
      if (!cur) return undefined;
      const [m, n] = this.stepName(step, at, defaultModule);
      cur = cur.children.find((c) => c.name === n && c.module === m) ??
        ((n === 'input' || n === 'output') ? cur.children.find((c) => c.kind === n) : undefined);
    }
    return cur;
  }

  private applyDeviations(): void {
    for (const info of this.schema.modules.values()) {
      if (!this.implemented(info.name)) continue;
      for (const d of this.moduleBodies(info.name)) {
        if (d.keyword !== 'deviation') continue;
        const target = this.absoluteTarget(d.arg!, d, info.name);
        if (!target) throw new YangCompileError(d.file, d.line, `deviation target "${d.arg}" not found`);
        for (const dv of subs(d, 'deviate')) {
          if (dv.arg !== 'not-supported') {
            throw new YangCompileError(dv.file, dv.line, `deviate ${dv.arg} is not supported by this compiler (only not-supported)`);
          }
          this.removeNode(target);
        }
      }
    }
  }

  private removeNode(n: SchemaNode): void {
    if (n.parent) n.parent.children = n.parent.children.filter((c) => c !== n);
    const dp = n.dataParent;
    const holders = dp ? [dp.dataChildren] : [this.schema.roots];
    for (const dataNode of dataDescendantsOrSelf(n)) {
      for (const h of holders) {
        if (h.get(dataNode.qname) === dataNode) h.delete(dataNode.qname);
        if (h.get(dataNode.name) === dataNode) h.delete(dataNode.name);
      }
    }
    this.schema.rpcs.delete(n.qname);
    this.schema.notifications.delete(n.qname);
    this.topNodes.delete(n.qname);
    this.pending.delete(n);
  }

  /** Links a schema child under its schema parent and registers its data nodes. */
  private attach(parent: SchemaNode, child: SchemaNode, at: Statement): void {
    if (parent.children.some((c) => c.qname === child.qname && c.kind !== 'input' && c.kind !== 'output')) {
      throw new YangCompileError(at.file, at.line, `"${child.name}" is defined twice in "${parent.name}"`);
    }
    child.parent = parent;
    parent.children.push(child);
    if (isRegistered(parent)) this.registerData(child, at);
  }

  /** Registers a node (or, for choice/case, the data nodes under it) with its data parent. */
  private registerData(n: SchemaNode, at?: Statement): void {
    if (n.kind === 'rpc' || n.kind === 'action' || n.kind === 'notification' && n.parent === undefined) {
      return;
    }
    if (n.kind === 'choice' || n.kind === 'case') {
      for (const c of n.children) this.registerData(c, at);
      return;
    }
    if (n.kind === 'input' || n.kind === 'output') return;
    let dp = n.parent;
    let caseNode: SchemaNode | undefined;
    while (dp && (dp.kind === 'choice' || dp.kind === 'case')) {
      if (dp.kind === 'case' && !caseNode) caseNode = dp;
      dp = dp.parent;
    }
    n.case = caseNode;
    n.dataParent = dp;
    if (n.kind === 'notification') return;
    const holder = dp ? dp.dataChildren : this.schema.roots;
    n.jsonName = !dp || dp.module !== n.module ? n.qname : n.name;
    if (holder.has(n.qname)) {
      const where = at ?? { file: n.pos.file, line: n.pos.line };
      throw new YangCompileError(where.file, where.line, `"${n.name}" is defined twice in ${dp ? `"${dp.name}"` : 'the top level'}`);
    }
    holder.set(n.qname, n);
    if (dp && dp.module === n.module) holder.set(n.name, n);
  }

  // ----- after every node exists -----

  private finish(p: Pending): void {
    const n = p.node;
    if (p.typeStmt) n.type = this.resolveType(p.typeStmt, n.module);
    if (n.type) this.resolveLeafrefs(n.type, n, p.typeStmt!);
    const lexical = (d: Statement): LeafValue => {
      const scope = this.scopeOf(d);
      const r = parseLexical(this.schema, n.type!, d.arg!, (pfx) => scope.prefixes.get(pfx));
      if (!('value' in r)) throw new YangCompileError(d.file, d.line, `invalid default "${d.arg}" for "${n.name}": ${r.error}`);
      return r.value;
    };
    if (p.rawDefault && n.type) n.default = lexical(p.rawDefault);
    if (p.rawDefaults && n.type) n.defaults = p.rawDefaults.map(lexical);
    for (const m of p.mustStmts) n.must.push(this.constraint(m.stmt, m.scope, m.ns, false));
    for (const w of p.whenStmts) n.when.push(this.constraint(w.stmt, w.scope, w.ns, w.contextIsParent));
  }

  private resolveLeafrefs(t: ResolvedType, n: SchemaNode, at: Statement): void {
    if (t.base === 'leafref' && t.leafrefPath) {
      const target = schemaTarget(t.leafrefPath, n, this.schema);
      if (!target || (target.kind !== 'leaf' && target.kind !== 'leaf-list')) {
        throw new YangCompileError(at.file, at.line, `leafref path of "${n.name}" does not lead to a leaf`);
      }
      t.leafrefTarget = target;
    }
    for (const u of t.union ?? []) this.resolveLeafrefs(u, n, at);
  }

  private constraint(stmt: Statement, scope: FileScope, ns: string, contextIsParent: boolean): Constraint {
    return {
      expr: this.xpath(stmt.arg!, scope, ns, stmt),
      source: stmt.arg!,
      errorMessage: subArg(stmt, 'error-message'),
      errorAppTag: subArg(stmt, 'error-app-tag'),
      contextModule: ns,
      contextIsParent,
      pos: { file: stmt.file, line: stmt.line },
    };
  }
}

function latestRevision(stmt: Statement): string | undefined {
  const revs = subs(stmt, 'revision').map((r) => r.arg!).sort();
  return revs[revs.length - 1];
}

function splitQName(q: string): [string, string] {
  const i = q.indexOf(':');
  return [q.slice(0, i), q.slice(i + 1)];
}

function propagateConfig(n: SchemaNode, config: boolean): void {
  n.config = config;
  if (!config) for (const c of n.children) propagateConfig(c, false);
}

function hasOperationAncestor(n: SchemaNode): boolean {
  for (let p: SchemaNode | undefined = n; p; p = p.parent) {
    if (p.kind === 'input' || p.kind === 'output' || p.kind === 'notification') return true;
  }
  return false;
}

/**
 * Whether a node already hangs under a data node or the top, so that children attached to it can
 * be registered now. A choice or case still being built registers its nodes when it is attached.
 */
function isRegistered(n: SchemaNode): boolean {
  if (n.kind !== 'choice' && n.kind !== 'case') return true;
  let cur: SchemaNode | undefined = n;
  while (cur && (cur.kind === 'choice' || cur.kind === 'case')) cur = cur.parent;
  return cur !== undefined;
}

function dataDescendantsOrSelf(n: SchemaNode): SchemaNode[] {
  if (n.kind === 'choice' || n.kind === 'case') return n.children.flatMap(dataDescendantsOrSelf);
  return [n];
}
