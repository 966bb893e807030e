/**
 * The OpenAPI 3.0.3 document generated from the compiled YANG schema: the RFC 8040 paths and
 * methods per container and list entry, rpc bodies, the RFC 7951 JSON Schemas of leaves, and the
 * structural rules of OpenAPI 3.0 (path templates declared, operation ids unique, every $ref
 * resolves, only Schema Object keywords). Bodies the codec really produces validate against the
 * generated schemas (ajv, which fastify already brings).
 */
import t from 'tap';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { compileSchema, loadSchema } from '../../src/yang/compiler.ts';
import { decodeObject, encodeRoot, readJson } from '../../src/yang/json.ts';
import { YangError } from '../../src/errors.ts';
import { errorJson } from '../../src/northbound/restconf/errors.ts';
import { openApiDocument } from '../../src/northbound/restconf/openapi.ts';

type J = Record<string, any>;

const ROOT = join(import.meta.dirname, '../..');
const fixture = await loadSchema(join(ROOT, 'test/fixtures/yang'));
const shipped = await loadSchema(join(ROOT, 'yang'));
const fx = openApiDocument(fixture, { title: 'Fixture', version: '9.9.9' }) as J;
const doc = openApiDocument(shipped) as J;

const DATA = '/rests/data/sextant-fixture:registry';
const JSON_TYPE = 'application/yang-data+json';

