/**
 * OpenDaylight's Neutron northbound (`/controller/nb/v2/neutron`), what networking-odl's ML2 and L3
 * drivers call, for networks, subnets, ports, routers, security-groups, security-group-rules and
 * floatingips: `POST /<collection>` (`{"<singular>": {...}}`, or `{"<plural>": [...]}`, all or
 * none) 201 with the entry as stored; `GET /<collection>` and `GET /<collection>/<id>` 200, read
 * from the datastore each time; `PUT /<collection>/<id>` 200 (the body replaces the entry, as
 * OpenDaylight's does, keeping the project and what Neutron never changes: resources.ts);
 * `DELETE /<collection>/<id>` 204; `PUT /routers/<id>/add_router_interface`
 * and `remove_router_interface` 200 with the body echoed, as OpenDaylight answers them.
 *
 * Statuses as OpenDaylight's northbound gives them: 404 for an id it does not hold, 409 for a
 * create of an id it holds, 442 (its "dependency missing") for an entry naming a network or subnet
 * it does not hold, 400 for a body it cannot use. networking-odl's journal takes any 2xx as done
 * and retries anything else, so nothing is ever half-written: each request is one transaction.
 * Error bodies are Neutron's `{"NeutronError": {"type", "message", "detail"}}` (OpenDaylight
 * answers the same statuses with a text/plain message; networking-odl only logs the body).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { retryOnConflict, type Transaction } from '../../src/datastore/datastore.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import { classifyApiError, errorDialect, WEBOB_TYPE } from '../../src/plugin/api-errors.ts';
import type { PluginHttp } from '../../src/plugin/http.ts';
import { resolveDataPath } from '../../src/yang/binding.ts';
import { BY_NAME, fromEntry, InvalidInput, isObject, isUuid, PORT, RESOURCES, ROUTER, ROUTER_INTERFACE, SUBNET, toEntry, toUuid, type Json, type Resource } from './resources.ts';

/** Where OpenDaylight serves it (networking-odl's `[ml2_odl] url` ends with it). */
export const NEUTRON_PREFIX = '/controller/nb/v2/neutron';

/** OpenDaylight's status for an entry naming one that does not exist (NEUTRON-158). */
export const DEPENDENCY_MISSING = 442;

/** An error in Neutron's terms, with its HTTP status. */
export class NeutronError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const notFound = (r: Resource, id: string) => new NeutronError(404, `${r.label}NotFound`, `${r.label} ${id} could not be found.`);
const words = (r: Resource) => r.singular.replace(/_/g, ' ');

/** The one mapping of what a request may raise to Neutron's status, type and message. */
export function neutronErrorOf(err: unknown): NeutronError {
  if (err instanceof NeutronError) return err;
  if (err instanceof InvalidInput) return new NeutronError(400, 'HTTPBadRequest', err.message);
  const c = classifyApiError(err);
  if (c.kind === 'unauthorized') return new NeutronError(401, 'HTTPUnauthorized', 'The request you have made requires authentication.');
  return new NeutronError(c.status, WEBOB_TYPE[c.status] ?? (c.status < 500 ? 'HTTPClientError' : 'HTTPInternalServerError'), c.message);
}

// ----- Reading a request ------------------------------------------------------------------

function parseBody(raw: unknown): Json {
  if (typeof raw !== 'string' || raw.trim() === '') throw new NeutronError(400, 'HTTPBadRequest', 'The request needs a JSON body.');
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (e) {
    throw new NeutronError(400, 'HTTPBadRequest', `The body is not JSON: ${(e as Error).message}`);
  }
  if (!isObject(body)) throw new NeutronError(400, 'HTTPBadRequest', 'The body must be a JSON object.');
  return body;
}

/** The entries a POST creates: `{"network": {...}}` or, in bulk, `{"networks": [...]}`. */
function entriesToCreate(r: Resource, body: Json): { items: Json[]; bulk: boolean } {
  const one = body[r.singular];
  const bulk = body[r.plural];
  if (isObject(one)) return { items: [one], bulk: false };
  if (Array.isArray(bulk) && bulk.length && bulk.every(isObject)) return { items: bulk as Json[], bulk: true };
  throw new NeutronError(400, 'HTTPBadRequest', `The body must hold a "${r.singular}" object or a non-empty "${r.plural}" list of objects.`);
}

function entryToUpdate(r: Resource, body: Json): Json {
  const one = body[r.singular];
  if (!isObject(one)) throw new NeutronError(400, 'HTTPBadRequest', `The body must hold a "${r.singular}" object (only one entry is updated at a time).`);
  return one;
}

