/**
 * SOL005 VNF package management as Tacker serves it (`/vnfpkgm/v1/vnf_packages`, what
 * `openstack vnf package ...` calls): create, list, show, update, delete, and onboarding by
 * uploading the CSAR (PUT .../package_content). Onboarding is synchronous: the archive is read
 * (csar.ts) and its VNFD parsed (vnfd.ts) before anything is written, so refused content leaves
 * the package CREATED, and a good one is ONBOARDED and ENABLED in one commit (the client's 202
 * then means "done"). Fetching the content from a URI is not supported.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { retryOnConflict } from '../../src/datastore/datastore.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import { resolveDataPath } from '../../src/yang/binding.ts';
import { CsarError, readCsar } from './csar.ts';
import { badRequest, conflict, notFound, packageInUse, ProblemError, readPackage } from './lifecycle.ts';
import { isObject, now, packagePath, VNFLCM, type Json, type VnfPackage } from './model.ts';
import { PACKAGE_ATTRIBUTES, renderPackage } from './render.ts';
import { baseUrl, jsonObject, listPage } from './scope.ts';
import { parseVnfdPackage, VnfdError, type Vnfd } from './vnfd.ts';

/** The largest package upload; the CSAR reader bounds what it inflates to on its own. */
export const MAX_PACKAGE_BYTES = 64 * 1024 * 1024;

type Params = { Params: { id: string } };

const keyValues = (v: unknown, what: string): Json => {
  if (!isObject(v)) throw badRequest(`${what} must be a JSON object of key-value pairs.`);
  return v;
};

/** What the CSAR holds, or a 400 saying why it is refused. */
function vnfdOfUpload(zip: Buffer): Vnfd {
  try {
    return parseVnfdPackage(readCsar(zip));
  } catch (e) {
    if (e instanceof CsarError || e instanceof VnfdError) throw badRequest(`The VNF package content is refused: ${e.message}`);
    throw e;
  }
}

