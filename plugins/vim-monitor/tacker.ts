/**
 * Tacker's legacy VIM API (`/v1.0/vims`, what python-tackerclient's `openstack vim ...` calls)
 * over the sextant-nfv-vim model: a Tacker vim is a config entry (what the client registered)
 * plus its operational state (the monitor's status). Every write is one config transaction, so
 * the model decides what is valid (the unique name, a usable auth-url, the secrets sealed into
 * encrypted-secret in the same commit); its YangErrors become Tacker's error body here, in one
 * place. Secrets go in and never come out: a vim is rendered from a list of the fields it shows.
 *
 * The body is checked before anything is written (JSON, a `vim` object, known attributes of the
 * right JSON types, a supported type, an auth-url we can probe); values the YANG types constrain
 * (lengths, patterns) are left to the commit. Paths are served with and without `.json`.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { retryOnConflict, type Transaction } from '../../src/datastore/datastore.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import { classifyApiError, errorDialect, WEBOB_TYPE } from '../../src/plugin/api-errors.ts';
import type { PluginHttp } from '../../src/plugin/http.ts';
import { resolveDataPath } from '../../src/yang/binding.ts';
import { DEFAULT_VIM_EXISTS, parseAuthUrl, statePath, VIM_STATES, VIMS, vimPath, type Vim, type VimState } from './model.ts';

/** No Keystone here: the project a VIM belongs to when the client names none (Tacker's tenant_id). */
export const DEFAULT_TENANT_ID = 'sextant';

/** A vim as Tacker shows it: never a password, a bearer token or the encrypted secret. */
export interface TackerVim {
  id: string;
  name: string;
  description: string;
  type: 'openstack' | 'kubernetes';
  auth_url: string;
  vim_project: { name: string; project_domain_name: string };
  auth_cred: { username: string; user_domain_name: string; cert_verify: 'True' | 'False' };
  status: string;
  is_default: boolean;
  tenant_id: string;
  placement_attr: { regions: string[] };
  extra: Record<string, never>;
}

/** An error in Tacker's terms: `{"TackerError": {"type", "message", "detail"}}` with its status. */
export class TackerError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const badRequest = (message: string) => new TackerError(400, 'InvalidInput', `Invalid input for operation: ${message}.`);
const vimNotFound = (id: string) => new TackerError(404, 'VimNotFoundException', `Specified VIM id ${id} is invalid. Please verify and pass a valid VIM id`);

/** The one mapping of what a request may raise to Tacker's status, type and message. */
export function tackerErrorOf(err: unknown): TackerError {
  if (err instanceof TackerError) return err;
  const c = classifyApiError(err);
  if (c.kind === 'unauthorized') return new TackerError(401, 'HTTPUnauthorized', 'The request you have made requires authentication: send X-Auth-Token or Basic credentials.');
  if (c.kind === 'http') return new TackerError(c.status, WEBOB_TYPE[c.status] ?? 'HTTPClientError', c.message);
  // The model's verdict (or anything unexpected, as operation-failed), in Tacker's names.
  const e = c.error;
  if (e.appTag === 'data-not-unique') return new TackerError(409, 'DuplicateEntity', e.message);
  if (e.appTag === DEFAULT_VIM_EXISTS) return new TackerError(409, 'VimDefaultDuplicateException', e.message);
  const TYPE = { 400: 'InvalidInput', 403: WEBOB_TYPE[403], 409: 'Conflict', 413: WEBOB_TYPE[413], 500: 'HTTPInternalServerError', 503: 'ServiceUnavailable' } as const;
  return new TackerError(c.status, TYPE[c.status], e.message);
}

// ----- Reading a request body -------------------------------------------------------------

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What a POST or PUT may say, as Tacker's attribute map has it; anything else is refused. A PUT
 * may repeat type and tenant_id, not change them.
 */
const WRITABLE = new Set(['name', 'description', 'type', 'auth_url', 'vim_project', 'auth_cred', 'is_default', 'tenant_id', 'extra']);
const READ_ONLY = new Set(['id', 'status', 'placement_attr', 'created_at', 'updated_at', 'shared']);
const PROJECT_KEYS = new Set(['name', 'project_domain_name']);
const CRED_KEYS = new Set(['username', 'password', 'bearer_token', 'user_domain_name', 'cert_verify']);

function parseBody(text: unknown): Json {
  if (typeof text !== 'string' || text.trim() === '') throw badRequest('the request needs a JSON body {"vim": {...}}');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw badRequest(`the body is not JSON (${(e as Error).message})`);
  }
  if (!isObject(body) || !isObject(body.vim)) throw badRequest('the body must be a JSON object with a "vim" object');
  return body.vim;
}

function only(obj: Json, allowed: Set<string>, where: string): void {
  const unknown = Object.keys(obj).filter((k) => !allowed.has(k));
  if (unknown.length) throw badRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'${where}`);
}

function text(obj: Json, key: string, where = ''): string | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badRequest(`${where}${key} must be a string`);
  return v;
}

