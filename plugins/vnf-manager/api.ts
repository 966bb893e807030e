/**
 * Tacker's ETSI APIs on the Tacker listener (beside the VIM monitor's /v1.0/vims): SOL005 VNF
 * package management (packages.ts) and SOL003 VNF lifecycle management under /vnflcm/v1 (SOL003
 * v2.6.1, API version 1.3.0) and /vnflcm/v2 (SOL003 v3.3.1, 2.0.0), the same routes under both,
 * shapes in render.ts. Every write goes through lifecycle.ts, whose checks throw ProblemDetails
 * before anything is written; every error leaves through one mapper (scope.ts). All state is in
 * the datastore (sextant-vnflcm); an operation started here stays STARTING until the instance's
 * owner runs it (the executor), so its answer is 202 with the occurrence's Location.
 *
 * SOL013 4.2 versioning: vnflcm requests carry `Version: 1.3.0` / `2.0.0` (python-tackerclient);
 * it is mandatory on v2, optional on v1 (the client's `op cancel` sends none); a major other than
 * the URI's, or not `x.y.z`, is 406. Answers carry the served version. The api_versions
 * resources need none. vnfpkgm takes no Version header (the client sends none).
 *
 * Not supported, each answered as a ProblemDetails: cancel of an occurrence (409), package
 * upload from a URI (501), the VNFD's files (406). SOL003's subscription callback test (a GET to
 * the callback before the 201) and the 303 for a duplicate subscription are not done.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { retryOnConflict } from '../../src/datastore/datastore.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import type { PluginHttp } from '../../src/plugin/http.ts';
import {
  badRequest,
  conflict,
  createInstance,
  deleteInstance,
  failOperation,
  notFound,
  ProblemError,
  readInstance,
  readOpOcc,
  requestHeal,
  requestInstantiate,
  requestModify,
  requestScale,
  requestTerminate,
  retryOperation,
  rollbackOperation,
} from './lifecycle.ts';
import { ACTIVE_STATES, isObject, now, packagePath, type Json, subscriptionPath, VNFLCM, type Subscription, type VnfInstance, type VnfPackage } from './model.ts';
import { registerPackageRoutes } from './packages.ts';
import { testCallback } from './notify.ts';
import { INSTANCE_ATTRIBUTES, OP_OCC_ATTRIBUTES, renderInstance, renderOpOcc, renderSubscription, SUBSCRIPTION_ATTRIBUTES, type Major } from './render.ts';
import { baseUrl, jsonObject, listPage, problemScope } from './scope.ts';

/** The API version served under each major (SOL013 4.2, as Tacker announces them). */
export const API_VERSIONS: Record<Major, string> = { v1: '1.3.0', v2: '2.0.0' };
const SEMVER = /^(\d+)\.(\d+)\.(\d+)$/;

type Params = { Params: { id: string } };

const apiVersionsOf = (major: Major) => ({ uriPrefix: `/vnflcm/${major}`, apiVersions: [{ version: API_VERSIONS[major], isDeprecated: false }] });

/** The Version header's verdict for a request under `major` (SOL013 4.2). */
function checkVersion(header: string | string[] | undefined, major: Major): void {
  const served = API_VERSIONS[major];
  if (header === undefined) {
    if (major === 'v2') throw badRequest(`The Version header is mandatory (SOL013 4.2): send Version: ${served}.`);
    return;
  }
  const m = typeof header === 'string' ? SEMVER.exec(header.trim()) : null;
  if (!m || `v${m[1]}` !== major) throw new ProblemError(406, 'Not Acceptable', `Unsupported version ${JSON.stringify(header)}: /vnflcm/${major} serves version ${served}.`);
}

/** The subscriber's credentials: SOL013 SubscriptionAuthentication, BASIC only here. */
function authenticationOf(v: unknown): Json | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v) || !Array.isArray(v.authType) || !v.authType.length) throw badRequest('authentication must be an object with a non-empty authType list.');
  const other = v.authType.filter((t) => t !== 'BASIC');
  if (other.length) throw badRequest(`authentication authType ${other.map((t) => JSON.stringify(t)).join(', ')} is not supported (BASIC only).`);
  const basic = v.paramsBasic;
  if (basic !== undefined && (!isObject(basic) || (basic.userName !== undefined && typeof basic.userName !== 'string') || (basic.password !== undefined && typeof basic.password !== 'string')))
    throw badRequest('authentication.paramsBasic must be an object with string userName and password.');
  return v;
}