type Query = Record<string, string | string[] | undefined>;
const values = (q: string | string[] | undefined): string[] => (q === undefined ? [] : [q].flat());

/** Neutron's list filters: `?name=a&name=b` (either), on scalar attributes; paging and sorting parameters are not filters. */
const NOT_FILTERS = new Set(['fields', 'limit', 'marker', 'page_reverse', 'sort_key', 'sort_dir']);
function matches(item: Json, query: Query): boolean {
  return Object.entries(query).every(([key, q]) => {
    const wanted = values(q);
    if (NOT_FILTERS.has(key) || !wanted.length) return true;
    const have = item[key];
    if (have === undefined || have === null) return false;
    // Filters on lists and objects (fixed_ips=ip_address=...) are not offered: not a filter.
    if (typeof have === 'object') return true;
    return wanted.some((w) => w.toLowerCase() === String(have).toLowerCase());
  });
}

/** `?fields=id&fields=name`: only those attributes. */
function selectFields(item: Json, query: Query): Json {
  const fields = values(query.fields).flatMap((f) => f.split(','));
  if (!fields.length) return item;
  return Object.fromEntries(Object.entries(item).filter(([k]) => fields.includes(k)));
}

// ----- The API ----------------------------------------------------------------------------

export function registerNeutronApi(ctx: PluginContext, http: PluginHttp): void {
  const instance = (r: Resource, id: string) => resolveDataPath(ctx.schema, r.entry(id));
  const read = (r: Resource, id: string): Json | undefined => ctx.data.read('config', r.entry(id)) as Json | undefined;

  /**
   * Refuses an entry naming another (a network, subnet, port, router or security group) that is
   * not there; the guard makes a commit that deletes it meanwhile conflict with this one.
   */
  const checkReferences = (tx: Transaction, r: Resource, entry: Json) => {
    for (const ref of r.references(entry)) {
      const target = BY_NAME[ref.resource];
      if (!tx.exists(target.entry(ref.id))) {
        throw new NeutronError(DEPENDENCY_MISSING, `${target.label}NotFound`, `${target.label} ${ref.id} could not be found (named by ${ref.attribute} of ${words(r)} ${entry.uuid}).`);
      }
      tx.guard(instance(target, ref.id));
    }
  };

  /** Runs `fn` in one config transaction, retried when it loses a conflict; cancelled if it throws. */
  const inTransaction = (fn: (tx: Transaction) => boolean | void) =>
    retryOnConflict(async () => {
      const tx = ctx.data.transaction('config');
      let write: boolean | void;
      try {
        write = fn(tx);
      } catch (e) {
        tx.cancel();
        throw e;
      }
      if (write === false) tx.cancel();
      else await tx.commit();
    });

  const list = (r: Resource) => async (req: FastifyRequest<{ Querystring: Query }>) => {
    const entries = (ctx.data.read('config', r.list()) as Json[] | undefined) ?? [];
    return { [r.plural]: entries.map((e) => fromEntry(r, e)).filter((e) => matches(e, req.query)).map((e) => selectFields(e, req.query)) };
  };

  const show = (r: Resource) => async (req: FastifyRequest<{ Params: { id: string }; Querystring: Query }>) => {
    const id = req.params.id;
    const entry = isUuid(id) ? read(r, id) : undefined;
    if (!entry) throw notFound(r, id);
    return { [r.singular]: selectFields(fromEntry(r, entry), req.query) };
  };

  const create = (r: Resource) => async (req: FastifyRequest, reply: FastifyReply) => {
    const { items, bulk } = entriesToCreate(r, parseBody(req.body));
    const entries = items.map((item) => {
      if (item.id === undefined || item.id === null) throw new InvalidInput('id', `id is required: the ${r.singular}'s id is Neutron's`);
      const id = toUuid(item.id, 'id');
      return toEntry(r, item, id);
    });
    await inTransaction((tx) => {
      for (const entry of entries) {
        const id = entry.uuid as string;
        if (tx.exists(r.entry(id))) throw new NeutronError(409, `${r.label}Exists`, `${r.label} ${id} already exists.`);
        checkReferences(tx, r, entry);
        tx.put(r.entry(id), entry);
      }
    });
    const stored = entries.map((e) => fromEntry(r, read(r, e.uuid as string) ?? e));
    return reply.code(201).send(bulk ? { [r.plural]: stored } : { [r.singular]: stored[0] });
  };

  const update = (r: Resource) => async (req: FastifyRequest<{ Params: { id: string } }>) => {
    const id = req.params.id;
    const item = entryToUpdate(r, parseBody(req.body));
    await inTransaction((tx) => {
      const current = isUuid(id) ? (tx.read(r.entry(id)) as Json | undefined) : undefined;
      if (!current) throw notFound(r, id);
      const entry = toEntry(r, item, id, current);
      checkReferences(tx, r, entry);
      tx.put(r.entry(id), entry);
    });
    return { [r.singular]: fromEntry(r, read(r, id) ?? {}) };
  };

  const remove = (r: Resource) => async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const id = req.params.id;
    await inTransaction((tx) => {
      if (!isUuid(id) || !tx.exists(r.entry(id))) throw notFound(r, id);
      tx.delete(r.entry(id));
    });
    return reply.code(204).send();
  };

  /**
   * The router's leg on a subnet is a port (device_owner network:router_interface, device_id the
   * router), which Neutron creates and networking-odl sends as a port: that is what the elections
   * read. Older networking-odl also sent this call (bare `{"subnet_id", "port_id", "id",
   * "tenant_id"}`), which OpenDaylight echoes and ignores; here a named port that no device holds
   * is made the router's interface (one another device holds is 409 PortInUse), and on removal an
   * interface port is freed again, as Neutron does with a port it keeps. Removal is idempotent:
   * networking-odl may send it after the port is gone.
   */
  const routerInterface = (adding: boolean) => async (req: FastifyRequest<{ Params: { id: string } }>) => {
    const routerId = req.params.id;
    const body = parseBody(req.body);
    const portId = body.port_id === undefined || body.port_id === null ? undefined : toUuid(body.port_id, 'port_id');
    const subnetId = body.subnet_id === undefined || body.subnet_id === null ? undefined : toUuid(body.subnet_id, 'subnet_id');
    if (!portId && !subnetId) throw new InvalidInput('router interface', 'either subnet_id or port_id is required');
    await inTransaction((tx) => {
      if (!adding) {
        const port = portId ? (tx.read(PORT.entry(portId)) as Json | undefined) : undefined;
        if (!port || port['device-id'] !== routerId || port['device-owner'] !== ROUTER_INTERFACE) return false;
        const { 'device-id': _id, 'device-owner': _owner, ...freed } = port;
        tx.put(PORT.entry(portId!), freed);
        return true;
      }
      if (!isUuid(routerId) || !tx.exists(ROUTER.entry(routerId))) throw notFound(ROUTER, routerId);
      tx.guard(instance(ROUTER, routerId));
      if (subnetId && !tx.exists(SUBNET.entry(subnetId))) throw notFound(SUBNET, subnetId);
      if (!portId) return false;
      const port = tx.read(PORT.entry(portId)) as Json | undefined;
      if (!port) throw notFound(PORT, portId);
      const device = port['device-id'];
      // Already the router's (its interface, or its gateway as OpenDaylight's own tests send it).
      if (device === routerId) return false;
      if (device !== undefined && device !== '') {
        throw new NeutronError(409, 'PortInUse', `Port ${portId} is in use by ${port['device-owner'] || 'device'} ${device}.`);
      }
      tx.put(PORT.entry(portId), { ...port, 'device-owner': ROUTER_INTERFACE, 'device-id': routerId });
      return true;
    });
    return body;
  };

  http.register(
    async (app: FastifyInstance) => {
      // networking-odl's body-less DELETE with `Content-Type: application/json` is no error.
      const answer = (e: NeutronError) => ({ status: e.status, type: 'application/json', body: { NeutronError: { type: e.type, message: e.message, detail: '' } } });
      errorDialect(ctx, app, 'neutron northbound', {
        error: (err) => answer(neutronErrorOf(err)),
        notFound: (req) => answer(new NeutronError(404, 'HTTPNotFound', `The resource could not be found: ${req.method} ${req.url}`)),
      });
      for (const r of RESOURCES) {
        app.get(`/${r.collection}`, list(r));
        app.post(`/${r.collection}`, create(r));
        app.get(`/${r.collection}/:id`, show(r));
        app.put(`/${r.collection}/:id`, update(r));
        app.delete(`/${r.collection}/:id`, remove(r));
      }
      app.put('/routers/:id/add_router_interface', routerInterface(true));
      app.put('/routers/:id/remove_router_interface', routerInterface(false));
    },
    { prefix: NEUTRON_PREFIX },
  );
}
