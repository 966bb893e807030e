/**
 * Senlin's v1 API (what python-senlinclient's `openstack cluster ...` calls, over openstacksdk)
 * on the `clustering` listener, over this plugin's model: profiles, policies, clusters and
 * receivers are the config entries RESTCONF sees, nodes and actions the engine's operational
 * ones. Writes are config transactions, so the model decides what is valid; requests for actions
 * go through requests.ts, the rules the rpcs use. Senlin's envelopes (`{"cluster": {...}}`,
 * `{"clusters": [...]}`), status codes (201 for profiles, policies and receivers; 202 with a
 * Location of the action for what an action does) and error body come from here, the errors
 * from one mapper (senlinErrorOf).
 *
 * What openstacksdk needs besides (see /work/shared/OPENSTACK-CLIENTS.md): version documents
 * at `/` and `/v1` without credentials; names, ids and short-id prefixes wherever an id goes;
 * numbers as JSON strings ("3"); `marker`/`limit` paging that ends with an empty page.
 * Webhooks (`/v1/webhooks/{receiver}/trigger?V=2`) are public too: the receiver id is the
 * capability.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { retryOnConflict } from '../../src/datastore/datastore.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import { classifyApiError, errorDialect, WEBOB_TYPE } from '../../src/plugin/api-errors.ts';
import type { PluginHttp } from '../../src/plugin/http.ts';
import { neutron } from '../../src/bindings/neutron.ts';
import type { Receiver } from '../../src/bindings/sextant-clustering.ts';
import { createAction, nodesOf } from './engine.ts';
import { receiverId } from './ingest.ts';
import { CLUSTERING, clusterPath, clusterState, policyPath, profilePath, STATE, type Action, type ClusteringCluster, type ClusteringPolicy, type Node, type Profile } from './model.ts';
import {
  CAUSE_RPC,
  CONFLICT_APP_TAG,
  COOLDOWN_APP_TAG,
  newClusterSizeError,
  recordDoneAction,
  requestRecover,
  requestResize,
  requestScale,
  watchEngineAction,
} from './requests.ts';
import { pyStr, resolveDeletionPolicySpec, resolveScalingPolicySpec, SCALE_EVENTS, type ResizeRequest, type ScaleEvent } from './senlin.ts';

/** Senlin 1.0 up to the microversion senlinclient 2.5 asks for (it hard-codes 1.14). */
const MIN_VERSION = '1.0';
const MAX_VERSION = '1.14';
/** No Keystone: the project, user and domain every object shows. */
const PROJECT = 'sextant';
/** How long a create or delete waits for the engine to queue its action (the Location names it). */
const ENGINE_ACTION_WAIT_MS = 10_000;

// ----- Errors -----------------------------------------------------------------------------

/** An error in Senlin's terms: its exception class name (`type`) and message, with the status. */
export class SenlinError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const badRequest = (message: string) => new SenlinError(400, 'BadRequest', message);
const notFound = (type: string, id: string) => new SenlinError(404, 'ResourceNotFound', `The ${type} '${id}' could not be found.`);
/** Senlin's ResourceNotFound raised for a reference in the body is a 400 ("The specified profile 'x' ..."). */
const badReference = (type: string, id: string, how = 'specified') => badRequest(`The ${how} ${type} '${id}' could not be found.`);
const inUse = (type: string, id: string, reason: string) => new SenlinError(409, 'ResourceInUse', `The ${type} '${id}' cannot be deleted: ${reason}.`);

/** webob's title and explanation per status, as Senlin's FaultWrapper puts them in the body. */
const HTTP_TEXT: Record<number, [string, string]> = {
  400: ['Bad Request', 'The server could not comply with the request since it is either malformed or otherwise incorrect.'],
  401: ['Unauthorized', 'This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required.'],
  403: ['Forbidden', 'Access was denied to this resource.'],
  404: ['Not Found', 'The resource could not be found.'],
  405: ['Method Not Allowed', 'The method is not allowed for this resource.'],
  406: ['Not Acceptable', 'The server could not comply with the request since it is either malformed or otherwise incorrect.'],
  409: ['Conflict', 'There was a conflict when trying to complete your request.'],
  413: ['Request Entity Too Large', 'The body of your request was too large for this server.'],
  415: ['Unsupported Media Type', 'The request media type is not supported by this server.'],
  500: ['Internal Server Error', 'The server has either erred or is incapable of performing the requested operation.'],
  503: ['Service Unavailable', 'The server is currently unavailable. Please try again at a later time.'],
};

/** The one mapping of what a request may raise to Senlin's status, type and message. */
export function senlinErrorOf(err: unknown): SenlinError {
  if (err instanceof SenlinError) return err;
  const c = classifyApiError(err);
  if (c.kind === 'unauthorized') return new SenlinError(401, 'HTTPUnauthorized', 'The request you have made requires authentication: send X-Auth-Token or Basic credentials.');
  // fastify's own (a body over the limit, a bad content length...): its status, webob's name.
  if (c.kind === 'http') return new SenlinError(c.status, WEBOB_TYPE[c.status] ?? 'HTTPClientError', c.message);
  // The model's verdict (or anything unexpected, as operation-failed), in Senlin's names.
  const e = c.error;
  if (e.appTag === CONFLICT_APP_TAG) return new SenlinError(409, 'ActionConflict', e.message);
  if (e.appTag === COOLDOWN_APP_TAG) return new SenlinError(409, 'ActionCooldown', e.message);
  // Senlin with name_unique refuses a taken name as a BadRequest.
  if (e.appTag === 'data-not-unique' || c.status === 400) return badRequest(e.message);
  const TYPE = { 403: 'Forbidden', 409: 'ResourceInUse', 413: WEBOB_TYPE[413], 500: 'InternalError', 503: 'HTTPServiceUnavailable' } as const;
  return new SenlinError(c.status, TYPE[c.status], e.message);
}

