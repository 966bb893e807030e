/**
 * OpenAPI 3.0.3 description of the RFC 8040 API (`/rests/...`) that the compiled schema serves, in
 * the spirit of OpenDaylight's apidoc explorer: one path item per container and list entry
 * (config and state) under `/rests/data`, one POST per rpc under `/rests/operations`, one POST per
 * action on the data resource that holds it, and JSON Schemas for the RFC 7951 bodies.
 *
 * Body schemas describe the JSON encoding (RFC 7951): member names are plain inside their parent's
 * module and `module:name` where the module changes, 64-bit integers and decimal64 are strings,
 * `empty` is `[null]`, identityref values are `module:identity`. The XML media types are listed
 * (the server speaks both) without a schema. Every container and list entry is one entry of
 * `components.schemas`; path items reference them.
 */
import type { Identity, Range, ResolvedType, Schema, SchemaNode } from '../../yang/schema.ts';
import { WITH_DEFAULTS_MODES } from './monitoring.ts';

export interface OpenApiOptions {
  /** `info.title`; default `Sextant RESTCONF`. */
  title?: string;
  /** `info.version`; default `1.0.0`. */
  version?: string;
}

type Json = Record<string, unknown>;

const JSON_TYPE = 'application/yang-data+json';
const XML_TYPE = 'application/yang-data+xml';

const INT_BOUNDS: Record<string, [number, number]> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
};

/** Error responses shared by every operation, by status code. */
const ERROR_RESPONSES: Record<string, string> = {
  '400': 'Bad request: malformed body, invalid value or unknown element (RFC 8040 section 7).',
  '401': 'Authentication required (HTTP basic).',
  '403': 'Access denied.',
  '404': 'The resource does not exist (data-missing when the data-missing-is-404 option is set).',
  '409': 'Conflict: data-missing, data-exists, in-use or lock-denied (RFC 8040 section 7, OpenDaylight mapping).',
  '500': 'Operation failed.',
};

/** Builds the OpenAPI document for everything the schema serves over RESTCONF. */
export function openApiDocument(schema: Schema, opts: OpenApiOptions = {}): Record<string, unknown> {
  return new DocBuilder(schema).build(opts);
}

interface PathParam {
  name: string;
  leaf: SchemaNode;
}

class DocBuilder {
  private readonly paths: Record<string, Json> = {};
  private readonly schemas: Record<string, Json> = {};
  private readonly operationIds = new Set<string>();
  private readonly tags = new Map<string, string>();
  /** Component `$ref` of each container, list, input and output already described. */
  private readonly refs = new Map<SchemaNode, Json>();

  constructor(private readonly schema: Schema) {}

  build(opts: OpenApiOptions): Json {
    this.schemas.errors = errorsSchema();
    for (const top of this.schema.roots.values()) {
      if (top.kind === 'container' || top.kind === 'list') {
        this.tag(top.module);
        this.dataNode(top, [], [], true);
      }
    }
    for (const rpc of this.schema.rpcs.values()) {
      this.tag(rpc.module);
      this.operation(rpc, `/rests/operations/${rpc.module}:${rpc.name}`, [], [rpc.module, rpc.name]);
    }
    const modules = [...this.schema.modules.values()]
      .filter((m) => !this.schema.importOnly.has(m.name))
      .map((m) => (m.revision ? `${m.name}@${m.revision}` : m.name))
      .sort();
    return {
      openapi: '3.0.3',
      info: {
        title: opts.title ?? 'Sextant RESTCONF',
        version: opts.version ?? '1.0.0',
        description:
          'RFC 8040 RESTCONF API generated from the loaded YANG modules. Bodies are described in their ' +
          `RFC 7951 JSON encoding (${JSON_TYPE}); the same resources accept and return RFC 7950 XML ` +
          `(${XML_TYPE}). Key values in paths are percent-encoded (RFC 8040 section 3.5.3). ` +
          `Modules: ${modules.join(', ')}.`,
      },
      servers: [{ url: '/' }],
      security: [{ basicAuth: [] }],
      tags: [...this.tags].map(([name, description]) => ({ name, description })),
      paths: this.paths,
      components: {
        securitySchemes: { basicAuth: { type: 'http', scheme: 'basic' } },
        schemas: this.schemas,
        parameters: queryParameters(),
        responses: Object.fromEntries(
          Object.entries(ERROR_RESPONSES).map(([code, description]) => [`error-${code}`, errorResponse(description)]),
        ),
      },
    };
  }

