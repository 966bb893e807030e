/**
 * The data resource's verbs, shared by the RFC 8040 and the legacy plugins: each turns a request
 * into one read or one transaction of the datastore. What differs between the two URL families
 * (path syntax, which store, status codes, Location, the top member's name) is the `DataResource`
 * a plugin passes.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChangeTimes, StoreName, Transaction } from '../../datastore/datastore.ts';
import { getAt, mergeValue } from '../../datastore/tree.ts';
import { YangError } from '../../errors.ts';
import { toJsonValue } from '../../yang/json.ts';
import { formatPath, type InstancePath } from '../../yang/path.ts';
import type { DataObject, DataValue } from '../../yang/schema.ts';
import { parseFields, selectRoot, selectValue, type Selection } from '../../yang/select.ts';
import { encodeXmlMember } from '../../yang/xml.ts';
import { readBody, unwrapBody, unwrapPost } from './body.ts';
import { entityTag } from './entity-tag.ts';
import { WITH_DEFAULTS_MODES } from './monitoring.ts';
import type { Dialect } from './errors.ts';
import { DATA_TYPE, JSON_TYPES, PATCH_TYPES, XML_TYPES, contentType, responseEncoding, type Encoding } from './negotiation.ts';
import { evaluatePreconditions, isConditional, setValidators, type ResourceState } from './preconditions.ts';
import type { RestconfContext } from './server.ts';
import { applyYangPatch } from './yang-patch.ts';

export interface DataResource {
  dialect: Dialect;
  /** The store the URL names (legacy), or undefined: RFC 8040 reads both, writes config. */
  store?: StoreName;
  /** The request's target path. */
  path(req: FastifyRequest): InstancePath;
  /** The URL of a created node (POST Location). */
  location(path: InstancePath): string;
}

/** The path part of the raw URL after a prefix, still percent-encoded (keys may hold `%2F`). */
export function rawRest(req: FastifyRequest, prefix: RegExp): string {
  const url = req.raw.url ?? '';
  const q = url.indexOf('?');
  return (q < 0 ? url : url.slice(0, q)).replace(prefix, '');
}

function badQuery(what: string): YangError {
  return new YangError({ tag: 'invalid-value', type: 'protocol', message: `invalid query parameter ${what}` });
}

/** RFC 8040 4.8 query parameters as a tree selection. */
function selectionOf(q: Record<string, string | undefined>): Selection {
  const content = q.content ?? 'all';
  if (content !== 'config' && content !== 'nonconfig' && content !== 'all') throw badQuery(`content=${content}`);
  const depth = q.depth === undefined || q.depth === 'unbounded' ? undefined : Number(q.depth);
  if (depth !== undefined && !(Number.isInteger(depth) && depth >= 1 && depth <= 65535)) throw badQuery(`depth=${q.depth}`);
  const wd = q['with-defaults'];
  // RFC 8040 4.8.9: a mode the server does not support is an error (trim and report-all-tagged
  // would need the values equal to their default dropped, or tagged, which select.ts does not do).
  if (wd !== undefined && !WITH_DEFAULTS_MODES.includes(wd)) {
    const known = ['trim', 'report-all-tagged'].includes(wd) ? ` (this server supports ${WITH_DEFAULTS_MODES.join(' and ')})` : '';
    throw badQuery(`with-defaults=${wd}${known}`);
  }
  return {
    content,
    depth,
    reportDefaults: wd === 'report-all',
    fields: q.fields === undefined ? undefined : parseFields(q.fields),
  };
}

export class DataVerbs {
  constructor(private readonly deps: RestconfContext) {}

  /**
   * Before an edit on a shared datastore (cluster mode): wait until this instance has applied
   * everything committed anywhere, so a client hopping between instances never edits (or checks
   * an If-Match against) older data than it last wrote. Immediate on a single instance.
   */
  private fresh(store: StoreName): Promise<void> {
    return this.deps.data.sync(store);
  }

  /** A transaction for an edit; a NETCONF lock on running refuses config edits (RFC 8040 1.4). */
  private writeTransaction(store: StoreName): Transaction {
    const holder = store === 'config' ? this.deps.runningLock?.() : undefined;
    if (holder !== undefined) {
      throw new YangError({ tag: 'lock-denied', type: 'protocol', message: `the running datastore is locked by NETCONF session ${holder}`, info: { 'session-id': String(holder) } });
    }
    return this.deps.data.transaction(store);
  }