export function registerPackageRoutes(ctx: PluginContext, app: FastifyInstance, pageSize: number): void {
  const packagesPath = resolveDataPath(ctx.schema, VNFLCM.vnfPackage());
  const instancesPath = resolveDataPath(ctx.schema, VNFLCM.vnfInstance());
  const show = (req: FastifyRequest, pkg: VnfPackage) => renderPackage(baseUrl(req), pkg, packageInUse(ctx, pkg));

  /** One config commit on one package, its checks against the package as the transaction reads it. */
  const onPackage = async (id: string, change: (pkg: VnfPackage, tx: ReturnType<PluginContext['data']['transaction']>) => void) => {
    await retryOnConflict(async () => {
      const tx = ctx.data.transaction('config');
      try {
        const pkg = tx.read(packagePath(id));
        if (!pkg) throw notFound(`VNF package ${id} not found.`);
        change(pkg, tx);
      } catch (e) {
        tx.cancel();
        throw e;
      }
      await tx.commit();
    });
  };

  app.addContentTypeParser('application/zip', { parseAs: 'buffer', bodyLimit: MAX_PACKAGE_BYTES }, (_req, body, done) => done(null, body));

  app.post('/vnf_packages', async (req, reply) => {
    const body = jsonObject(req.body, 'a CreateVnfPkgInfoRequest');
    const userDefinedData = body.userDefinedData === undefined ? {} : keyValues(body.userDefinedData, 'userDefinedData');
    const pkg: VnfPackage = { id: randomUUID(), 'onboarding-state': 'CREATED', 'operational-state': 'DISABLED', 'user-defined-data': JSON.stringify(userDefinedData), 'created-at': now() };
    await retryOnConflict(async () => {
      const tx = ctx.data.transaction('config');
      tx.create(packagePath(pkg.id), pkg);
      await tx.commit();
    });
    return reply.code(201).header('Location', `${baseUrl(req)}/vnfpkgm/v1/vnf_packages/${pkg.id}`).send(show(req, pkg));
  });

  app.get('/vnf_packages', async (req, reply) => {
    // Usage from one read of the instances, not one per package.
    const used = new Set((ctx.data.read('config', VNFLCM.vnfInstance()) ?? []).map((i) => i['vnf-pkg-id']));
    const all = (ctx.data.read('config', VNFLCM.vnfPackage()) ?? []).map((p) => ({ key: [p['created-at'] ?? '', p.id] as [string, string], json: renderPackage(baseUrl(req), p, used.has(p.id)) }));
    return listPage(req, reply, all, PACKAGE_ATTRIBUTES, pageSize);
  });

  app.get<Params>('/vnf_packages/:id', async (req) => show(req, readPackage(ctx, req.params.id)));

  /** SOL005 9.4.3.3.5, as Tacker: only a DISABLED package no instance uses. */
  app.delete<Params>('/vnf_packages/:id', async (req, reply) => {
    const { id } = req.params;
    await onPackage(id, (pkg, tx) => {
      if (pkg['operational-state'] === 'ENABLED') throw conflict(`VNF package ${id} is ENABLED: disable it before deleting it.`);
      // An instance made meanwhile on another controller instance fails this commit, and the retry sees it.
      tx.guard(instancesPath);
      if ((tx.read(VNFLCM.vnfInstance()) ?? []).some((i) => i['vnf-pkg-id'] === id)) throw conflict(`VNF package ${id} is IN_USE by VNF instances.`);
      tx.remove(packagePath(id));
    });
    return reply.code(204).send();
  });

  /** SOL005 VnfPkgInfoModifications: operationalState and/or userDefinedData (merged, null removes a key). */
  app.patch<Params>('/vnf_packages/:id', async (req) => {
    const { id } = req.params;
    const body = jsonObject(req.body, 'a VnfPkgInfoModifications');
    const unknown = Object.keys(body).filter((k) => k !== 'operationalState' && k !== 'userDefinedData');
    if (unknown.length) throw badRequest(`Unknown attribute(s) ${unknown.join(', ')} in a VnfPkgInfoModifications.`);
    const state = body.operationalState;
    if (state !== undefined && state !== 'ENABLED' && state !== 'DISABLED') throw badRequest('operationalState must be ENABLED or DISABLED.');
    const userData = body.userDefinedData === undefined ? undefined : keyValues(body.userDefinedData, 'userDefinedData');
    if (state === undefined && userData === undefined) throw badRequest('A VnfPkgInfoModifications needs operationalState or userDefinedData.');
    await onPackage(id, (pkg, tx) => {
      const change: Partial<VnfPackage> = {};
      if (state !== undefined) {
        if (pkg['onboarding-state'] !== 'ONBOARDED') throw conflict(`VNF package ${id} is ${pkg['onboarding-state'] ?? 'CREATED'}: only an ONBOARDED package is enabled or disabled.`);
        if ((pkg['operational-state'] ?? 'DISABLED') === state) throw conflict(`VNF package ${id} is already ${state}.`);
        change['operational-state'] = state;
      }
      if (userData !== undefined) {
        const merged: Json = { ...(pkg['user-defined-data'] ? (JSON.parse(pkg['user-defined-data']) as Json) : {}) };
        for (const [k, v] of Object.entries(userData)) if (v === null) delete merged[k];
        else merged[k] = v;
        change['user-defined-data'] = JSON.stringify(merged);
      }
      tx.merge(packagePath(id), change);
    });
    return { ...(state !== undefined ? { operationalState: state } : {}), ...(userData !== undefined ? { userDefinedData: userData } : {}) };
  });

  app.put<Params>('/vnf_packages/:id/package_content', async (req, reply) => {
    const { id } = req.params;
    if (!Buffer.isBuffer(req.body)) throw new ProblemError(415, 'Unsupported Media Type', 'The package content must be sent as Content-Type: application/zip.');
    const early = readPackage(ctx, id);
    // Before reading the archive: an upload to a package that has content is refused whatever it is.
    if ((early['onboarding-state'] ?? 'CREATED') !== 'CREATED') throw conflict(`VNF package ${id} is ${early['onboarding-state']}: content is uploaded to a CREATED package only.`);
    const vnfd = vnfdOfUpload(req.body);
    await onPackage(id, (pkg, tx) => {
      if ((pkg['onboarding-state'] ?? 'CREATED') !== 'CREATED') throw conflict(`VNF package ${id} is ${pkg['onboarding-state']}: content is uploaded to a CREATED package only.`);
      // One package per VNFD: a concurrent onboarding of the same VNFD fails this commit, and the retry sees it.
      tx.guard(packagesPath);
      const holder = (tx.read(VNFLCM.vnfPackage()) ?? []).find((p) => p.id !== id && p['vnfd-id'] === vnfd.vnfdId);
      if (holder) throw conflict(`VNFD ${vnfd.vnfdId} is already onboarded by VNF package ${holder.id}.`);
      tx.merge(packagePath(id), {
        'onboarding-state': 'ONBOARDED',
        'operational-state': 'ENABLED',
        'vnfd-id': vnfd.vnfdId,
        'vnf-provider': vnfd.provider,
        'vnf-product-name': vnfd.productName,
        'vnf-software-version': vnfd.softwareVersion,
        'vnfd-version': vnfd.vnfdVersion,
        vnfd: JSON.stringify(vnfd),
      } satisfies Partial<VnfPackage>);
    });
    return reply.code(202).send();
  });

  app.post<Params>('/vnf_packages/:id/package_content/upload_from_uri', async (req) => {
    readPackage(ctx, req.params.id);
    throw new ProblemError(501, 'Not Implemented', 'Uploading a VNF package from a URI is not supported: PUT the zip to .../package_content (openstack vnf package upload --path).');
  });

  /** The VNFD is kept as read (the parsed model), not as the package's files. */
  app.get<Params>('/vnf_packages/:id/vnfd', async (req) => {
    const pkg = readPackage(ctx, req.params.id);
    if (pkg['onboarding-state'] !== 'ONBOARDED') throw conflict(`VNF package ${pkg.id} is ${pkg['onboarding-state'] ?? 'CREATED'}: it has no VNFD yet.`);
    throw new ProblemError(406, 'Not Acceptable', "This VNF manager keeps the VNFD as it read it, not the package's files: none can be returned.");
  });
}