  private tag(module: string): void {
    if (this.tags.has(module)) return;
    const info = this.schema.modules.get(module);
    const rev = info?.revision ? ` revision ${info.revision}` : '';
    this.tags.set(module, `YANG module ${module}${rev}${info ? ` (namespace ${info.namespace})` : ''}`);
  }

  // ----- /rests/data -----

  /**
   * The path item of one container or list (entry), then its descendants. `segments` is the
   * api-path so far, `params` the key parameters it already declares, `names` the schema-node names
   * from the top (for operation ids and component names).
   */
  private dataNode(node: SchemaNode, segments: string[], params: PathParam[], top: boolean): void {
    const names = [...this.namesOf(node)];
    let segment = top ? `${node.module}:${node.name}` : node.jsonName;
    const ownParams: PathParam[] = [];
    const keyed = node.kind === 'list' && node.keys.length > 0;
    if (keyed) {
      const used = new Set(params.map((p) => p.name));
      const templ: string[] = [];
      for (const k of node.keys) {
        const leaf = node.dataChildren.get(k);
        if (!leaf) continue;
        let name = used.has(k) ? `${node.name}-${k}` : k;
        for (let i = 2; used.has(name); i++) name = `${node.name}-${k}-${i}`;
        used.add(name);
        ownParams.push({ name, leaf });
        templ.push(`{${name}}`);
      }
      segment += `=${templ.join(',')}`;
    }
    const allSegments = [...segments, segment];
    const allParams = [...params, ...ownParams];
    const path = `/rests/data/${allSegments.join('/')}`;
    const compRef = this.component(node, false);
    const member = `${node.module}:${node.name}`;
    const body = wrapper(member, node.kind === 'list' ? entryArray(compRef, keyed) : compRef);
    const tags = [this.rootModule(node)];
    const item: Json = {};
    if (allParams.length) item.parameters = allParams.map((p) => this.pathParameter(p));
    const what = node.kind === 'list' ? (keyed ? `list ${node.name} entry` : `all entries of keyless list ${node.name}`) : `container ${node.name}`;
    const summaryPath = displayPath(node);

    item.get = {
      tags,
      summary: `Read ${what} (${summaryPath})`,
      description: node.description,
      operationId: this.opId('get', names),
      parameters: ['content', 'depth', 'fields', 'with-defaults'].map((p) => ({ $ref: `#/components/parameters/${p}` })),
      responses: {
        '200': { description: `The ${what}.`, content: content(body) },
        ...errorRefs(['400', '401', '403', '404', '409']),
      },
    };
    if (node.config && (keyed || node.kind !== 'list')) {
      const userOrdered = node.kind === 'list' && node.orderedBy === 'user';
      item.put = {
        tags,
        summary: `Create or replace ${what} (${summaryPath})`,
        operationId: this.opId('put', names),
        ...(userOrdered ? { parameters: insertParams() } : {}),
        requestBody: { required: true, content: content(body) },
        responses: {
          '201': { description: 'Created.' },
          '204': { description: 'Replaced.' },
          ...errorRefs(['400', '401', '403', '409', '500']),
        },
      };
      item.patch = {
        tags,
        summary: `Merge into ${what} (${summaryPath})`,
        operationId: this.opId('patch', names),
        requestBody: { required: true, content: content(body) },
        responses: {
          '200': { description: 'Merged.' },
          '204': { description: 'Merged.' },
          ...errorRefs(['400', '401', '403', '409', '500']),
        },
      };
      item.delete = {
        tags,
        summary: `Delete ${what} (${summaryPath})`,
        operationId: this.opId('delete', names),
        responses: {
          '204': { description: 'Deleted.' },
          ...errorRefs(['400', '401', '403', '404', '409', '500']),
        },
      };
      const creatable = this.dataChildren(node).filter((c) => c.config && c.kind !== 'anyxml');
      if (creatable.length) {
        const bodies = creatable.map((c) => this.childBody(c));
        const anyUserOrdered = creatable.some((c) => (c.kind === 'list' || c.kind === 'leaf-list') && c.orderedBy === 'user');
        item.post = {
          tags,
          summary: `Create a child of ${what} (${summaryPath})`,
          description: `Creates one child resource (or several entries of one list, all or none): ${creatable.map((c) => `${c.module}:${c.name}`).join(', ')}.`,
          operationId: this.opId('post', names),
          ...(anyUserOrdered ? { parameters: insertParams() } : {}),
          requestBody: { required: true, content: content(bodies.length === 1 ? bodies[0]! : { oneOf: bodies }) },
          responses: {
            '201': {
              description: 'Created.',
              headers: { Location: { description: 'URI of the created resource.', schema: { type: 'string' } } },
            },
            ...errorRefs(['400', '401', '403', '409', '500']),
          },
        };
      }
    }
    this.paths[path] = item;

    // Entries of a keyless list cannot be addressed (RFC 8040 section 3.5.3): stop there.
    if (node.kind === 'list' && !keyed) return;
    for (const c of this.dataChildren(node)) {
      if (c.kind === 'container' || c.kind === 'list') this.dataNode(c, allSegments, allParams, false);
    }
    for (const a of operationsOf(node, 'action')) {
      this.operation(a, `${path}/${a.module === node.module ? a.name : `${a.module}:${a.name}`}`, allParams, [...names, a.name]);
    }
  }