/** Tacker takes booleans as JSON booleans or the strings True/False (any case). */
function flag(obj: Json, key: string, where = ''): boolean | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw badRequest(`${where}${key} must be True or False, got ${JSON.stringify(v)}`);
}

/** The model's fields a POST or PUT body sets (merged into the entry; nothing else changes). */
function vimFields(vim: Json, method: 'post' | 'put', current?: Vim): Omit<Vim, 'vim-id'> {
  const readOnly = Object.keys(vim).filter((k) => READ_ONLY.has(k));
  if (readOnly.length) throw badRequest(`Attribute(s) '${readOnly.join(', ')}' not allowed in ${method.toUpperCase()}`);
  only(vim, WRITABLE, '');
  const out: Omit<Vim, 'vim-id'> = {};
  const name = text(vim, 'name');
  if (name !== undefined) out.name = name;
  const description = text(vim, 'description');
  if (description !== undefined) out.description = description;
  const type = text(vim, 'type');
  if (type !== undefined && type !== 'openstack' && type !== 'kubernetes') throw badRequest(`unsupported VIM type "${type}" (openstack or kubernetes)`);
  if (method === 'put') {
    // Read-only once registered (python-tackerclient drops type from its PUT body itself).
    if (type !== undefined && type !== current?.type) throw badRequest('the type of a VIM cannot be changed');
    const tenant = text(vim, 'tenant_id');
    if (tenant !== undefined && tenant !== (current?.['tenant-id'] ?? DEFAULT_TENANT_ID)) throw badRequest('the tenant_id of a VIM cannot be changed');
  } else {
    if (type === undefined) throw badRequest('type is required (openstack or kubernetes)');
    out.type = type;
    const tenant = text(vim, 'tenant_id');
    if (tenant !== undefined) out['tenant-id'] = tenant;
  }
  const authUrl = text(vim, 'auth_url');
  if (authUrl !== undefined) {
    const url = parseAuthUrl(authUrl);
    if (typeof url === 'string') throw badRequest(url);
    out['auth-url'] = authUrl;
  }
  const isDefault = flag(vim, 'is_default');
  if (isDefault !== undefined) out['is-default'] = isDefault;
  if (vim.extra !== undefined && !(isObject(vim.extra) && Object.keys(vim.extra).length === 0)) throw badRequest('extra is not supported (only {})');
  if (vim.vim_project !== undefined) {
    if (!isObject(vim.vim_project)) throw badRequest('vim_project must be an object');
    only(vim.vim_project, PROJECT_KEYS, ' in vim_project');
    const project: Vim['project'] = {};
    const projectName = text(vim.vim_project, 'name', 'vim_project.');
    if (projectName !== undefined) project.name = projectName;
    const domain = text(vim.vim_project, 'project_domain_name', 'vim_project.');
    if (domain !== undefined) project['domain-name'] = domain;
    out.project = project;
  }
  if (vim.auth_cred !== undefined) {
    if (!isObject(vim.auth_cred)) throw badRequest('auth_cred must be an object');
    only(vim.auth_cred, CRED_KEYS, ' in auth_cred');
    const cred: NonNullable<Vim['auth-cred']> = {};
    for (const [from, to] of [
      ['username', 'username'],
      ['user_domain_name', 'user-domain-name'],
      ['password', 'password'],
      ['bearer_token', 'bearer-token'],
    ] as const) {
      const v = text(vim.auth_cred, from, 'auth_cred.');
      if (v !== undefined) cred[to] = v;
    }
    const certVerify = flag(vim.auth_cred, 'cert_verify', 'auth_cred.');
    if (certVerify !== undefined) cred['cert-verify'] = certVerify;
    out['auth-cred'] = cred;
  }
  if (method === 'post') {
    if (out.name === undefined) throw badRequest('name is required');
    if (out['auth-url'] === undefined) throw badRequest('auth_url is required');
    const cred = out['auth-cred'];
    if (cred?.password === undefined && cred?.['bearer-token'] === undefined) throw badRequest('auth_cred needs a password or a bearer_token');
  }
  return out;
}

// ----- Showing a vim ----------------------------------------------------------------------

export function renderVim(vim: Vim, state: VimState | undefined): TackerVim {
  const cred = vim['auth-cred'] ?? {};
  return {
    id: vim['vim-id'],
    name: vim.name ?? '',
    description: vim.description ?? '',
    type: vim.type ?? 'openstack',
    auth_url: vim['auth-url'] ?? '',
    vim_project: { name: vim.project?.name ?? '', project_domain_name: vim.project?.['domain-name'] ?? '' },
    auth_cred: { username: cred.username ?? '', user_domain_name: cred['user-domain-name'] ?? '', cert_verify: cred['cert-verify'] === false ? 'False' : 'True' },
    status: state?.status ?? 'PENDING',
    is_default: vim['is-default'] ?? false,
    tenant_id: vim['tenant-id'] ?? DEFAULT_TENANT_ID,
    placement_attr: { regions: [] },
    extra: {},
  };
}

type Query = Record<string, string | string[] | undefined>;
const values = (q: string | string[] | undefined): string[] => (q === undefined ? [] : [q].flat());