/** Senlin's FaultWrapper body. */
function faultBody(e: SenlinError) {
  const [title, explanation] = HTTP_TEXT[e.status] ?? (e.status >= 500 ? HTTP_TEXT[500] : HTTP_TEXT[400]);
  return { code: e.status, error: { code: e.status, message: e.message, type: e.type }, explanation, title };
}

// ----- Reading requests -------------------------------------------------------------------

type Json = Record<string, unknown>;
type Query = Record<string, string | string[] | undefined>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSet = (v: unknown) => v !== undefined && v !== null;

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`The request body is not valid JSON: ${(e as Error).message}.`);
  }
}

/** `{"<key>": {...}}`, as Senlin's parse_request wants it. */
function envelope(text: unknown, key: string): Json {
  const body = parseJson(text);
  if (!isObject(body) || !isObject(body[key])) throw badRequest(`Malformed request data, missing '${key}' key in request body.`);
  return body[key];
}

function requiredName(obj: Json): string {
  const name = obj.name;
  if (typeof name !== 'string' || name === '') throw badRequest("'name' is a required property");
  return name;
}

/** int(text) as Python reads a string; undefined where it raises. */
function pyInt(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'string' && /^\s*[+-]?\d+(_\d+)*\s*$/.test(v)) return Number(v.trim().replace(/_/g, ''));
  return undefined;
}

/** Senlin's Capacity field (objects/fields.py): int() of a number or a string, then its range. */
function capacity(attr: string, v: unknown, minimum: number): number | undefined {
  if (!isSet(v)) return undefined;
  const n = pyInt(v);
  if (n === undefined) throw badRequest(`The value for ${attr} must be an integer: '${pyStr(v)}'.`);
  if (n < minimum) throw badRequest(`The value for the ${attr} field must be greater than or equal to ${minimum}.`);
  return n;
}

/** Senlin's NonNegativeInteger field. */
function nonNegative(attr: string, v: unknown): number | undefined {
  if (!isSet(v)) return undefined;
  const n = pyInt(v);
  if (n === undefined) throw badRequest(`The value for ${attr} must be an integer: '${pyStr(v)}'.`);
  if (n < 0) throw badRequest(`Value must be >= 0 for field '${attr}'.`);
  return n;
}

/** A JSON number, or a string the client meant as one; other strings are refused, not NaN. */
function numeric(attr: string, v: unknown): number | null {
  if (!isSet(v)) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(v)) return Number(v);
  throw badRequest(`The value for ${attr} must be a number: '${pyStr(v)}'.`);
}

const TRUE = ['1', 't', 'true', 'on', 'y', 'yes'];
const FALSE = ['0', 'f', 'false', 'off', 'n', 'no'];

/** oslo's bool_from_string(strict=True), as Senlin's FlexibleBoolean fields read a flag. */
function flag(attr: string, v: unknown): boolean | undefined {
  if (!isSet(v)) return undefined;
  if (typeof v === 'boolean') return v;
  const s = String(v).trim().toLowerCase();
  if (TRUE.includes(s)) return true;
  if (FALSE.includes(s)) return false;
  throw badRequest(`Unrecognized value '${pyStr(v)}' for '${attr}', acceptable values are: '${[...FALSE, ...TRUE].sort().join("', '")}'`);
}

const metadataOf = (v: unknown): string | undefined => {
  if (!isSet(v)) return undefined;
  if (!isObject(v)) throw badRequest("The value for metadata must be a map.");
  return JSON.stringify(v);
};
const jsonOr = <T>(text: string | undefined, fallback: T): T => (text ? (JSON.parse(text) as T) : fallback);

// ----- Finding things ---------------------------------------------------------------------

/**
 * The one resolver: an exact id, else a name, else a unique prefix of an id (Senlin's find:
 * get, get_by_name, get_by_short_id). A name or prefix matching several is Senlin's
 * MultipleChoices (400); nothing is its ResourceNotFound (404, or the caller's 400).
 */
function resolve<T extends { id: string; name?: string }>(items: T[], identity: string): T | undefined {
  const byId = items.find((i) => i.id === identity);
  if (byId) return byId;
  const named = items.filter((i) => i.name === identity);
  const byPrefix = named.length ? named : items.filter((i) => i.id.startsWith(identity));
  if (byPrefix.length > 1) throw badRequest(`Multiple results found matching the query criteria '${identity}'. Please be more specific`);
  return byPrefix[0];
}

interface NodeEntry extends Node {
  cluster: string;
}

// ----- Lists: filters, sort, marker and limit ---------------------------------------------

const PAGING = ['limit', 'marker', 'sort', 'global_project'];

/**
 * A list as Senlin answers it: only the parameters it whitelists (else 400), filters on the
 * shown attributes (several values of one: any), `sort=key[:asc|desc],...`, then the page after
 * `marker` (an id of the previous page) of at most `limit` entries, so a client paging by the
 * last id ends with an empty page.
 */