  /**
   * The entity tag and change times of the resource at `path` in the stores its URL family reads
   * (RFC 8040: config and state; legacy: the store in the URL), whatever the query parameters.
   * `roots` are the trees to read: for a write, the write transaction's snapshot of its store, so
   * the check and the write see the same data.
   */
  private resourceState(r: DataResource, path: InstancePath, roots: Partial<Record<StoreName, DataObject>> = {}): ResourceState {
    const data = this.deps.data;
    const at = (store: StoreName) => (r.store === undefined || r.store === store ? (getAt(roots[store] ?? data.snapshot(store).root, path) ?? null) : undefined);
    const config = at('config');
    const operational = at('operational');
    const changed = (store: StoreName) => (r.store === undefined || r.store === store ? data.lastChanged(store, path) : { last: 0, previous: 0 });
    const exists = (config !== undefined && config !== null) || (operational !== undefined && operational !== null);
    return {
      tag: exists ? entityTag(config, operational) : undefined,
      changed: latestTwo(changed('config'), changed('operational')),
    };
  }

  /**
   * Evaluates a write's preconditions against its transaction's snapshot, then guards the path in
   * that transaction: a commit it did not see that changed the resource makes this commit fail
   * with the retryable in-use conflict (409), so the check holds up to the write (no lost update).
   * The state (operational) part of an RFC 8040 tag is read from the latest snapshot: a config
   * write cannot lose a state change.
   */
  private checkWrite(r: DataResource, req: FastifyRequest, tx: Transaction, path: InstancePath): void {
    if (!isConditional(req)) return;
    evaluatePreconditions(req, this.resourceState(r, path, { [tx.storeName]: tx.snapshotRoot }), formatPath(path));
    tx.guard(path);
  }

  get(r: DataResource, req: FastifyRequest, reply: FastifyReply): FastifyReply {
    const enc = responseEncoding(req);
    const path = r.path(req);
    const sel = selectionOf(req.query as Record<string, string | undefined>);
    // Legacy URLs name the store itself, and ODL showed all of that store's content.
    const readConfig = r.store ? r.store === 'config' : sel.content !== 'nonconfig';
    const readState = r.store ? r.store === 'operational' : sel.content !== 'config';
    if (r.store) sel.content = 'all';
    const node = path[path.length - 1]?.schema;
    const configRoot = this.deps.data.snapshot('config').root;
    const stateRoot = this.deps.data.snapshot('operational').root;
    const cfg = readConfig ? getAt(configRoot, path) : undefined;
    const op = readState ? getAt(stateRoot, path) : undefined;
    const value = cfg === undefined ? op : op === undefined ? cfg : mergeValue(node, cfg, op);
    const state = this.resourceState(r, path, { config: configRoot, operational: stateRoot });
    if (isConditional(req) && evaluatePreconditions(req, state, formatPath(path)) === 'not-modified') {
      return setValidators(reply.code(304), state).send();
    }
    if (value === undefined) {
      throw new YangError({ tag: 'data-missing', type: 'protocol', message: `no data at ${formatPath(path)}`, path: formatPath(path) });
    }
    const selected = node ? selectValue(node, value, sel) : selectRoot(this.deps.schema, value as DataObject, sel);
    setValidators(reply.code(200).type(DATA_TYPE[enc]), state);
    if (req.method === 'HEAD') return reply.send();
    return reply.send(this.encode(enc, path, selected, r.dialect));
  }

  private encode(enc: Encoding, path: InstancePath, value: DataValue, dialect: Dialect): string {
    const schema = this.deps.schema;
    const last = path[path.length - 1];
    if (!last) {
      // The datastore root: every top-level node.
      if (enc === 'xml') {
        let inner = '';
        for (const [m, v] of Object.entries(value as DataObject)) {
          const n = schema.roots.get(m);
          if (n) inner += encodeXmlMember(schema, n, v, undefined);
        }
        return `<data xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf">${inner}</data>`;
      }
      const out: Record<string, unknown> = {};
      for (const [m, v] of Object.entries(value as DataObject)) out[m] = toJsonValue(schema.roots.get(m), v);
      return JSON.stringify({ 'ietf-restconf:data': out });
    }
    const node = last.schema;
    // A list entry is one element; a whole list is its entries, one element each.
    if (enc === 'xml') return encodeXmlMember(schema, node, value, undefined);
    // RFC 8040 qualifies the top member; ODL's legacy endpoints answered with the bare name
    // (`{"node": [...]}`), which their suites compare against.
    const name = dialect === 'legacy' ? node.name : `${node.module}:${node.name}`;
    let json = toJsonValue(node, value);
    if ((node.kind === 'list' || node.kind === 'leaf-list') && last.key !== undefined) json = [json];
    return JSON.stringify({ [name]: json });
  }