function callbackUriOf(v: unknown): string {
  if (typeof v !== 'string') throw badRequest('callbackUri is missing (an http or https URL).');
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw badRequest(`callbackUri ${JSON.stringify(v)} is not a URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest(`callbackUri ${JSON.stringify(v)} is not an http or https URL.`);
  return v;
}

function registerLcmRoutes(ctx: PluginContext, app: FastifyInstance, major: Major, pageSize: number): void {
  const prefix = (req: FastifyRequest) => `${baseUrl(req)}/vnflcm/${major}`;
  const packageOf = (inst: VnfInstance) => (inst['vnf-pkg-id'] ? ctx.data.read('config', packagePath(inst['vnf-pkg-id'])) : undefined);
  /** An operation accepted: 202, no body (the CLI prints its confirmation only then), the occurrence's Location. */
  const accepted = (req: FastifyRequest, reply: FastifyReply, occId: string) => reply.code(202).header('Location', `${prefix(req)}/vnf_lcm_op_occs/${occId}`).send();

  app.addHook('onRequest', async (req) => checkVersion(req.headers.version, major));
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('Version', API_VERSIONS[major]);
    return payload;
  });

  // ----- vnf_instances -----

  app.post('/vnf_instances', async (req, reply) => {
    const body = jsonObject(req.body, 'a CreateVnfRequest');
    if (typeof body.vnfdId !== 'string' || body.vnfdId === '') throw badRequest('vnfdId is missing.');
    for (const key of ['vnfInstanceName', 'vnfInstanceDescription'] as const) if (body[key] !== undefined && typeof body[key] !== 'string') throw badRequest(`${key} must be a string.`);
    if (body.metadata !== undefined && !isObject(body.metadata)) throw badRequest('metadata must be a JSON object.');
    const inst = await createInstance(ctx, {
      vnfdId: body.vnfdId,
      ...(body.vnfInstanceName !== undefined ? { name: body.vnfInstanceName as string } : {}),
      ...(body.vnfInstanceDescription !== undefined ? { description: body.vnfInstanceDescription as string } : {}),
      ...(body.metadata !== undefined ? { metadata: body.metadata as Json } : {}),
    });
    return reply.code(201).header('Location', `${prefix(req)}/vnf_instances/${inst.id}`).send(renderInstance(baseUrl(req), major, inst, packageOf(inst)));
  });

  app.get('/vnf_instances', async (req, reply) => {
    const packages = new Map((ctx.data.read('config', VNFLCM.vnfPackage()) ?? []).map((p): [string, VnfPackage] => [p.id, p]));
    const all = (ctx.data.read('config', VNFLCM.vnfInstance()) ?? []).map((i) => ({
      key: [i['created-at'] ?? '', i.id] as [string, string],
      json: renderInstance(baseUrl(req), major, i, i['vnf-pkg-id'] ? packages.get(i['vnf-pkg-id']) : undefined),
    }));
    return listPage(req, reply, all, INSTANCE_ATTRIBUTES, pageSize);
  });

  app.get<Params>('/vnf_instances/:id', async (req) => {
    const inst = readInstance(ctx, req.params.id);
    return renderInstance(baseUrl(req), major, inst, packageOf(inst));
  });

  app.delete<Params>('/vnf_instances/:id', async (req, reply) => {
    await deleteInstance(ctx, req.params.id);
    return reply.code(204).send();
  });

  app.patch<Params>('/vnf_instances/:id', async (req, reply) => accepted(req, reply, await requestModify(ctx, req.params.id, jsonObject(req.body, 'a VnfInfoModificationRequest'))));

  const operations = {
    instantiate: [requestInstantiate, 'an InstantiateVnfRequest'],
    scale: [requestScale, 'a ScaleVnfRequest'],
    heal: [requestHeal, 'a HealVnfRequest'],
    terminate: [requestTerminate, 'a TerminateVnfRequest'],
  } as const;
  for (const [op, [request, what]] of Object.entries(operations)) {
    app.post<Params>(`/vnf_instances/:id/${op}`, async (req, reply) => {
      const body = jsonObject(req.body, what);
      return accepted(req, reply, await request(ctx, req.params.id, body));
    });
  }

  // ----- vnf_lcm_op_occs -----

  app.get('/vnf_lcm_op_occs', async (req, reply) => {
    const all = (ctx.data.read('config', VNFLCM.vnfLcmOpOcc()) ?? []).map((o) => ({ key: [o['start-time'] ?? '', o.id] as [string, string], json: renderOpOcc(baseUrl(req), major, o) }));
    return listPage(req, reply, all, OP_OCC_ATTRIBUTES, pageSize);
  });

  app.get<Params>('/vnf_lcm_op_occs/:id', async (req) => renderOpOcc(baseUrl(req), major, readOpOcc(ctx, req.params.id)));

  // retry and rollback hand the occurrence back to the instance's owner: 202, as an operation start.
  app.post<Params>('/vnf_lcm_op_occs/:id/retry', async (req, reply) => accepted(req, reply, (await retryOperation(ctx, req.params.id)).id));
  app.post<Params>('/vnf_lcm_op_occs/:id/rollback', async (req, reply) => accepted(req, reply, (await rollbackOperation(ctx, req.params.id)).id));
  // fail is final at once: 200 with the occurrence (the CLI shows it).
  app.post<Params>('/vnf_lcm_op_occs/:id/fail', async (req) => {
    await failOperation(ctx, req.params.id);
    return renderOpOcc(baseUrl(req), major, readOpOcc(ctx, req.params.id));
  });
  app.post<Params>('/vnf_lcm_op_occs/:id/cancel', async (req) => {
    const occ = readOpOcc(ctx, req.params.id);
    if (!ACTIVE_STATES.has(occ['operation-state']!)) throw conflict(`VNF LCM operation occurrence ${occ.id} is ${occ['operation-state']}: cancel needs it STARTING, PROCESSING or ROLLING_BACK.`);
    throw conflict(`Cancelling VNF LCM operation occurrence ${occ.id} is not supported by this VNF manager: wait for FAILED_TEMP, then fail or roll it back.`);
  });

  // ----- subscriptions -----

  app.post('/subscriptions', async (req, reply) => {
    const body = jsonObject(req.body, 'an LccnSubscriptionRequest');
    const callbackUri = callbackUriOf(body.callbackUri);
    if (body.filter !== undefined && !isObject(body.filter)) throw badRequest('filter must be a JSON object (LifecycleChangeNotificationsFilter).');
    const authentication = authenticationOf(body.authentication);
    // SOL003 5.4.18.3.1: the VNFM tests the callback (GET, 204 expected) before it subscribes.
    const unreachable = await testCallback(ctx, callbackUri, authentication);
    if (unreachable) throw badRequest(`The callbackUri ${callbackUri} did not pass the test GET: ${unreachable}`);
    const sub: Subscription = {
      id: randomUUID(),
      'callback-uri': callbackUri,
      ...(body.filter !== undefined ? { filter: JSON.stringify(body.filter) } : {}),
      ...(authentication !== undefined ? { authentication: JSON.stringify(authentication) } : {}),
      'created-at': now(),
    };
    await retryOnConflict(async () => {
      const tx = ctx.data.transaction('config');
      tx.create(subscriptionPath(sub.id), sub);
      await tx.commit();
    });
    return reply.code(201).header('Location', `${prefix(req)}/subscriptions/${sub.id}`).send(renderSubscription(baseUrl(req), major, sub));
  });

  app.get('/subscriptions', async (req, reply) => {
    const all = (ctx.data.read('config', VNFLCM.subscription()) ?? []).map((s) => ({ key: [s['created-at'] ?? '', s.id] as [string, string], json: renderSubscription(baseUrl(req), major, s) }));
    return listPage(req, reply, all, SUBSCRIPTION_ATTRIBUTES, pageSize);
  });

  app.get<Params>('/subscriptions/:id', async (req) => {
    const sub = ctx.data.read('config', subscriptionPath(req.params.id));
    if (!sub) throw notFound(`Subscription ${req.params.id} not found.`);
    return renderSubscription(baseUrl(req), major, sub);
  });

  app.delete<Params>('/subscriptions/:id', async (req, reply) => {
    const { id } = req.params;
    await retryOnConflict(async () => {
      const tx = ctx.data.transaction('config');
      if (!tx.exists(subscriptionPath(id))) {
        tx.cancel();
        throw notFound(`Subscription ${id} not found.`);
      }
      tx.remove(subscriptionPath(id));
      await tx.commit();
    });
    return reply.code(204).send();
  });
}

export function registerVnfApi(ctx: PluginContext, http: PluginHttp): void {
  const pageSize = Math.max(1, Number(ctx.options['page-size'] ?? 100));
  http.register(
    async (app) => {
      problemScope(ctx, app);
      registerPackageRoutes(ctx, app, pageSize);
    },
    { prefix: '/vnfpkgm/v1' },
  );
  http.register(
    async (app) => {
      problemScope(ctx, app);
      // Discovery needs no Version header (the client's `vnflcm versions` sends 2.0.0 to either).
      app.get('/api_versions', async () => ({ uriPrefix: '/vnflcm', apiVersions: (['v1', 'v2'] as const).map((m) => ({ version: API_VERSIONS[m], isDeprecated: false })) }));
      for (const major of ['v1', 'v2'] as const) {
        app.get(`/${major}/api_versions`, async () => apiVersionsOf(major));
        await app.register(async (scoped) => registerLcmRoutes(ctx, scoped, major, pageSize), { prefix: `/${major}` });
      }
    },
    { prefix: '/vnflcm' },
  );
}