function page<T extends Json>(items: T[], query: Query, filters: Record<string, string>, defaultSort = ['created_at', 'id']): T[] {
  for (const key of Object.keys(query)) if (!PAGING.includes(key) && !(key in filters)) throw badRequest(`Invalid parameter '${key}'`);
  const one = (key: string) => {
    const v = query[key];
    return Array.isArray(v) ? v[v.length - 1] : v;
  };
  const global = one('global_project');
  if (global !== undefined) flag('global_project', global);
  let out = items.filter((item) =>
    Object.entries(filters).every(([param, field]) => {
      const wanted = query[param];
      if (wanted === undefined) return true;
      return [wanted].flat().some((w) => String(item[field]) === w);
    }),
  );
  const sort = one('sort');
  const keys = (sort ? sort.split(',') : defaultSort).map((s) => {
    const [key, dir = 'asc'] = s.trim().split(':');
    if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Unsupported sort dir '${dir}' for '${key}'.`);
    return { key, sign: dir === 'asc' ? 1 : -1 };
  });
  out = [...out].sort((a, b) => {
    for (const { key, sign } of [...keys, { key: 'id', sign: 1 }]) {
      const x = a[key] ?? '';
      const y = b[key] ?? '';
      if (x < y) return -sign;
      if (x > y) return sign;
    }
    return 0;
  });
  const marker = one('marker');
  if (marker !== undefined) {
    const at = out.findIndex((i) => i.id === marker);
    if (at < 0) throw badRequest(`The marker '${marker}' could not be found.`);
    out = out.slice(at + 1);
  }
  const limit = one('limit');
  if (limit !== undefined) out = out.slice(0, nonNegative('limit', limit));
  return out;
}

// ----- The API ----------------------------------------------------------------------------

type Req = FastifyRequest<{ Params: { id: string; policy?: string }; Querystring: Query }>;

export function registerSenlinApi(ctx: PluginContext, http: PluginHttp): void {
  const maxNodes = ctx.options['max-nodes-per-cluster'] as number;
  const base = (req: FastifyRequest) => `${req.protocol}://${req.headers.host ?? req.host}`;
  const locate = (req: FastifyRequest, reply: FastifyReply, action: string) => reply.header('location', `${base(req)}/v1/actions/${action}`);

  // What the datastore holds.
  const profiles = () => ctx.data.read('config', CLUSTERING.profile()) ?? [];
  const policies = () => ctx.data.read('config', CLUSTERING.policy()) ?? [];
  const clusters = () => ctx.data.read('config', CLUSTERING.cluster()) ?? [];
  const receivers = () => ctx.data.read('config', CLUSTERING.receiver()) ?? [];
  const actions = () => ctx.data.read('operational', STATE.action()) ?? [];
  const nodes = (): NodeEntry[] => (ctx.data.read('operational', STATE.cluster()) ?? []).flatMap((s) => (s.node ?? []).map((n) => ({ ...n, cluster: s.id })));

  const find = <T extends { id: string; name?: string }>(type: string, items: T[], identity: string, missing?: (type: string, id: string) => SenlinError): T => {
    const hit = resolve(items, identity);
    if (!hit) throw (missing ?? notFound)(type, identity);
    return hit;
  };
  const findCluster = (identity: string, missing?: (type: string, id: string) => SenlinError) => find('cluster', clusters(), identity, missing);

  // ----- How each object is shown -----

  const owner = { user: PROJECT, project: PROJECT, domain: null };

  const profileType = (spec: Json) => `${spec.type}-${typeof spec.version === 'number' && Number.isInteger(spec.version) ? spec.version.toFixed(1) : spec.version}`;

  const renderProfile = (p: Profile) => ({
    id: p.id,
    name: p.name,
    type: p.type,
    spec: jsonOr(p.spec, { type: p.type?.replace(/-[\d.]+$/, ''), version: '1.0', properties: { networks: [{ network: p.network }], flavor: p.flavor, image: p.image } }),
    metadata: jsonOr(p.metadata, {}),
    ...owner,
    created_at: null,
    updated_at: null,
  });

  const policyTypeOf = (p: ClusteringPolicy) => {
    const spec = jsonOr<Json>(p.spec, {});
    if (typeof spec.type === 'string' && spec.version !== undefined) return profileType(spec);
    return p.scaling ? 'senlin.policy.scaling-1.0' : 'senlin.policy.deletion-1.1';
  };

  const renderPolicy = (p: ClusteringPolicy) => ({ id: p.id, name: p.name, type: policyTypeOf(p), spec: jsonOr(p.spec, {}), data: {}, ...owner, created_at: null, updated_at: null });

  const renderCluster = (c: ClusteringCluster) => {
    const s = ctx.data.read('operational', clusterState(c.id));
    const profile = ctx.data.read('config', profilePath(c.profile!));
    return {
      id: c.id,
      name: c.name,
      profile_id: c.profile,
      profile_name: profile?.name ?? null,
      min_size: c['min-size'] ?? 0,
      max_size: c['max-size'] ?? -1,
      desired_capacity: c['desired-capacity'] ?? c['min-size'] ?? 0,
      timeout: c.timeout ?? null,
      status: s?.status ?? 'INIT',
      status_reason: s?.['status-reason'] ?? 'Initializing',
      metadata: jsonOr(c.metadata, {}),
      data: {},
      dependents: {},
      config: {},
      nodes: (s?.node ?? []).map((n) => n.id),
      policies: (c.policy ?? []).map((b) => b.policy),
      ...owner,
      init_at: s?.['created-at'] ?? null,
      created_at: s?.['created-at'] ?? null,
      updated_at: s?.['updated-at'] ?? null,
    };
  };

  const renderNode = (n: NodeEntry) => {
    const cluster = ctx.data.read('config', clusterPath(n.cluster));
    const profile = cluster?.profile ? ctx.data.read('config', profilePath(cluster.profile)) : undefined;
    return {
      id: n.id,
      name: n.name,
      cluster_id: n.cluster,
      physical_id: n.port ?? null,
      profile_id: cluster?.profile ?? null,
      profile_name: profile?.name ?? null,
      index: n.index ?? -1,
      role: null,
      status: n.status ?? 'INIT',
      status_reason: n['status-reason'] ?? null,
      tainted: n.tainted ?? false,
      data: { compute: n.compute ?? null },
      metadata: {},
      dependents: {},
      ...owner,
      init_at: n['created-at'] ?? null,
      created_at: n['created-at'] ?? null,
      updated_at: null,
    };
  };

  /** Senlin keeps start and end times as epoch seconds (floats). */
  const epoch = (iso: string | undefined) => (iso ? Date.parse(iso) / 1000 : null);

  const renderAction = (a: Action) => ({
    id: a.id,
    name: a.name,
    cluster_id: a.target ?? '',
    target: a.target,
    action: a.action,
    cause: a.cause,
    owner: a.owner ?? null,
    interval: -1,
    start_time: epoch(a['start-time']),
    end_time: epoch(a['end-time']),
    timeout: (a.target ? ctx.data.read('config', clusterPath(a.target))?.timeout : undefined) ?? null,
    status: a.status,
    status_reason: a['status-reason'] ?? null,
    inputs: jsonOr(a.inputs, {}),
    outputs: jsonOr(a.outputs, {}),
    depends_on: [],
    depended_by: [],
    data: {},
    created_at: a['created-at'] ?? null,
    updated_at: a['end-time'] ?? a['start-time'] ?? null,
    user: PROJECT,
    project: PROJECT,
  });

  /**
   * The model keeps no events: each action is told as one event, the latest news of it (its end,
   * else its start, else its creation), with the event's id being the action's.
   */
  const renderEvent = (a: Action) => {
    const cluster = a.target ? ctx.data.read('config', clusterPath(a.target)) : undefined;
    return {
      id: a.id,
      timestamp: a['end-time'] ?? a['start-time'] ?? a['created-at'] ?? null,
      oid: a.target ?? null,
      oname: cluster?.name ?? '',
      otype: 'CLUSTER',
      cluster_id: a.target ?? null,
      level: a.status === 'FAILED' ? 'ERROR' : 'INFO',
      action: a.action,
      status: a.status,
      status_reason: a['status-reason'] ?? '',
      meta_data: {},
      user: PROJECT,
      project: PROJECT,
    };
  };

  const paramsOf = (r: Receiver) => Object.fromEntries((r.param ?? []).map((p) => [p.name, p.value]));
  const alarmUrl = (req: FastifyRequest, r: Receiver) => {
    const query = Object.entries(paramsOf(r)).sort(([a], [b]) => (a < b ? -1 : 1));
    return `${base(req)}/v1/webhooks/${r.id}/trigger?V=2${query.map(([k, v]) => `&${encodeURIComponent(k)}=${encodeURIComponent(v ?? '')}`).join('')}`;
  };
  const renderReceiver = (req: FastifyRequest, r: Receiver) => ({
    id: r.id,
    name: r.name,
    type: r.type ?? 'webhook',
    cluster_id: r.cluster,
    action: r.action,
    params: paramsOf(r),
    channel: { alarm_url: alarmUrl(req, r) },
    actor: {},
    ...owner,
    created_at: null,
    updated_at: null,
  });

  // ----- Writing -----

  const commit = async (fn: (tx: ReturnType<typeof ctx.data.transaction>) => void) =>
    retryOnConflict(async () => {
      const tx = ctx.data.transaction('config');
      try {
        fn(tx);
      } catch (e) {
        tx.cancel();
        throw e;
      }
      await tx.commit();
    });

  const networkOf = (wanted: unknown): string => {
    if (typeof wanted !== 'string' || wanted === '') throw badRequest("The profile's properties need a network: properties.networks[0].network (os.nova.server) or properties.network (sextant.ovs.port), a Neutron network's uuid or name");
    const all = ctx.data.read('config', neutron().networks().network()) ?? [];
    const hit = all.find((n) => n.uuid === wanted) ?? all.find((n) => n.name === wanted);
    if (!hit) throw badRequest(`The specified network '${wanted}' could not be found.`);
    return hit.uuid;
  };

  /** A profile's model leaves from its spec: which network its nodes' ports are on. */
  const profileFields = (spec: unknown): Omit<Profile, 'id' | 'name'> => {
    if (!isObject(spec) || typeof spec.type !== 'string' || !isSet(spec.version)) throw badRequest("The profile spec must be a map with 'type', 'version' and 'properties'.");
    const type = profileType(spec);
    const props = isObject(spec.properties) ? spec.properties : {};
    if (type === 'os.nova.server-1.0') {
      const networks = Array.isArray(props.networks) ? props.networks : [];
      const first = isObject(networks[0]) ? networks[0] : {};
      return {
        type,
        network: networkOf(first.network),
        ...(isSet(props.flavor) ? { flavor: String(props.flavor) } : {}),
        ...(isSet(props.image) ? { image: String(props.image) } : {}),
        spec: JSON.stringify(spec),
      };
    }
    if (type === 'sextant.ovs.port-1.0') return { type, network: networkOf(props.network), spec: JSON.stringify(spec) };
    throw badRequest(`The specified profile_type '${type}' could not be found.`);
  };

  /** A policy's model leaves from its spec, checked as Senlin checks it (InvalidSpec: 400). */
  const policyFields = (spec: unknown): Omit<ClusteringPolicy, 'id' | 'name'> => {
    const type = isObject(spec) ? spec.type : undefined;
    const invalid = (message: string) => new SenlinError(400, 'InvalidSpec', message);
    if (type === 'senlin.policy.scaling') {
      const r = resolveScalingPolicySpec(spec);
      if (!r.ok) throw invalid(r.message);
      const a = r.properties.adjustment;
      return { spec: JSON.stringify(spec), scaling: { event: r.properties.event, 'adjustment-type': a.type, number: a.number, 'min-step': a.min_step ?? 0, 'best-effort': a.best_effort, cooldown: a.cooldown ?? 0 } };
    }
    if (type === 'senlin.policy.deletion') {
      const r = resolveDeletionPolicySpec(spec);
      if (!r.ok) throw invalid(r.message);
      const d = r.properties;
      return { spec: JSON.stringify(spec), deletion: { criteria: d.criteria, 'destroy-after-deletion': d.destroy_after_deletion, 'grace-period': d.grace_period ?? 0, 'reduce-desired-capacity': d.reduce_desired_capacity } };
    }
    throw badRequest(`The specified policy_type '${isObject(spec) ? `${pyStr(spec.type)}-${pyStr(spec.version)}` : pyStr(spec)}' could not be found.`);
  };

  const nameTaken = (type: string, items: { id: string; name?: string }[], name: string, except?: string) => {
    if (items.some((i) => i.name === name && i.id !== except)) throw badRequest(`A ${type} named '${name}' already exists.`);
  };

  /** The engine queues CLUSTER_CREATE / CLUSTER_DELETE itself; the Location names that action. */
  const withEngineAction = async (cluster: string, action: string, write: () => Promise<void>): Promise<string> => {
    const watch = watchEngineAction(ctx, cluster, action);
    try {
      await write();
    } catch (e) {
      watch.cancel();
      throw e;
    }
    const id = await watch.wait(ENGINE_ACTION_WAIT_MS);
    if (!id) throw new SenlinError(503, 'HTTPServiceUnavailable', `No engine queued the ${action} action of cluster ${cluster} within ${ENGINE_ACTION_WAIT_MS} ms.`);
    return id;
  };

  // ----- Profiles -----

  const createProfile = async (req: Req, reply: FastifyReply) => {
    const body = envelope(req.body, 'profile');
    const name = requiredName(body);
    nameTaken('profile', profiles(), name);
    const fields = profileFields(body.spec);
    const metadata = metadataOf(body.metadata);
    const id = randomUUID();
    await commit((tx) => tx.create(profilePath(id), { id, name, ...fields, ...(metadata ? { metadata } : {}) }));
    return reply.code(201).send({ profile: renderProfile(ctx.data.read('config', profilePath(id))!) });
  };

  const updateProfile = async (req: Req) => {
    const body = envelope(req.body, 'profile');
    const p = find('profile', profiles(), req.params.id);
    const change: Partial<Profile> = {};
    if (isSet(body.name)) {
      nameTaken('profile', profiles(), requiredName(body), p.id);
      change.name = requiredName(body);
    }
    const metadata = metadataOf(body.metadata);
    if (metadata) change.metadata = metadata;
    if (Object.keys(change).length) await commit((tx) => tx.merge(profilePath(p.id), change));
    return { profile: renderProfile(ctx.data.read('config', profilePath(p.id))!) };
  };

  const deleteProfile = async (req: Req, reply: FastifyReply) => {
    const p = find('profile', profiles(), req.params.id);
    await commit((tx) => {
      if ((tx.read(CLUSTERING.cluster()) ?? []).some((c) => c.profile === p.id)) throw inUse('profile', p.id, 'still referenced by some clusters and/or nodes');
      tx.delete(profilePath(p.id));
    });
    return reply.code(204).send();
  };

  // ----- Policies -----

  const createPolicy = async (req: Req, reply: FastifyReply) => {
    const body = envelope(req.body, 'policy');
    const name = requiredName(body);
    nameTaken('policy', policies(), name);
    const fields = policyFields(body.spec);
    const id = randomUUID();
    await commit((tx) => tx.create(policyPath(id), { id, name, ...fields }));
    return reply.code(201).send({ policy: renderPolicy(ctx.data.read('config', policyPath(id))!) });
  };

  const updatePolicy = async (req: Req) => {
    const body = envelope(req.body, 'policy');
    const p = find('policy', policies(), req.params.id);
    if (isSet(body.name)) {
      const name = requiredName(body);
      nameTaken('policy', policies(), name, p.id);
      await commit((tx) => tx.merge(policyPath(p.id), { name }));
    }
    return { policy: renderPolicy(ctx.data.read('config', policyPath(p.id))!) };
  };

  const deletePolicy = async (req: Req, reply: FastifyReply) => {
    const p = find('policy', policies(), req.params.id);
    await commit((tx) => {
      if ((tx.read(CLUSTERING.cluster()) ?? []).some((c) => (c.policy ?? []).some((b) => b.policy === p.id))) throw inUse('policy', p.id, 'still attached to some clusters');
      tx.delete(policyPath(p.id));
    });
    return reply.code(204).send();
  };

  // ----- Clusters -----

  const createCluster = async (req: Req, reply: FastifyReply) => {
    const body = envelope(req.body, 'cluster');
    const name = requiredName(body);
    if (!isSet(body.profile_id)) throw badRequest("'profile_id' is a required property");
    const profile = find('profile', profiles(), String(body.profile_id), badReference);
    const minSize = capacity('min_size', body.min_size, 0);
    const maxSize = capacity('max_size', body.max_size, -1);
    const desired = capacity('desired_capacity', body.desired_capacity, 0) ?? minSize ?? 0;
    const timeout = nonNegative('timeout', body.timeout);
    const metadata = metadataOf(body.metadata);
    const size = newClusterSizeError(ctx, desired, minSize, maxSize);
    if (size) throw badRequest(size);
    nameTaken('cluster', clusters(), name);
    const id = randomUUID();
    const action = await withEngineAction(id, 'CLUSTER_CREATE', () =>
      commit((tx) =>
        tx.create(clusterPath(id), {
          id,
          name,
          profile: profile.id,
          ...(minSize !== undefined ? { 'min-size': minSize } : {}),
          ...(maxSize !== undefined ? { 'max-size': maxSize } : {}),
          'desired-capacity': desired,
          ...(timeout !== undefined ? { timeout } : {}),
          ...(metadata ? { metadata } : {}),
        }),
      ),
    );
    locate(req, reply, action);
    return reply.code(202).send({ cluster: renderCluster(ctx.data.read('config', clusterPath(id))!) });
  };

  /** Name, metadata and timeout change at once (no node is touched); the action says so. */
  const updateCluster = async (req: Req, reply: FastifyReply) => {
    const body = envelope(req.body, 'cluster');
    const c = findCluster(req.params.id);
    if (isSet(body.profile_id) && find('profile', profiles(), String(body.profile_id), badReference).id !== c.profile) throw badRequest("Changing a cluster's profile is not supported: its nodes are ports of the profile's network.");
    const change: Partial<ClusteringCluster> = {};
    if (isSet(body.name)) {
      change.name = requiredName(body);
      nameTaken('cluster', clusters(), change.name, c.id);
    }
    const metadata = metadataOf(body.metadata);
    if (metadata) change.metadata = metadata;
    const timeout = nonNegative('timeout', body.timeout);
    if (timeout !== undefined) change.timeout = timeout;
    if (Object.keys(change).length) await commit((tx) => tx.merge(clusterPath(c.id), change));
    const action = await recordDoneAction(ctx, { cluster: c.id, action: 'CLUSTER_UPDATE', inputs: body, ok: true, reason: 'Cluster update completed.' });
    locate(req, reply, action);
    return reply.code(202).send({ cluster: renderCluster(ctx.data.read('config', clusterPath(c.id))!) });
  };

  const deleteCluster = async (req: Req, reply: FastifyReply) => {
    const c = findCluster(req.params.id);
    const force = req.query.force !== undefined ? flag('force', [req.query.force].flat()[0]) : (isObject(parseJson(req.body)) && flag('force', (parseJson(req.body) as Json).force)) || false;
    const status = ctx.data.read('operational', clusterState(c.id))?.status;
    if (!force && status && ['CREATING', 'UPDATING', 'DELETING', 'RECOVERING'].includes(status)) throw new SenlinError(409, 'ActionInProgress', `The cluster '${req.params.id}' is in status ${status}.`);
    // Its receivers go in the same commit (the plugin's prepare phase), as Senlin's do_delete does.
    const action = await withEngineAction(c.id, 'CLUSTER_DELETE', () => commit((tx) => tx.delete(clusterPath(c.id))));
    locate(req, reply, action);
    return reply.code(202).send();
  };

  /** Binding changes are config commits; the action recorded says whether it was done. */
  const policyAction = async (c: ClusteringCluster, kind: 'attach' | 'detach' | 'update', data: Json): Promise<string> => {
    if (!isSet(data.policy_id)) throw badRequest("'policy_id' is a required property");
    const p = find('policy', policies(), String(data.policy_id), badReference);
    const enabled = flag('enabled', data.enabled);
    const action = { attach: 'CLUSTER_ATTACH_POLICY', detach: 'CLUSTER_DETACH_POLICY', update: 'CLUSTER_UPDATE_POLICY' }[kind];
    const bound = (c.policy ?? []).some((b) => b.policy === p.id);
    const done = (ok: boolean, reason: string) => recordDoneAction(ctx, { cluster: c.id, action, inputs: { policy_id: p.id, ...(enabled !== undefined ? { enabled } : {}) }, ok, reason });
    if (kind === 'attach') {
      if (bound) return done(false, `The policy '${p.id}' is already attached to cluster '${c.id}'.`);
      await commit((tx) => tx.put(clusterPath(c.id).policy(p.id), { policy: p.id, enabled: enabled ?? true }));
      return done(true, 'Policy attached.');
    }
    if (!bound) return done(false, `The policy '${p.id}' is not attached to the specified cluster '${c.id}'.`);
    if (kind === 'detach') {
      await commit((tx) => tx.delete(clusterPath(c.id).policy(p.id)));
      return done(true, 'Policy detached.');
    }
    if (enabled !== undefined) await commit((tx) => tx.merge(clusterPath(c.id).policy(p.id), { enabled }));
    return done(true, 'Policy updated.');
  };

  /** POST /v1/clusters/{id}/actions: exactly one of Senlin's cluster actions. */
  const clusterAction = async (req: Req, reply: FastifyReply) => {
    const body = parseJson(req.body) ?? {};
    if (!isObject(body) || Object.keys(body).length < 1) throw badRequest('No action specified');
    if (Object.keys(body).length > 1) throw badRequest('Multiple actions specified');
    const [name] = Object.keys(body);
    const data = body[name] ?? {};
    const known = ['add_nodes', 'del_nodes', 'scale_out', 'scale_in', 'resize', 'policy_attach', 'policy_detach', 'policy_update', 'check', 'recover', 'replace_nodes', 'complete_lifecycle'];
    if (!known.includes(name)) throw badRequest(`Unrecognized action '${name}' specified`);
    if (!isObject(data)) throw badRequest('The data provided is not a map');
    const c = findCluster(req.params.id);
    let action: string;
    switch (name) {
      case 'scale_out':
        action = await requestScale(ctx, 'CLUSTER_SCALE_OUT', c, data.count);
        break;
      case 'scale_in':
        action = await requestScale(ctx, 'CLUSTER_SCALE_IN', c, data.count);
        break;
      case 'resize': {
        const request: ResizeRequest = {
          adjustment_type: isSet(data.adjustment_type) ? String(data.adjustment_type) : null,
          number: numeric('number', data.number),
          min_size: numeric('min_size', data.min_size),
          max_size: numeric('max_size', data.max_size),
          min_step: numeric('min_step', data.min_step),
          strict: flag('strict', data.strict) ?? null,
        };
        action = await requestResize(ctx, c, request);
        break;
      }
      case 'policy_attach':
      case 'policy_detach':
      case 'policy_update':
        action = await policyAction(c, name.slice('policy_'.length) as 'attach' | 'detach' | 'update', data);
        break;
      case 'del_nodes': {
        // Names, ids or id prefixes of the cluster's nodes (Senlin's del_nodes); Sextant's nodes
        // exist only as members, so they are always destroyed (destroy_after_deletion true).
        const asked = Array.isArray(data.nodes) ? data.nodes.map(String) : [];
        if (!asked.length) throw badRequest('No nodes specified');
        const members = nodesOf(ctx, c.id);
        const resolved = asked.map((x) => members.find((n) => n.id === x) ?? members.find((n) => n.name === x) ?? members.find((n) => n.id.startsWith(x)));
        const unknown = asked.filter((_, i) => !resolved[i]);
        if (unknown.length) throw badRequest(`Nodes not members of specified cluster: ${JSON.stringify(unknown)}.`);
        action = await createAction(ctx, { cluster: c.id, action: 'CLUSTER_DEL_NODES', cause: CAUSE_RPC, inputs: { nodes: resolved.map((n) => n!.id) } });
        break;
      }
      case 'check':
        // The engine's CLUSTER_CHECK: each node's health from what OVS reports, then the rollup.
        action = await createAction(ctx, { cluster: c.id, action: 'CLUSTER_CHECK', cause: CAUSE_RPC, inputs: data });
        break;
      case 'recover':
        action = await requestRecover(ctx, c, data);
        break;
      default:
        throw badRequest(`The action '${name}' is not supported by Sextant: nodes exist only as members of a cluster.`);
    }
    locate(req, reply, action);
    return reply.code(202).send({ action });
  };

  const bindingsOf = (c: ClusteringCluster) => {
    const state = ctx.data.read('operational', clusterState(c.id));
    return (c.policy ?? []).map((b) => {
      const p = ctx.data.read('config', policyPath(b.policy));
      return {
        id: b.policy,
        cluster_id: c.id,
        cluster_name: c.name,
        policy_id: b.policy,
        policy_name: p?.name ?? null,
        policy_type: p ? policyTypeOf(p) : null,
        enabled: b.enabled ?? true,
        priority: b.priority ?? (p?.scaling ? 100 : 400),
        data: {},
        last_op: state?.binding?.find((x) => x.policy === b.policy)?.['last-op'] ?? null,
      };
    });
  };

  // ----- Receivers and webhooks -----

  const createReceiver = async (req: Req, reply: FastifyReply) => {
    const body = envelope(req.body, 'receiver');
    const name = requiredName(body);
    const type = body.type ?? 'webhook';
    if (type !== 'webhook') throw badRequest(`Receiver type '${pyStr(type)}' is not supported here: only webhook.`);
    if (!isSet(body.cluster_id)) throw badRequest('Cluster identity is required for creating webhook receiver.');
    const c = findCluster(String(body.cluster_id), (t, id) => badReference(t, id, 'referenced'));
    if (!isSet(body.action)) throw badRequest('Action name is required for creating webhook receiver.');
    if (!(SCALE_EVENTS as readonly string[]).includes(String(body.action))) throw badRequest(`Action '${pyStr(body.action)}' is not supported here: a webhook receiver triggers ${SCALE_EVENTS.join(' or ')}.`);
    if (isSet(body.params) && !isObject(body.params)) throw badRequest('The params provided is not a map.');
    nameTaken('receiver', receivers(), name);
    const id = receiverId();
    const param = Object.entries((body.params as Json | undefined) ?? {}).map(([k, v]) => ({ name: k, value: typeof v === 'string' ? v : JSON.stringify(v) }));
    await commit((tx) => tx.create(CLUSTERING.receiver(id), { id, name, type: 'webhook', cluster: c.id, action: body.action as ScaleEvent, ...(param.length ? { param } : {}) }));
    return reply.code(201).send({ receiver: renderReceiver(req, ctx.data.read('config', CLUSTERING.receiver(id))!) });
  };

  const deleteReceiver = async (req: Req, reply: FastifyReply) => {
    const r = find('receiver', receivers(), req.params.id);
    await commit((tx) => tx.delete(CLUSTERING.receiver(r.id)));
    return reply.code(204).send();
  };

  /**
   * A webhook: the receiver's action on its cluster, its params with the body's merged over them
   * (`{"params": {...}}`, or V=2's body-as-params `count`; anything else an alarm says is
   * ignored). Only the exact receiver id is accepted (not a name or prefix): it is the capability.
   * While another action of the cluster is active the trigger is refused with 409, as Senlin's
   * ConductorService.webhook_trigger does: it calls Action.create, whose
   * _check_conflicting_actions (and validate_scaling_action's cooldown) raise before any action
   * is stored.
   */
  const trigger = async (req: Req, reply: FastifyReply) => {
    if (req.query.V === undefined) throw badRequest('V query parameter is required in webhook trigger URL');
    const r = receivers().find((x) => x.id === req.params.id);
    if (!r) throw notFound('receiver', req.params.id);
    const cluster = ctx.data.read('config', clusterPath(r.cluster!));
    if (!cluster) throw badReference('cluster', r.cluster!, 'referenced');
    const body = parseJson(req.body);
    const given = isObject(body) ? (isObject(body.params) ? body.params : 'count' in body ? { count: body.count } : {}) : {};
    const params: Json = { ...paramsOf(r), ...given };
    const action = await requestScale(ctx, r.action!, cluster, params.count, CAUSE_RPC);
    locate(req, reply, action);
    return reply.code(202).send({ action });
  };

  // ----- Versions -----

  const versionInfo = (req: FastifyRequest) => ({
    id: '1.0',
    status: 'CURRENT',
    updated: '2016-01-18T00:00:00Z',
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.clustering-v1+json' }],
    links: [
      { href: `${base(req)}/v1/`, rel: 'self' },
      { rel: 'help', href: 'https://docs.openstack.org/api-ref/clustering' },
    ],
    min_version: MIN_VERSION,
    max_version: MAX_VERSION,
  });

  /** `OpenStack-API-Version: clustering 1.x`: up to 1.14 (or latest); above is Senlin's 406. */
  const checkMicroversion = (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers['openstack-api-version'];
    const wanted = [header ?? ''].flat().join(',').split(',').map((s) => s.trim().split(/\s+/)).find(([service]) => service?.toLowerCase() === 'clustering')?.[1];
    if (wanted === undefined) return;
    const version = wanted.toLowerCase() === 'latest' ? MAX_VERSION : wanted;
    const m = /^([1-9]\d*)\.(0|[1-9]\d*)$/.exec(version);
    if (!m) throw badRequest(`Invalid format of client version '${wanted}'. Expected format 'X.Y', where X is a major part and Y is a minor part of version.`);
    const [maxMajor, maxMinor] = MAX_VERSION.split('.').map(Number);
    const [major, minor] = [Number(m[1]), Number(m[2])];
    if (major !== 1 || minor > maxMinor || major > maxMajor) throw new SenlinError(406, 'InvalidGlobalAPIVersion', `Version '${wanted}' is not supported by the API. Minimum is '${MIN_VERSION}' and maximum is '${MAX_VERSION}'.`);
    reply.header('openstack-api-version', `clustering ${version}`).header('vary', 'OpenStack-API-Version');
  };

  const PUBLIC = { config: { public: true } };

  http.register(async (app: FastifyInstance) => {
    const answer = (e: SenlinError) => ({ status: e.status, type: 'application/json', body: faultBody(e) });
    errorDialect(ctx, app, 'senlin API', {
      error: (err) => answer(senlinErrorOf(err)),
      notFound: (req) => answer(new SenlinError(404, 'HTTPNotFound', `The resource could not be found: ${req.method} ${req.url}`)),
    });
    app.addHook('preHandler', (req, reply, done) => {
      try {
        checkMicroversion(req, reply);
        done();
      } catch (e) {
        done(e as Error);
      }
    });

    // Discovery, unauthenticated (openstacksdk sends no token for it).
    app.get('/', PUBLIC, async (req, reply) => reply.code(300).send({ versions: [versionInfo(req)] }));
    app.get('/v1', PUBLIC, async (req) => ({ version: versionInfo(req) }));
    app.post('/v1/webhooks/:id/trigger', PUBLIC, trigger);

    app.get('/v1/build-info', async () => ({ build_info: { api: { revision: 'sextant' }, engine: { revision: 'sextant' } } }));
    app.get('/v1/profile-types', async () => ({ profile_types: ['os.nova.server-1.0', 'sextant.ovs.port-1.0'].map((n) => ({ name: n, version: '1.0', support_status: { '1.0': [{ status: 'SUPPORTED', since: '2016.04' }] } })) }));
    app.get('/v1/policy-types', async () => ({ policy_types: ['senlin.policy.scaling-1.0', 'senlin.policy.deletion-1.0', 'senlin.policy.deletion-1.1'].map((n) => ({ name: n, version: n.slice(-3), support_status: { [n.slice(-3)]: [{ status: 'SUPPORTED', since: '2016.04' }] } })) }));

    app.get('/v1/profiles', async (req: Req) => ({ profiles: page(profiles().map(renderProfile), req.query, { name: 'name', type: 'type' }, ['name']) }));
    app.post('/v1/profiles', createProfile);
    app.get('/v1/profiles/:id', async (req: Req) => ({ profile: renderProfile(find('profile', profiles(), req.params.id)) }));
    app.patch('/v1/profiles/:id', updateProfile);
    app.delete('/v1/profiles/:id', deleteProfile);

    app.get('/v1/policies', async (req: Req) => ({ policies: page(policies().map(renderPolicy), req.query, { name: 'name', type: 'type' }, ['name']) }));
    app.post('/v1/policies', createPolicy);
    app.get('/v1/policies/:id', async (req: Req) => ({ policy: renderPolicy(find('policy', policies(), req.params.id)) }));
    app.patch('/v1/policies/:id', updatePolicy);
    app.delete('/v1/policies/:id', deletePolicy);

    app.get('/v1/clusters', async (req: Req) => ({ clusters: page(clusters().map(renderCluster), req.query, { name: 'name', status: 'status' }) }));
    app.post('/v1/clusters', createCluster);
    app.get('/v1/clusters/:id', async (req: Req) => ({ cluster: renderCluster(findCluster(req.params.id)) }));
    app.patch('/v1/clusters/:id', updateCluster);
    app.delete('/v1/clusters/:id', deleteCluster);
    app.post('/v1/clusters/:id/actions', clusterAction);
    app.get('/v1/clusters/:id/policies', async (req: Req) => {
      const q = req.query;
      const bindings = bindingsOf(findCluster(req.params.id)).filter((b) => (q.enabled === undefined || b.enabled === flag('enabled', [q.enabled].flat()[0])));
      const { enabled: _e, ...rest } = q;
      return { cluster_policies: page(bindings, rest, { policy_name: 'policy_name', policy_type: 'policy_type' }, ['priority']) };
    });
    app.get('/v1/clusters/:id/policies/:policy', async (req: Req) => {
      const c = findCluster(req.params.id);
      const p = find('policy', policies(), req.params.policy!);
      const binding = bindingsOf(c).find((b) => b.policy_id === p.id);
      if (!binding) throw new SenlinError(404, 'PolicyBindingNotFound', `The policy '${req.params.policy}' is not found attached to the specified cluster '${req.params.id}'.`);
      return { cluster_policy: binding };
    });

    app.get('/v1/nodes', async (req: Req) => {
      let all = nodes();
      const wanted = req.query.cluster_id;
      if (wanted !== undefined) {
        const c = resolve(clusters(), [wanted].flat()[0]);
        if (!c) throw badRequest(`Cannot find the given cluster: ${[wanted].flat()[0]}.`);
        all = all.filter((n) => n.cluster === c.id);
      }
      const { cluster_id: _c, ...rest } = req.query;
      return { nodes: page(all.map(renderNode), { ...rest }, { name: 'name', status: 'status' }) };
    });
    app.get('/v1/nodes/:id', async (req: Req) => ({ node: renderNode(find('node', nodes(), req.params.id)) }));

    app.get('/v1/receivers', async (req: Req) => ({ receivers: page(receivers().map((r) => renderReceiver(req, r)), req.query, { name: 'name', type: 'type', cluster_id: 'cluster_id', action: 'action', user: 'user' }, ['name']) }));
    app.post('/v1/receivers', createReceiver);
    app.get('/v1/receivers/:id', async (req: Req) => ({ receiver: renderReceiver(req, find('receiver', receivers(), req.params.id)) }));
    app.delete('/v1/receivers/:id', deleteReceiver);

    app.get('/v1/actions', async (req: Req) => ({ actions: page(actions().map(renderAction), req.query, { name: 'name', cluster_id: 'cluster_id', target: 'target', action: 'action', status: 'status' }) }));
    app.get('/v1/actions/:id', async (req: Req) => ({ action: renderAction(find('action', actions(), req.params.id)) }));

    app.get('/v1/events', async (req: Req) => ({ events: page(actions().map(renderEvent), req.query, { oname: 'oname', otype: 'otype', oid: 'oid', cluster_id: 'cluster_id', action: 'action', level: 'level' }, ['timestamp']) }));
    app.get('/v1/events/:id', async (req: Req) => ({ event: renderEvent(find('event', actions(), req.params.id)) }));
  });
}