  /**
   * POST body creating one child: the child wrapped in its qualified name (a keyed list: one or
   * more entries, each created, as OpenDaylight creates them; a keyless one: one entry).
   */
  private childBody(c: SchemaNode): Json {
    const member = `${c.module}:${c.name}`;
    if (c.kind === 'container' || c.kind === 'list') {
      const ref = this.component(c, false);
      if (c.kind === 'container') return wrapper(member, ref);
      return wrapper(member, c.keys.length ? { type: 'array', minItems: 1, items: ref } : entryArray(ref, true));
    }
    return wrapper(member, this.memberSchema(c, false));
  }

  private pathParameter(p: PathParam): Json {
    const { description: _d, default: _def, readOnly: _r, ...schema } = this.typeSchema(p.leaf.type);
    return {
      name: p.name,
      in: 'path',
      required: true,
      description: `${p.leaf.description ? `${p.leaf.description}\n\n` : ''}Key ${p.leaf.name} of list ${p.leaf.dataParent?.name ?? ''}, percent-encoded (RFC 8040 section 3.5.3).`,
      schema,
    };
  }

  // ----- rpcs and actions -----

  private operation(op: SchemaNode, path: string, params: PathParam[], names: string[]): void {
    const input = op.children.find((c) => c.kind === 'input');
    const output = op.children.find((c) => c.kind === 'output');
    const hasInput = !!input && this.dataChildren(input).length > 0;
    const hasOutput = !!output && this.dataChildren(output).length > 0;
    const mod = op.module;
    const post: Json = {
      tags: [this.rootModule(op)],
      summary: `Invoke ${op.kind} ${mod}:${op.name}`,
      description: op.description,
      operationId: this.opId(op.kind, names),
    };
    if (hasInput) {
      const mandatory = this.dataChildren(input!).some((c) => this.isRequired(c));
      post.requestBody = {
        required: mandatory,
        content: content(wrapper(`${mod}:input`, this.component(input!, true))),
      };
    }
    post.responses = {
      ...(hasOutput
        ? { '200': { description: 'The output.', content: content(wrapper(`${mod}:output`, this.component(output!, true))) } }
        : { '204': { description: 'Done; the operation has no output.' } }),
      ...errorRefs(['400', '401', '403', '404', '409', '500']),
    };
    const item: Json = {};
    if (params.length) item.parameters = params.map((p) => this.pathParameter(p));
    item.post = post;
    this.paths[path] = item;
  }

  // ----- schemas -----

  /** The component schema of a container, list entry, input or output; returns its `$ref`. */
  private component(node: SchemaNode, inOperation: boolean): Json {
    const known = this.refs.get(node);
    if (known) return { ...known };
    const base = [...this.namesOf(node)].join('_').replace(/[^A-Za-z0-9._-]/g, '_');
    let name = base;
    for (let i = 2; name in this.schemas; i++) name = `${base}-${i}`;
    const ref = { $ref: `#/components/schemas/${name}` };
    this.refs.set(node, ref);
    this.schemas[name] = {}; // reserve the name before the children take theirs
    const props: Json = {};
    const required: string[] = [];
    for (const c of this.dataChildren(node)) {
      props[c.jsonName] = this.memberSchema(c, inOperation);
      if (this.isRequired(c) || (node.kind === 'list' && node.keys.includes(c.name) && c.module === node.module)) {
        required.push(c.jsonName);
      }
    }
    const s: Json = { type: 'object' };
    const title = node.kind === 'input' || node.kind === 'output'
      ? `${node.parent?.module}:${node.parent?.name} ${node.kind}`
      : `${node.module}:${node.name}`;
    s.title = title;
    if (node.description) s.description = node.description;
    if (node.presence) s.description = `${node.description ? `${node.description}\n\n` : ''}Presence container: ${node.presence}`;
    if (!inOperation && !node.config) s.readOnly = true;
    s.properties = props;
    if (required.length) s.required = required;
    this.schemas[name] = s;
    return { ...ref };
  }