  async put(r: DataResource, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const store = r.store ?? 'config';
    const path = r.path(req);
    if (!path.length) throw new YangError({ tag: 'operation-not-supported', message: 'replacing the whole datastore is not supported' });
    const { value } = unwrapBody(this.deps.schema, readBody(req), path.slice(0, -1), path[path.length - 1], store === 'config');
    await this.fresh(store);
    const tx = this.writeTransaction(store);
    const existed = tx.exists(path);
    tx.putDecoded(path, value);
    this.checkWrite(r, req, tx, path);
    await tx.commit();
    // RFC 8040: 201 created, 204 replaced. ODL legacy: 201 created, 200 replaced.
    return reply.code(existed ? (r.dialect === 'legacy' ? 200 : 204) : 201).send();
  }

  async patch(r: DataResource, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const path = r.path(req);
    const ct = contentType(req);
    await this.fresh('config');
    if (PATCH_TYPES.includes(ct)) {
      const { status, body } = await applyYangPatch(this.deps.schema, readBody(req), path, () => this.writeTransaction('config'), {
        dataMissingIs404: this.deps.dataMissingIs404,
        beforeCommit: (tx) => this.checkWrite(r, req, tx, path),
      });
      return reply.code(status).type('application/yang-data+json').send(JSON.stringify(body));
    }
    if (!path.length) throw new YangError({ tag: 'operation-not-supported', message: 'a plain PATCH needs a target node' });
    const { value } = unwrapBody(this.deps.schema, readBody(req), path.slice(0, -1), path[path.length - 1], true);
    const tx = this.writeTransaction('config');
    if (!tx.exists(path)) {
      throw new YangError({ tag: 'data-missing', type: 'protocol', message: `no data at ${formatPath(path)} to merge into`, path: formatPath(path) });
    }
    tx.mergeDecoded(path, value);
    this.checkWrite(r, req, tx, path);
    await tx.commit();
    return reply.code(200).send();
  }

  /**
   * Creates what the body holds under the request's path: one child, or several entries of one
   * list, all in one transaction; any of them already there refuses the whole POST (409
   * data-exists, nothing written). Location is the first created node's URL, as OpenDaylight
   * answers a POST of several entries.
   */
  async post(r: DataResource, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const store = r.store ?? 'config';
    const parent = r.path(req);
    const created = unwrapPost(this.deps.schema, readBody(req), parent, store === 'config');
    await this.fresh(store);
    const tx = this.writeTransaction(store);
    for (const { path, value } of created) {
      if (tx.exists(path)) {
        const text = formatPath(path);
        throw new YangError({ tag: 'data-exists', type: 'protocol', message: `${text} already exists`, path: text });
      }
      tx.putDecoded(path, value);
    }
    // The target resource of a POST is the parent it creates in.
    this.checkWrite(r, req, tx, parent);
    await tx.commit();
    return reply.code(r.dialect === 'legacy' ? 204 : 201).header('Location', r.location(created[0].path)).send();
  }

  async delete(r: DataResource, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const path = r.path(req);
    if (!path.length) throw new YangError({ tag: 'operation-not-supported', message: 'deleting the whole datastore is not supported' });
    await this.fresh(r.store ?? 'config');
    const tx = this.writeTransaction(r.store ?? 'config');
    tx.delete(path);
    this.checkWrite(r, req, tx, path);
    await tx.commit();
    return reply.code(r.dialect === 'legacy' ? 200 : 204).send();
  }

  options(r: DataResource, req: FastifyRequest, reply: FastifyReply): FastifyReply {
    const path = r.path(req);
    const node = path[path.length - 1]?.schema;
    const writable = !node || node.config;
    return reply
      .code(200)
      .header('Allow', writable ? 'DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT' : 'GET, HEAD, OPTIONS')
      .header('Accept-Patch', [JSON_TYPES[0], XML_TYPES[0], ...PATCH_TYPES].join(', '))
      .send();
  }
}

/** The two latest of two stores' change times (RFC 8040 resources show config and state). */
function latestTwo(a: ChangeTimes, b: ChangeTimes): ChangeTimes {
  const [first, second] = a.last >= b.last ? [a, b] : [b, a];
  return { last: first.last, previous: Math.max(first.previous, second.last) };
}