/** Resolves a local `#/a/b` reference. */
function deref(d: J, v: J): J {
  if (!v || typeof v.$ref !== 'string') return v;
  const parts = v.$ref.slice(2).split('/').map((p: string) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let cur: any = d;
  for (const p of parts) cur = cur?.[p];
  return cur;
}

const methods = (d: J, path: string) =>
  Object.keys(d.paths[path] ?? {}).filter((k) => ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'].includes(k)).sort();

const jsonSchema = (x: J) => x.content[JSON_TYPE].schema;

// ----- structural checks of OpenAPI 3.0.3 -----

const HTTP = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const PATH_ITEM_KEYS = new Set(['$ref', 'summary', 'description', 'servers', 'parameters', ...HTTP]);
const OPERATION_KEYS = new Set(['tags', 'summary', 'description', 'externalDocs', 'operationId', 'parameters', 'requestBody', 'responses', 'callbacks', 'deprecated', 'security', 'servers']);
const SCHEMA_KEYS = new Set([
  'title', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength',
  'pattern', 'maxItems', 'minItems', 'uniqueItems', 'maxProperties', 'minProperties', 'required', 'enum', 'type',
  'allOf', 'oneOf', 'anyOf', 'not', 'items', 'properties', 'additionalProperties', 'description', 'format',
  'default', 'nullable', 'discriminator', 'readOnly', 'writeOnly', 'xml', 'externalDocs', 'example', 'deprecated',
]);
const TYPES = new Set(['object', 'array', 'string', 'number', 'integer', 'boolean']);

/** Every violation found, as `where: what`. */
function structuralProblems(d: J): string[] {
  const out: string[] = [];
  const bad = (where: string, what: string) => out.push(`${where}: ${what}`);

  for (const k of Object.keys(d)) {
    if (!['openapi', 'info', 'servers', 'paths', 'components', 'security', 'tags', 'externalDocs'].includes(k) && !k.startsWith('x-')) bad('root', `unknown field ${k}`);
  }
  if (d.openapi !== '3.0.3') bad('openapi', String(d.openapi));
  if (typeof d.info?.title !== 'string' || typeof d.info?.version !== 'string') bad('info', 'title and version are required strings');
  if (!d.paths || typeof d.paths !== 'object') bad('paths', 'missing');

  // Every $ref anywhere is local and resolves.
  const walkRefs = (v: unknown, where: string) => {
    if (Array.isArray(v)) v.forEach((x, i) => walkRefs(x, `${where}/${i}`));
    else if (v && typeof v === 'object') {
      const o = v as J;
      if ('$ref' in o) {
        if (typeof o.$ref !== 'string' || !o.$ref.startsWith('#/')) bad(where, `non-local $ref ${o.$ref}`);
        else if (deref(d, o) === undefined) bad(where, `dangling $ref ${o.$ref}`);
        if (Object.keys(o).length !== 1) bad(where, '$ref with siblings (ignored in 3.0)');
      }
      for (const [k, x] of Object.entries(o)) walkRefs(x, `${where}/${k}`);
    }
  };
  walkRefs(d, '#');

  for (const [section, entries] of Object.entries(d.components ?? {})) {
    for (const name of Object.keys(entries as J)) {
      if (!/^[a-zA-Z0-9.\-_]+$/.test(name)) bad(`components/${section}`, `invalid name ${name}`);
    }
  }
  for (const req of d.security ?? []) {
    for (const name of Object.keys(req)) if (!d.components?.securitySchemes?.[name]) bad('security', `unknown scheme ${name}`);
  }
  for (const [name, s] of Object.entries<J>(d.components?.securitySchemes ?? {})) {
    if (s.type === 'http' && typeof s.scheme !== 'string') bad(`securityScheme ${name}`, 'http without scheme');
  }

  const checkSchema = (s: J, where: string) => {
    if (!s || typeof s !== 'object' || Array.isArray(s)) return bad(where, 'schema is not an object');
    if ('$ref' in s) return;
    for (const k of Object.keys(s)) if (!SCHEMA_KEYS.has(k) && !k.startsWith('x-')) bad(where, `not a Schema Object keyword: ${k}`);
    if ('type' in s && !TYPES.has(s.type)) bad(where, `bad type ${JSON.stringify(s.type)}`);
    if (s.type === 'array' && !s.items) bad(where, 'array without items');
    if ('required' in s) {
      if (!Array.isArray(s.required) || !s.required.length || new Set(s.required).size !== s.required.length) bad(where, 'required must be a non-empty array of unique names');
      for (const r of s.required ?? []) if (s.properties && !(r in s.properties)) bad(where, `required ${r} is not a property`);
    }
    if ('enum' in s) {
      if (!Array.isArray(s.enum) || !s.enum.length) bad(where, 'enum must be a non-empty array');
      else if (s.enum.includes(null) && s.nullable !== true) bad(where, 'null in enum without nullable');
    }
    if ('nullable' in s && !('type' in s)) bad(where, 'nullable without type');
    if ('pattern' in s) {
      try {
        new RegExp(s.pattern, 'u');
      } catch (e) {
        bad(where, `pattern does not compile: ${(e as Error).message}`);
      }
    }
    for (const k of ['minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems']) {
      if (k in s && (typeof s[k] !== 'number' || !Number.isFinite(s[k]))) bad(where, `${k} is not a finite number`);
    }
    if (typeof s.minimum === 'number' && typeof s.maximum === 'number' && s.minimum > s.maximum) bad(where, 'minimum > maximum');
    for (const k of ['allOf', 'oneOf', 'anyOf']) {
      if (k in s) {
        if (!Array.isArray(s[k]) || !s[k].length) bad(where, `${k} must be a non-empty array`);
        else s[k].forEach((x: J, i: number) => checkSchema(x, `${where}/${k}/${i}`));
      }
    }
    if (s.not) checkSchema(s.not, `${where}/not`);
    if (s.items) checkSchema(s.items, `${where}/items`);
    if (s.additionalProperties && typeof s.additionalProperties === 'object') checkSchema(s.additionalProperties, `${where}/additionalProperties`);
    for (const [k, p] of Object.entries<J>(s.properties ?? {})) checkSchema(p, `${where}/properties/${k}`);
  };
  for (const [name, s] of Object.entries<J>(d.components?.schemas ?? {})) checkSchema(s, `#/components/schemas/${name}`);

  const checkContent = (c: J, where: string) => {
    if (!c || !Object.keys(c).length) return bad(where, 'empty content');
    for (const [type, media] of Object.entries<J>(c)) {
      if (!/^[a-z]+\/[a-z0-9.+-]+$/.test(type)) bad(where, `bad media type ${type}`);
      if (media.schema) checkSchema(media.schema, `${where}/${type}`);
    }
  };
  const checkParam = (p: J, where: string) => {
    if (typeof p.name !== 'string' || !['query', 'header', 'path', 'cookie'].includes(p.in)) bad(where, 'parameter needs name and in');
    if (p.in === 'path' && p.required !== true) bad(where, `path parameter ${p.name} must be required`);
    if (!p.schema === !p.content) bad(where, 'parameter needs exactly one of schema and content');
    if (p.schema) checkSchema(p.schema, `${where}/schema`);
  };

  const opIds = new Set<string>();
  const tagNames = new Set((d.tags ?? []).map((x: J) => x.name));
  for (const [path, item] of Object.entries<J>(d.paths ?? {})) {
    if (!path.startsWith('/')) bad(path, 'path must start with /');
    for (const k of Object.keys(item)) if (!PATH_ITEM_KEYS.has(k) && !k.startsWith('x-')) bad(path, `unknown path item field ${k}`);
    const template = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    if (new Set(template).size !== template.length) bad(path, 'template parameter used twice');
    const common = (item.parameters ?? []).map((p: J) => deref(d, p));
    common.forEach((p: J, i: number) => checkParam(p, `${path}/parameters/${i}`));
    const ops = HTTP.filter((m) => item[m]);
    if (!ops.length) bad(path, 'no operations');
    for (const m of ops) {
      const op = item[m] as J;
      const where = `${m.toUpperCase()} ${path}`;
      for (const k of Object.keys(op)) if (!OPERATION_KEYS.has(k) && !k.startsWith('x-')) bad(where, `unknown operation field ${k}`);
      if (typeof op.operationId !== 'string') bad(where, 'no operationId');
      else if (opIds.has(op.operationId)) bad(where, `duplicate operationId ${op.operationId}`);
      else opIds.add(op.operationId);
      for (const tag of op.tags ?? []) if (!tagNames.has(tag)) bad(where, `tag ${tag} is not declared`);
      const own = (op.parameters ?? []).map((p: J) => deref(d, p));
      own.forEach((p: J, i: number) => checkParam(p, `${where}/parameters/${i}`));
      // Operation-level parameters override path-level ones with the same name and location.
      const effective = new Map<string, J>();
      for (const p of [...common, ...own]) effective.set(`${p.in}:${p.name}`, p);
      const seen = new Set<string>();
      for (const p of own) {
        if (seen.has(`${p.in}:${p.name}`)) bad(where, `duplicate parameter ${p.name}`);
        seen.add(`${p.in}:${p.name}`);
      }
      const declaredPath = [...effective.values()].filter((p) => p.in === 'path').map((p) => p.name);
      for (const name of template) if (!declaredPath.includes(name)) bad(where, `path parameter {${name}} is not declared`);
      for (const name of declaredPath) if (!template.includes(name)) bad(where, `path parameter ${name} is not in the template`);
      if (op.requestBody) checkContent(deref(d, op.requestBody).content, `${where}/requestBody`);
      if (['get', 'delete', 'head'].includes(m) && op.requestBody) bad(where, `${m} with a request body`);
      const responses = Object.entries<J>(op.responses ?? {});
      if (!responses.length) bad(where, 'no responses');
      for (const [code, r0] of responses) {
        if (!/^(default|[1-5]XX|[1-5][0-9][0-9])$/.test(code)) bad(where, `bad response code ${code}`);
        const r = deref(d, r0);
        if (typeof r?.description !== 'string') bad(`${where} ${code}`, 'response without description');
        if (r?.content) checkContent(r.content, `${where} ${code}`);
      }
    }
  }
  return out;
}

// ----- ajv: the schemas compile and real bodies validate -----

function validatorFor(d: J) {
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  ajv.addKeyword('example');
  // The document is added once and each schema compiled as a reference into it: adding the
  // components beside every schema made ajv walk all of them per compile (minutes on the shipped
  // inventory models).
  const doc = 'urn:sextant:openapi';
  ajv.addSchema({ $id: doc, components: d.components, paths: d.paths }, doc);
  /** Compiles the schema found at a path of keys into the document (its refs resolve within it). */
  return (pointer: string[]) => {
    const fragment = pointer.map((k) => encodeURIComponent(k.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');
    return ajv.compile({ $ref: `${doc}#/${fragment}` });
  };
}

t.test('document frame: servers, basic auth, tags, info', async (t) => {
  t.equal(fx.openapi, '3.0.3');
  t.same(fx.info.title, 'Fixture');
  t.same(fx.info.version, '9.9.9');
  t.same(fx.servers, [{ url: '/' }]);
  t.same(fx.components.securitySchemes.basicAuth, { type: 'http', scheme: 'basic' });
  t.same(fx.security, [{ basicAuth: [] }]);
  t.ok(fx.tags.some((x: J) => x.name === 'sextant-fixture'));
  t.equal(doc.info.title, 'Sextant RESTCONF', 'default title');
  t.ok(doc.tags.some((x: J) => x.name === 'toaster'));
});

t.test('fixture: one path item per container and list entry, methods by config', async (t) => {
  t.same(Object.keys(fx.paths).sort(), [
    '/rests/data/sextant-fixture:counters',
    DATA,
    `${DATA}/host={name}`,
    `${DATA}/host={name}/port={id}`,
    `${DATA}/host={name}/stats`,
    `${DATA}/limits`,
    `${DATA}/link={src},{dst}`,
    `${DATA}/step={n}`,
    '/rests/operations/sextant-fixture:echo',
  ].sort());
  const cfg = ['delete', 'get', 'patch', 'post', 'put'];
  t.same(methods(fx, DATA), cfg, 'top container');
  t.same(methods(fx, `${DATA}/host={name}`), cfg, 'list entry');
  t.same(methods(fx, `${DATA}/host={name}/port={id}`), cfg, 'nested list entry');
  t.same(methods(fx, `${DATA}/link={src},{dst}`), cfg, 'composite key');
  t.same(methods(fx, '/rests/data/sextant-fixture:counters'), ['get'], 'config false: GET only');
  t.same(methods(fx, `${DATA}/host={name}/stats`), ['get'], 'state under config: GET only');

  const host = fx.paths[`${DATA}/host={name}`];
  t.same(host.parameters.map((p: J) => [p.name, p.in, p.required]), [['name', 'path', true]]);
  t.same(host.parameters[0].schema, { type: 'string', minLength: 1, maxLength: 64 }, 'key schema from the key leaf type');
  t.same(fx.paths[`${DATA}/link={src},{dst}`].parameters.map((p: J) => p.name), ['src', 'dst']);
  t.same(fx.paths[`${DATA}/host={name}/port={id}`].parameters.map((p: J) => p.name), ['name', 'id'], 'ancestor keys are declared too');
  t.same(fx.paths[`${DATA}/host={name}/port={id}`].parameters[1].schema, { type: 'integer', format: 'int64', minimum: 0, maximum: 4294967295 });

  t.same(host.get.tags, ['sextant-fixture']);
  t.same(host.get.parameters.map((p: J) => p.$ref.split('/').pop()), ['content', 'depth', 'fields', 'with-defaults']);
  t.same(Object.keys(host.put.responses).filter((c) => c.startsWith('2')), ['201', '204']);
  t.same(Object.keys(host.patch.responses).filter((c) => c.startsWith('2')), ['200', '204']);
  t.same(Object.keys(host.delete.responses).filter((c) => c.startsWith('2')), ['204']);
  t.same(Object.keys(host.post.responses).filter((c) => c.startsWith('2')), ['201']);
  t.equal(host.get.responses['409'].$ref, '#/components/responses/error-409');
  t.equal(jsonSchema(fx.components.responses['error-409']).$ref, '#/components/schemas/errors');
  t.ok(host.get.responses['200'].content['application/yang-data+xml'], 'XML is offered too');
  t.notOk(fx.paths[`${DATA}/step={n}`].get.parameters.some((p: J) => p.$ref.endsWith('/insert')));
  t.same(fx.paths[`${DATA}/step={n}`].put.parameters.map((p: J) => p.$ref.split('/').pop()), ['insert', 'point'], 'user-ordered list: insert and point');
});

t.test('fixture: bodies are RFC 7951 JSON', async (t) => {
  const host = fx.paths[`${DATA}/host={name}`];
  const body = jsonSchema(host.get.responses['200']);
  t.same(body.required, ['sextant-fixture:host'], 'wrapped in the qualified name');
  t.same(jsonSchema(host.put.requestBody), body, 'PUT sends what GET returns');
  const entries = body.properties['sextant-fixture:host'];
  t.match(entries, { type: 'array', minItems: 1, maxItems: 1 }, 'a list entry is a one-element array');
  const entry = deref(fx, entries.items);
  t.equal(entry.type, 'object');
  t.same(entry.required, ['name'], 'the key is required');
  const p = entry.properties;
  t.match(p.dpn, { type: 'string', pattern: '^[0-9]+$', description: 'Datapath id.' }, 'uint64 is a string');
  t.match(p.weight, { type: 'string' }, 'decimal64 is a string');
  t.ok(new RegExp(p.weight.pattern).test('1.5') && !new RegExp(p.weight.pattern).test('1.555'), 'fraction digits in the pattern');
  t.same(p.colour.enum, ['sextant-fixture:green', 'sextant-fixture:red'], 'identityref: qualified derived identities');
  t.same(p.enabled, { type: 'boolean', description: 'Enabled.', default: true });
  t.match(p.backup, { type: 'string', minLength: 1, maxLength: 64 }, 'leafref takes the target type');
  t.match(p.tags, { type: 'array', items: { type: 'string' } });
  t.match(p.marker, { type: 'array', minItems: 1, maxItems: 1, items: { enum: [null] } }, 'empty is [null]');
  t.equal(deref(fx, p.stats).readOnly, true, 'config false container is readOnly');
  t.match(deref(fx, p.stats).properties.packets, { type: 'string', readOnly: true }, 'and so are its leaves');
  t.match(p.port, { type: 'array', items: { $ref: '#/components/schemas/sextant-fixture_registry_host_port' } });
  t.same(deref(fx, p.port.items).properties.id, { type: 'integer', format: 'int64', minimum: 0, maximum: 4294967295, description: 'Port number.' });
  t.notOk(entry.required.includes('address'), 'optional leaves are not required');

  const reg = deref(fx, jsonSchema(fx.paths[DATA].get.responses['200']).properties['sextant-fixture:registry']);
  t.same(Object.keys(reg.properties), ['host', 'link', 'ordered', 'step', 'limits'], 'members by plain name in the same module');
  const limits = deref(fx, reg.properties.limits);
  t.same(limits.required, ['low'], 'mandatory leaf is required');
  t.match(limits.properties.low, { type: 'integer', minimum: -2147483648, maximum: 2147483647 });
  t.match(limits.description, /Presence container/);

  const counters = jsonSchema(fx.paths['/rests/data/sextant-fixture:counters'].get.responses['200']);
  t.equal(deref(fx, counters.properties['sextant-fixture:counters']).readOnly, true);

  const post = jsonSchema(host.post.requestBody);
  t.ok(Array.isArray(post.oneOf), 'POST creates one of the children');
  const members = post.oneOf.map((x: J) => x.required[0]);
  t.ok(members.includes('sextant-fixture:port') && members.includes('sextant-fixture:dpn'));
  t.notOk(members.includes('sextant-fixture:stats'), 'state cannot be created');
  const ports = post.oneOf.find((x: J) => x.required[0] === 'sextant-fixture:port').properties['sextant-fixture:port'];
  t.match(ports, { type: 'array', minItems: 1 }, 'a POST of a keyed list: one or more entries');
  t.notOk('maxItems' in ports, 'several entries are allowed (each is created)');
});

t.test('fixture: rpc input and output wrappers', async (t) => {
  const echo = fx.paths['/rests/operations/sextant-fixture:echo'];
  t.same(methods(fx, '/rests/operations/sextant-fixture:echo'), ['post']);
  t.same(echo.post.tags, ['sextant-fixture']);
  const input = jsonSchema(echo.post.requestBody);
  t.same(Object.keys(input.properties), ['sextant-fixture:input']);
  const inObj = deref(fx, input.properties['sextant-fixture:input']);
  t.same(Object.keys(inObj.properties), ['message', 'big']);
  t.match(inObj.properties.big, { type: 'string', pattern: '^[0-9]+$' });
  t.notOk(inObj.properties.message.readOnly, 'no readOnly inside operations');
  const output = jsonSchema(echo.post.responses['200']);
  t.same(Object.keys(output.properties), ['sextant-fixture:output']);
  t.same(Object.keys(deref(fx, output.properties['sextant-fixture:output']).properties), ['message', 'big']);
  t.notOk(echo.post.responses['204']);
});

t.test('shipped yang/: toaster and yang-library', async (t) => {
  t.same(methods(doc, '/rests/data/toaster:toaster'), ['delete', 'get', 'patch', 'post', 'put']);
  const toaster = deref(doc, jsonSchema(doc.paths['/rests/data/toaster:toaster'].get.responses['200']).properties['toaster:toaster']);
  t.same(toaster.properties.toasterStatus, {
    type: 'string', enum: ['up', 'down'], description: 'Whether the toaster is currently available.', readOnly: true,
  });
  t.match(toaster.properties.darknessFactor, { type: 'integer', default: 1000 });
  t.notOk(toaster.properties.darknessFactor.readOnly);
  const post = jsonSchema(doc.paths['/rests/data/toaster:toaster'].post.requestBody);
  t.same(post.required, ['toaster:darknessFactor'], 'the one config leaf is the one creatable child');

  const cancel = doc.paths['/rests/operations/toaster:cancel-toast'].post;
  t.notOk(cancel.requestBody, 'no input, no body');
  t.ok(cancel.responses['204']);
  t.notOk(cancel.responses['200']);

  const make = doc.paths['/rests/operations/toaster:make-toast'].post;
  const input = deref(doc, jsonSchema(make.requestBody).properties['toaster:input']);
  t.match(input.properties.toasterDoneness, { type: 'integer', minimum: 1, maximum: 10, default: 5 });
  t.equal(input.properties.toasterToastType.default, 'toaster:wheat-bread');
  t.ok(input.properties.toasterToastType.enum.includes('toaster:wheat-bread'));
  t.notOk(input.properties.toasterToastType.enum.includes('toaster:toast-type'), 'the base itself is not a value');
  t.equal(make.requestBody.required, false, 'no mandatory input');
  const output = deref(doc, jsonSchema(make.responses['200']).properties['toaster:output']);
  t.match(output.properties['toast-id'], { type: 'string', pattern: '^[0-9]+$' });

  const restock = doc.paths['/rests/operations/toaster:restock-toaster'].post;
  t.ok(restock.requestBody);
  t.ok(restock.responses['204'], 'input only: 204');

  t.same(methods(doc, '/rests/data/ietf-yang-library:modules-state'), ['get'], 'state only');
  t.ok(doc.paths['/rests/data/ietf-yang-library:modules-state/module={name},{revision}'], 'composite key');
  t.ok(Object.keys(doc.paths).some((p) => p.startsWith('/rests/data/ietf-yang-library:yang-library/')));
});

t.test('augments, actions, choices, keyless state lists, repeated key names, unions', async (t) => {
  const schema = compileSchema([
    {
      path: '/m/a.yang',
      text: `module a {
        yang-version 1.1; namespace "urn:t:a"; prefix a;
        container top {
          list node {
            key "name";
            leaf name { type string; }
            list node { key "name"; leaf name { type string; } }
            action reboot {
              input { leaf delay { type uint8 { range "1..10 | 20..30"; } } }
            }
            choice kind {
              case x { leaf speed { type int64 { range "0..1000"; } mandatory true; } }
              leaf addr { type union { type int32; type string { pattern '[a-z]+'; } } }
            }
            leaf flags { type bits { bit up; bit down; } }
            leaf blob { type binary; }
          }
          list history { config false; leaf at { type string; } }
        }
      }`,
    },
    {
      path: '/m/b.yang',
      text: `module b {
        yang-version 1.1; namespace "urn:t:b"; prefix b;
        import a { prefix a; }
        augment "/a:top/a:node" { container extra { leaf note { type string; } } }
      }`,
    },
  ]);
  const d = openApiDocument(schema) as J;
  t.same(structuralProblems(d), []);
  const nested = '/rests/data/a:top/node={name}/node={node-name}';
  t.same(d.paths[nested].parameters.map((p: J) => p.name), ['name', 'node-name'], 'a repeated key name is renamed');
  t.ok(d.paths['/rests/data/a:top/node={name}/b:extra'], 'augmented container: module-qualified segment');
  t.same(d.paths['/rests/data/a:top/node={name}/b:extra'].get.tags, ['a'], 'tagged with the module of the tree');
  const entry = deref(d, d.paths['/rests/data/a:top/node={name}'].get.responses['200'].content[JSON_TYPE].schema.properties['a:node'].items);
  t.ok(entry.properties['b:extra'], 'augmented member is module-qualified');
  t.same(entry.required, ['name'], 'a mandatory leaf inside a case is not always required');
  t.match(entry.properties.speed, { type: 'string', description: /Range: 0\.\.1000/ });
  t.same(entry.properties.addr.anyOf.map((x: J) => x.type), ['integer', 'string']);
  t.ok(new RegExp(entry.properties.addr.anyOf[1].pattern, 'u').test('abc') && !new RegExp(entry.properties.addr.anyOf[1].pattern, 'u').test('abc1'), 'patterns are anchored');
  t.ok(new RegExp(entry.properties.flags.pattern, 'u').test('up down') && !new RegExp(entry.properties.flags.pattern, 'u').test('left'));
  t.match(entry.properties.blob, { type: 'string', format: 'byte' });
  const reboot = d.paths['/rests/data/a:top/node={name}/reboot'];
  t.same(reboot.parameters.map((p: J) => p.name), ['name'], 'action: POST on the data resource');
  const input = deref(d, reboot.post.requestBody.content[JSON_TYPE].schema.properties['a:input']);
  t.match(input.properties.delay, { type: 'integer', minimum: 1, maximum: 30 });
  t.ok(reboot.post.responses['204']);
  t.same(methods(d, '/rests/data/a:top/history'), ['get'], 'keyless list: the whole list, GET only');
  t.notOk(Object.keys(d.paths).some((p) => p.startsWith('/rests/data/a:top/history/')));
});

t.test('structurally valid OpenAPI 3.0.3', async (t) => {
  t.same(structuralProblems(fx), [], 'fixture document');
  t.same(structuralProblems(doc), [], 'shipped yang/ document');
  const broken = structuralProblems({
    openapi: '3.0.3',
    info: { title: 'x', version: '1' },
    paths: {
      '/a/{x}': { get: { operationId: 'o', responses: { '200': { $ref: '#/components/responses/nope' } } } },
      '/b': { get: { operationId: 'o', responses: { '200': { description: 'ok' } } } },
    },
  });
  t.ok(broken.some((p) => p.includes('{x} is not declared')), 'the checker finds an undeclared path parameter');
  t.ok(broken.some((p) => p.includes('dangling $ref')), 'the checker finds a dangling ref');
  t.ok(broken.some((p) => p.includes('duplicate operationId')), 'the checker finds a duplicate operationId');
});

t.test('ajv: every schema compiles; codec output and error bodies validate', async (t) => {
  for (const [d, name] of [[fx, 'fixture'], [doc, 'shipped']] as const) {
    const compile = validatorFor(d);
    for (const c of Object.keys(d.components.schemas)) {
      t.doesNotThrow(() => compile(['components', 'schemas', c]), `${name}: ${c} compiles`);
    }
  }

  const compile = validatorFor(fx);
  const get = compile(['paths', DATA, 'get', 'responses', '200', 'content', JSON_TYPE, 'schema']);
  const text = `{
    "sextant-fixture:registry": {
      "host": [
        { "name": "a", "dpn": 18446744073709551615, "weight": 1.50, "colour": "red", "marker": [null], "tags": ["x"],
          "port": [ { "id": 1, "peer": "b" } ] },
        { "name": "b", "dpn": "42", "enabled": false, "backup": "a" }
      ],
      "link": [ { "src": "a", "dst": "b", "cost": 3 } ],
      "ordered": ["z", "a"],
      "step": [ { "n": "one" } ],
      "limits": { "low": 1, "high": 2 }
    }
  }`;
  const encoded = JSON.parse(encodeRoot(fixture, decodeObject(fixture, undefined, readJson(text), '')));
  t.ok(get(encoded), `canonical encoding validates: ${JSON.stringify(get.errors)}`);
  t.notOk(get({ 'sextant-fixture:registry': { host: [{ name: 'a', dpn: 5 }] } }), 'uint64 as a JSON number is not canonical');
  t.notOk(get({ 'sextant-fixture:registry': { host: [{ dpn: '5' }] } }), 'key is required');
  t.notOk(get({ 'sextant-fixture:registry': { host: [{ name: 'a', colour: 'sextant-fixture:blue' }] } }), 'unknown identity');
  t.notOk(get({ 'sextant-fixture:registry': { limits: {} } }), 'mandatory leaf');

  const put = compile(['paths', `${DATA}/link={src},{dst}`, 'put', 'requestBody', 'content', JSON_TYPE, 'schema']);
  t.ok(put({ 'sextant-fixture:link': [{ src: 'a', dst: 'b', cost: 1 }] }));
  t.notOk(put({ 'sextant-fixture:link': [{ src: 'a', dst: 'b' }, { src: 'b', dst: 'a' }] }), 'one entry');

  const echoIn = compile(['paths', '/rests/operations/sextant-fixture:echo', 'post', 'requestBody', 'content', JSON_TYPE, 'schema']);
  t.ok(echoIn({ 'sextant-fixture:input': { message: 'hi', big: '18446744073709551615' } }));
  t.notOk(echoIn({ 'sextant-fixture:output': {} }));

  const errors = compile(['components', 'schemas', 'errors']);
  const body = JSON.parse(errorJson(new YangError({ tag: 'data-missing', message: 'no such host', path: '/sextant-fixture:registry/host[name="x"]' })));
  t.ok(errors(body), `the server's error body validates: ${JSON.stringify(errors.errors)}`);
});