  /** Schema of one member of an object: leaf, leaf-list, container, list, anydata, anyxml. */
  private memberSchema(c: SchemaNode, inOperation: boolean): Json {
    const readOnly = !inOperation && !c.config;
    switch (c.kind) {
      case 'container':
        return this.component(c, inOperation);
      case 'list': {
        const s: Json = { type: 'array', items: this.component(c, inOperation) };
        addCardinality(s, c);
        if (c.description) s.description = c.description;
        if (readOnly) s.readOnly = true;
        return s;
      }
      case 'leaf-list': {
        const s: Json = { type: 'array', items: this.typeSchema(c.type) };
        addCardinality(s, c);
        const text = [c.description, c.units ? `Units: ${c.units}.` : undefined].filter(Boolean).join('\n\n');
        if (text) s.description = text;
        if (c.defaults?.length) s.default = c.defaults;
        if (readOnly) s.readOnly = true;
        return s;
      }
      case 'leaf': {
        const s = this.typeSchema(c.type);
        const text = [c.description, c.units ? `Units: ${c.units}.` : undefined, s.description].filter(Boolean).join('\n\n');
        if (text) s.description = text;
        if (c.default !== undefined) s.default = c.default;
        if (readOnly) s.readOnly = true;
        return s;
      }
      default: {
        // anydata is an object of any content; anyxml any JSON value.
        const s: Json = c.kind === 'anydata' ? { type: 'object' } : {};
        if (c.description) s.description = c.description;
        if (readOnly) s.readOnly = true;
        return s;
      }
    }
  }

  /** RFC 7951 JSON value of a leaf type. */
  private typeSchema(t: ResolvedType | undefined, depth = 0): Json {
    if (!t || depth > 16) return { type: 'string' };
    switch (t.base) {
      case 'int8':
      case 'int16':
      case 'int32':
      case 'uint8':
      case 'uint16':
      case 'uint32': {
        const [lo, hi] = INT_BOUNDS[t.base]!;
        const s: Json = { type: 'integer', format: t.base === 'uint32' ? 'int64' : 'int32' };
        const env = envelope(t.ranges);
        s.minimum = env && safe(env.min) && Number(env.min) > lo ? Number(env.min) : lo;
        s.maximum = env && safe(env.max) && Number(env.max) < hi ? Number(env.max) : hi;
        return s;
      }
      case 'int64':
        return withRange({ type: 'string', pattern: '^-?[0-9]+$' }, t);
      case 'uint64':
        return withRange({ type: 'string', pattern: '^[0-9]+$' }, t);
      case 'decimal64': {
        const fd = t.fractionDigits ?? 18;
        return withRange({ type: 'string', pattern: `^-?[0-9]+(\\.[0-9]{1,${fd}})?$` }, t);
      }
      case 'string': {
        const s: Json = { type: 'string' };
        const env = envelope(t.lengths);
        if (env && env.min > 0n && safe(env.min)) s.minLength = Number(env.min);
        if (env && safe(env.max)) s.maxLength = Number(env.max);
        const all: Json[] = [];
        for (const p of t.patterns ?? []) {
          // The compiled pattern is the XSD regex translated to an anchored ECMAScript one: the dialect
          // JSON Schema uses. Keep it only where it also compiles without the `v` flag.
          const source = p.regex.source;
          if (!compilesU(source)) continue;
          all.push(p.invert ? { not: { pattern: source } } : { pattern: source });
        }
        const first = all.findIndex((p) => typeof p.pattern === 'string');
        if (first >= 0) s.pattern = all.splice(first, 1)[0]!.pattern;
        if (all.length) s.allOf = all;
        return s;
      }
      case 'boolean':
        return { type: 'boolean' };
      case 'enumeration':
        return { type: 'string', enum: [...(t.enums?.keys() ?? [])] };
      case 'bits': {
        const names = [...(t.bits?.keys() ?? [])];
        const s: Json = { type: 'string', description: `Space-separated bit names: ${names.join(', ')}.` };
        if (names.length) {
          const alt = names.map(escapeRegExp).join('|');
          s.pattern = `^(?:(?:${alt})(?: (?:${alt}))*)?$`;
        }
        return s;
      }
      case 'binary':
        return { type: 'string', format: 'byte' };
      case 'empty':
        return { type: 'array', minItems: 1, maxItems: 1, items: { type: 'string', nullable: true, enum: [null] }, example: [null] };
      case 'identityref': {
        const s: Json = { type: 'string' };
        const ids = this.identitiesOf(t.identityBases ?? []);
        if (ids.length) s.enum = ids;
        return s;
      }
      case 'union': {
        // anyOf, not oneOf: YANG takes the first member that matches, and members overlap.
        const members = (t.union ?? []).map((m) => this.typeSchema(m, depth + 1));
        return members.length === 1 ? members[0]! : { anyOf: members };
      }
      case 'leafref':
        return t.leafrefTarget?.type ? this.typeSchema(t.leafrefTarget.type, depth + 1) : { type: 'string' };
      case 'instance-identifier':
        return { type: 'string', description: 'Instance identifier (RFC 7951 section 6.11).' };
    }
  }