/** The attributes a list may be filtered on (`?name=a&name=b`: either); other parameters are ignored, as Tacker does. */
const FILTERS = ['id', 'name', 'type', 'status', 'tenant_id', 'is_default', 'auth_url', 'description'] as const;

function matches(vim: TackerVim, query: Query): boolean {
  return FILTERS.every((key) => {
    const wanted = values(query[key]);
    if (!wanted.length) return true;
    const have = String(vim[key]);
    return wanted.some((w) => (key === 'is_default' ? w.toLowerCase() === have : w === have));
  });
}

/** `?fields=id&fields=name`: only those attributes (unknown ones ignored). */
function selectFields(vim: TackerVim, query: Query): Partial<TackerVim> {
  const fields = values(query.fields).flatMap((f) => f.split(','));
  if (!fields.length) return vim;
  return Object.fromEntries(Object.entries(vim).filter(([k]) => fields.includes(k)));
}

// ----- The API ----------------------------------------------------------------------------

/** Strips the format suffix Tacker's paths may carry (`/v1.0/vims/ID.json`). */
const vimIdOf = (param: string) => (param.endsWith('.json') ? param.slice(0, -'.json'.length) : param);

export function registerTackerApi(ctx: PluginContext, http: PluginHttp): void {
  const vimsPath = resolveDataPath(ctx.schema, VIMS);
  const show = (id: string): TackerVim | undefined => {
    const vim = ctx.data.read('config', vimPath(id));
    return vim ? renderVim(vim, ctx.data.read('operational', statePath(id))) : undefined;
  };

  /**
   * One default VIM at most: the rule is the plugin's validate phase (for every northbound);
   * here the guard on the whole list makes it hold across instances too (a VIM made default on
   * another instance meanwhile fails this commit as a conflict, and the retry sees it).
   */
  const checkDefault = (tx: Transaction, fields: Omit<Vim, 'vim-id'>) => {
    if (fields['is-default'] === true) tx.guard(vimsPath);
  };

  const list = async (req: FastifyRequest<{ Querystring: Query }>) => {
    const states = new Map((ctx.data.read('operational', VIM_STATES.vimState()) ?? []).map((s) => [s['vim-id'], s]));
    const vims = (ctx.data.read('config', VIMS.vim()) ?? []).map((v) => renderVim(v, states.get(v['vim-id'])));
    return { vims: vims.filter((v) => matches(v, req.query)).map((v) => selectFields(v, req.query)) };
  };

  const register = async (req: FastifyRequest, reply: FastifyReply) => {
    const fields = vimFields(parseBody(req.body), 'post');
    const id = randomUUID();
    await retryOnConflict(async () => {
      const tx = ctx.data.transaction('config');
      try {
        checkDefault(tx, fields);
        tx.create(vimPath(id), { 'vim-id': id, ...fields });
      } catch (e) {
        tx.cancel();
        throw e;
      }
      await tx.commit();
    });
    return reply.code(201).send({ vim: show(id) });
  };

  const get = async (req: FastifyRequest<{ Params: { id: string }; Querystring: Query }>) => {
    const id = vimIdOf(req.params.id);
    const vim = show(id);
    if (!vim) throw vimNotFound(id);
    return { vim: selectFields(vim, req.query) };
  };

  const update = async (req: FastifyRequest<{ Params: { id: string } }>) => {
    const id = vimIdOf(req.params.id);
    const body = parseBody(req.body);
    await retryOnConflict(async () => {
      const tx = ctx.data.transaction('config');
      try {
        const current = tx.read(vimPath(id));
        if (!current) throw vimNotFound(id);
        const fields = vimFields(body, 'put', current);
        checkDefault(tx, fields);
        if (!Object.keys(fields).length) return tx.cancel();
        tx.merge(vimPath(id), fields);
      } catch (e) {
        tx.cancel();
        throw e;
      }
      await tx.commit();
    });
    return { vim: show(id) };
  };

  const remove = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const id = vimIdOf(req.params.id);
    await retryOnConflict(async () => {
      const tx = ctx.data.transaction('config');
      if (!tx.exists(vimPath(id))) {
        tx.cancel();
        throw vimNotFound(id);
      }
      tx.delete(vimPath(id));
      await tx.commit();
    });
    return reply.code(204).send();
  };

  http.register(
    async (app: FastifyInstance) => {
      const answer = (e: TackerError) => ({ status: e.status, type: 'application/json', body: { TackerError: { type: e.type, message: e.message, detail: '' } } });
      errorDialect(ctx, app, 'tacker API', {
        error: (err) => answer(tackerErrorOf(err)),
        notFound: (req) => answer(new TackerError(404, 'HTTPNotFound', `The resource could not be found: ${req.method} ${req.url}`)),
      });
      for (const suffix of ['', '.json']) {
        app.get(`/vims${suffix}`, list);
        app.post(`/vims${suffix}`, register);
      }
      app.get('/vims/:id', get);
      app.put('/vims/:id', update);
      app.delete('/vims/:id', remove);
    },
    { prefix: '/v1.0' },
  );
}