  /** Identities derived from every one of the bases, as `module:name`, sorted. */
  private identitiesOf(bases: string[]): string[] {
    let out: Set<string> | undefined;
    for (const b of bases) {
      const id: Identity | undefined = this.schema.identities.get(b);
      const derived = new Set(id?.derived ?? []);
      out = out ? new Set([...out].filter((x) => derived.has(x))) : derived;
    }
    return [...(out ?? [])].sort();
  }

  // ----- helpers -----

  private dataChildren(node: SchemaNode): SchemaNode[] {
    return [...new Set(node.dataChildren.values())];
  }

  private isRequired(c: SchemaNode): boolean {
    if (c.case) return false;
    if (c.kind === 'leaf' || c.kind === 'anydata' || c.kind === 'anyxml') return c.mandatory;
    if (c.kind === 'list' || c.kind === 'leaf-list') return c.minElements > 0;
    return false;
  }

  /** Schema-node names from the top-level node (or rpc) down to this one, module-qualified at the top. */
  private *namesOf(node: SchemaNode): Generator<string> {
    const chain: SchemaNode[] = [];
    for (let n: SchemaNode | undefined = node; n; n = n.parent) {
      if (n.kind !== 'choice' && n.kind !== 'case') chain.unshift(n);
    }
    let module = '';
    for (const n of chain) {
      yield n.module !== module ? `${n.module}_${n.name}` : n.name;
      module = n.module;
    }
  }

  private rootModule(node: SchemaNode): string {
    let n = node;
    while (n.parent) n = n.parent;
    return n.module;
  }

  private opId(method: string, names: string[]): string {
    const base = `${method}_${names.join('_')}`;
    let id = base;
    for (let i = 2; this.operationIds.has(id); i++) id = `${base}_${i}`;
    this.operationIds.add(id);
    return id;
  }
}

/** `module:top/child/other-module:grandchild`: the schema path as RFC 7951 member names. */
function displayPath(node: SchemaNode): string {
  const parts: string[] = [];
  for (let n: SchemaNode | undefined = node; n; n = n.dataParent) parts.unshift(n.dataParent ? n.jsonName : `${n.module}:${n.name}`);
  return parts.join('/');
}

function operationsOf(node: SchemaNode, kind: 'action'): SchemaNode[] {
  const out: SchemaNode[] = [];
  const walk = (n: SchemaNode) => {
    for (const c of n.children) {
      if (c.kind === kind) out.push(c);
      else if (c.kind === 'choice' || c.kind === 'case') walk(c);
    }
  };
  walk(node);
  return out;
}

function wrapper(member: string, schema: Json): Json {
  return { type: 'object', required: [member], properties: { [member]: schema }, additionalProperties: false };
}

/** A list resource in a body: the entries as an array (one entry when the target is an entry). */
function entryArray(ref: Json, single: boolean): Json {
  return single ? { type: 'array', minItems: 1, maxItems: 1, items: ref } : { type: 'array', items: ref };
}

function content(schema: Json): Json {
  return { [JSON_TYPE]: { schema }, [XML_TYPE]: {} };
}

function errorRefs(codes: string[]): Json {
  return Object.fromEntries(codes.map((c) => [c, { $ref: `#/components/responses/error-${c}` }]));
}

function errorResponse(description: string): Json {
  return {
    description,
    content: { [JSON_TYPE]: { schema: { $ref: '#/components/schemas/errors' } }, [XML_TYPE]: {} },
  };
}

function errorsSchema(): Json {
  return {
    type: 'object',
    description: 'RFC 8040 section 7.1 error body (JSON member `errors`, as OpenDaylight sends it).',
    required: ['errors'],
    properties: {
      errors: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'array',
            items: {
              type: 'object',
              required: ['error-type', 'error-tag'],
              properties: {
                'error-type': { type: 'string', enum: ['transport', 'rpc', 'protocol', 'application'] },
                'error-tag': { type: 'string' },
                'error-app-tag': { type: 'string' },
                'error-path': { type: 'string', description: 'Instance identifier of the node concerned.' },
                'error-message': { type: 'string' },
                'error-info': { type: 'object', additionalProperties: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  };
}

function queryParameters(): Json {
  return {
    content: {
      name: 'content',
      in: 'query',
      required: false,
      description: 'Which data to return: config, nonconfig (state) or all (RFC 8040 section 4.8.1).',
      schema: { type: 'string', enum: ['config', 'nonconfig', 'all'], default: 'all' },
    },
    depth: {
      name: 'depth',
      in: 'query',
      required: false,
      description: 'Levels of child nodes to return: 1..65535 or unbounded (RFC 8040 section 4.8.2).',
      schema: { anyOf: [{ type: 'integer', minimum: 1, maximum: 65535 }, { type: 'string', enum: ['unbounded'] }] },
    },
    fields: {
      name: 'fields',
      in: 'query',
      required: false,
      description: 'Subset of the target to return, e.g. `a;b/c(d;e)` (RFC 8040 section 4.8.3).',
      schema: { type: 'string' },
    },
    'with-defaults': {
      name: 'with-defaults',
      in: 'query',
      required: false,
      description: 'How default values are reported (RFC 8040 section 4.8.9, RFC 6243).',
      schema: { type: 'string', enum: [...WITH_DEFAULTS_MODES] },
    },
    insert: {
      name: 'insert',
      in: 'query',
      required: false,
      description: 'Where a user-ordered entry goes (RFC 8040 section 4.8.5).',
      schema: { type: 'string', enum: ['first', 'last', 'before', 'after'] },
    },
    point: {
      name: 'point',
      in: 'query',
      required: false,
      description: 'Api-path of the entry that insert=before|after refers to (RFC 8040 section 4.8.6).',
      schema: { type: 'string' },
    },
  };
}

function insertParams(): Json[] {
  return [{ $ref: '#/components/parameters/insert' }, { $ref: '#/components/parameters/point' }];
}

function addCardinality(s: Json, n: SchemaNode): void {
  if (n.minElements > 0) s.minItems = n.minElements;
  if (Number.isFinite(n.maxElements)) s.maxItems = n.maxElements;
}

/** Bounds that every restriction allows: the tightest of each set's outer bounds. */
function envelope(sets: Range[][] | undefined): { min: bigint; max: bigint } | undefined {
  let out: { min: bigint; max: bigint } | undefined;
  for (const set of sets ?? []) {
    if (!set.length) continue;
    let min = set[0]!.min;
    let max = set[0]!.max;
    for (const r of set) {
      if (r.min < min) min = r.min;
      if (r.max > max) max = r.max;
    }
    out = out ? { min: min > out.min ? min : out.min, max: max < out.max ? max : out.max } : { min, max };
  }
  return out;
}

/** 64-bit and decimal64 ranges cannot be JSON Schema bounds on strings: say them in the description. */
function withRange(s: Json, t: ResolvedType): Json {
  if (!t.ranges?.length) return s;
  const fd = t.base === 'decimal64' ? t.fractionDigits ?? 0 : 0;
  const text = t.ranges
    .map((set) => set.map((r) => (r.min === r.max ? scaled(r.min, fd) : `${scaled(r.min, fd)}..${scaled(r.max, fd)}`)).join(' | '))
    .join(', and ');
  s.description = `Range: ${text}.`;
  return s;
}

function scaled(v: bigint, fd: number): string {
  if (fd === 0) return v.toString();
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(fd + 1, '0');
  const int = digits.slice(0, digits.length - fd);
  const frac = digits.slice(digits.length - fd).replace(/0+$/, '');
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

function safe(v: bigint): boolean {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER);
}

function compilesU(source: string): boolean {
  try {
    new RegExp(source, 'u');
    return true;
  } catch {
    return false;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
