/**
 * Tacker's vnfpkgm/vnflcm APIs over raw HTTP: shapes, statuses, Location/Version/Link headers,
 * paging and filters, and every bad input answered as a ProblemDetails (application/problem+json)
 * with nothing written, checked in the datastore. No executor runs here: occurrences stay
 * STARTING (or whatever state a test commits to drive retry/rollback/fail).
 */
import t, { type Test } from 'tap';
import { instancePath, opOccPath, packagePath, subscriptionPath, VNFLCM } from '../../plugins/vnf-manager/model.ts';
import { createServer } from 'node:http';
import { waitUntil } from '../helpers/process.ts';
import { zip } from '../helpers/zip.ts';
import { csarFiles, sol001Vnfd, startTacker, TOKEN, UUID, type Answer } from './tacker.ts';

type Tap = Test;

/** A ProblemDetails answer with this status whose detail says `detail`. */
function problem(t: Tap, r: Answer, status: number, detail: RegExp, what: string) {
  t.equal(r.status, status, `${what}: ${status}`);
  t.match(r.headers.get('content-type'), /^application\/problem\+json/, `${what}: application/problem+json`);
  t.match(r.json, { status, title: String, detail }, `${what}: the detail says why (${r.json?.detail})`);
}

t.test('vnf packages: create, list, show, update, delete, and the refusals', async (t) => {
  const { c, call, onboard } = await startTacker(t);
  const count = () => (c.data.read('config', VNFLCM.vnfPackage()) ?? []).length;

  const created = await call('POST', '/vnfpkgm/v1/vnf_packages', { userDefinedData: { owner: 'nfv' } });
  t.equal(created.status, 201, 'create: 201');
  const p = created.json;
  t.match(p.id, UUID);
  t.same(p, {
    id: p.id,
    onboardingState: 'CREATED',
    operationalState: 'DISABLED',
    usageState: 'NOT_IN_USE',
    userDefinedData: { owner: 'nfv' },
    _links: { self: { href: created.headers.get('location') }, packageContent: { href: `${created.headers.get('location')}/package_content` } },
  });
  t.match(created.headers.get('location'), new RegExp(`/vnfpkgm/v1/vnf_packages/${p.id}$`), 'Location');
  t.equal(created.headers.get('version'), null, 'vnfpkgm answers carry no Version');
  t.equal((await call('POST', '/vnfpkgm/v1/vnf_packages', {})).status, 201, 'create with {}');

  const listed = await call('GET', '/vnfpkgm/v1/vnf_packages');
  t.equal(listed.status, 200);
  t.ok(Array.isArray(listed.json) && listed.json.length === 2, 'list: a bare array');
  t.same((await call('GET', `/vnfpkgm/v1/vnf_packages/${p.id}`)).json, p, 'show');

  const patched = await call('PATCH', `/vnfpkgm/v1/vnf_packages/${p.id}`, { userDefinedData: { owner: null, tier: 'gold' } });
  t.equal(patched.status, 200, 'PATCH userDefinedData: 200');
  t.same(patched.json, { userDefinedData: { owner: null, tier: 'gold' } }, 'with the modifications');
  t.same((await call('GET', `/vnfpkgm/v1/vnf_packages/${p.id}`)).json.userDefinedData, { tier: 'gold' }, 'merged, null removes a key');

  const before = c.data.read('config', packagePath(p.id));
  for (const [body, detail, what] of [
    ['{"userDefinedData":', /not JSON/, 'not JSON'],
    ['[1]', /JSON object/, 'an array'],
    [{ userDefinedData: 'x' }, /userDefinedData must be a JSON object/, 'userDefinedData not an object'],
  ] as const) {
    problem(t, await call('POST', '/vnfpkgm/v1/vnf_packages', body), 400, detail, `create, ${what}`);
    problem(t, await call('PATCH', `/vnfpkgm/v1/vnf_packages/${p.id}`, body), 400, detail, `PATCH, ${what}`);
  }
  problem(t, await call('PATCH', `/vnfpkgm/v1/vnf_packages/${p.id}`, { operationalState: 'ON' }), 400, /ENABLED or DISABLED/, 'PATCH a bad state');
  problem(t, await call('PATCH', `/vnfpkgm/v1/vnf_packages/${p.id}`, { operationalState: 'ENABLED' }), 409, /CREATED: only an ONBOARDED package/, 'enable a CREATED package');
  problem(t, await call('PATCH', `/vnfpkgm/v1/vnf_packages/${p.id}`, { onboardingState: 'ONBOARDED' }), 400, /Unknown attribute\(s\) onboardingState/, 'PATCH a read-only attribute');
  t.equal(count(), 2, 'nothing created');
  t.same(c.data.read('config', packagePath(p.id)), before, 'nothing changed');

  // Uploads that are refused before anything is read or written.
  problem(t, await call('PUT', `/vnfpkgm/v1/vnf_packages/${p.id}/package_content`, Buffer.from('not a zip at all'), { 'content-type': 'application/zip' }), 400, /content is refused/, 'upload not a zip');
  problem(t, await call('PUT', `/vnfpkgm/v1/vnf_packages/${p.id}/package_content`, '{}'), 415, /application\/zip/, 'upload as JSON');
  problem(t, await call('PUT', '/vnfpkgm/v1/vnf_packages/nope/package_content', Buffer.from('PK'), { 'content-type': 'application/zip' }), 404, /VNF package nope not found/, 'upload to an unknown package');
  problem(t, await call('POST', `/vnfpkgm/v1/vnf_packages/${p.id}/package_content/upload_from_uri`, { addressInformation: 'http://x/y.zip' }), 501, /not supported/, 'upload_from_uri');
  problem(t, await call('GET', `/vnfpkgm/v1/vnf_packages/${p.id}/vnfd`), 409, /no VNFD yet/, 'the VNFD of a CREATED package');
  t.same(c.data.read('config', packagePath(p.id)), before, 'still CREATED, unchanged');

  const { pkgId } = await onboard('vnfd-kept');
  problem(t, await call('PUT', `/vnfpkgm/v1/vnf_packages/${pkgId}/package_content`, Buffer.from('PK'), { 'content-type': 'application/zip' }), 409, /ONBOARDED: content is uploaded to a CREATED package only/, 'upload to an ONBOARDED package');
  problem(t, await call('GET', `/vnfpkgm/v1/vnf_packages/${pkgId}/vnfd`), 406, /keeps the VNFD as it read it/, 'the VNFD files');
  const shown = (await call('GET', `/vnfpkgm/v1/vnf_packages/${pkgId}`)).json;
  t.match(shown, { vnfdId: 'vnfd-kept', vnfProvider: 'Sextant', vnfProductName: 'Sample VNF', vnfSoftwareVersion: '1.0', vnfdVersion: '1.0', onboardingState: 'ONBOARDED', operationalState: 'ENABLED' }, 'an onboarded package shows its VNFD');
  t.ok(shown._links.vnfd, 'and links it');
  problem(t, await call('DELETE', `/vnfpkgm/v1/vnf_packages/${pkgId}`), 409, /ENABLED: disable it/, 'delete an ENABLED package');
  problem(t, await call('PATCH', `/vnfpkgm/v1/vnf_packages/${pkgId}`, { operationalState: 'ENABLED' }), 409, /already ENABLED/, 'enable it again');

  // In use: an instance of it keeps it even DISABLED.
  const inst = await call('POST', '/vnflcm/v1/vnf_instances', { vnfdId: 'vnfd-kept' }, { version: '1.3.0' });
  t.equal(inst.status, 201);
  t.same((await call('PATCH', `/vnfpkgm/v1/vnf_packages/${pkgId}`, { operationalState: 'DISABLED' })).json, { operationalState: 'DISABLED' }, 'disable: 200 with the change');
  t.equal((await call('GET', `/vnfpkgm/v1/vnf_packages/${pkgId}`)).json.usageState, 'IN_USE', 'IN_USE');
  problem(t, await call('DELETE', `/vnfpkgm/v1/vnf_packages/${pkgId}`), 409, /IN_USE/, 'delete an IN_USE package');
  problem(t, await call('POST', '/vnflcm/v1/vnf_instances', { vnfdId: 'vnfd-kept' }, { version: '1.3.0' }), 409, /DISABLED/, 'no new instance of a DISABLED package');
  t.ok(c.data.read('config', packagePath(pkgId)), 'still there');

  t.equal((await call('DELETE', `/vnfpkgm/v1/vnf_packages/${p.id}`)).status, 204, 'delete a CREATED package: 204');
  t.equal(c.data.read('config', packagePath(p.id)), undefined, 'gone');
  problem(t, await call('DELETE', `/vnfpkgm/v1/vnf_packages/${p.id}`), 404, /not found/, 'delete it again');
  problem(t, await call('GET', `/vnfpkgm/v1/vnf_packages/${p.id}`), 404, /not found/, 'show it');
});

t.test('onboarding: a SOL004 package uploaded, the refused ones leave nothing written', async (t) => {
  const { c, call } = await startTacker(t);
  const csar = (files: Record<string, string>) => zip(Object.entries(files).map(([name, data]) => ({ name, data })));
  const upload = (id: string, body: Buffer) => call('PUT', `/vnfpkgm/v1/vnf_packages/${id}/package_content`, body, { 'content-type': 'application/zip', accept: 'application/zip' });
  const create = async () => (await call('POST', '/vnfpkgm/v1/vnf_packages', {})).json.id as string;

  const id = await create();
  const refusals = [
    [csar({ 'README.txt': 'hello' }), /content is refused/, 'no TOSCA definitions'],
    [csar(csarFiles('tosca_definitions_version: [')), /content is refused/, 'a VNFD that is not YAML'],
    [csar(csarFiles('description: YAML, but no TOSCA\n')), /content is refused: .*tosca_definitions_version/, 'YAML that is not TOSCA'],
    [csar(csarFiles(sol001Vnfd('vnfd-web', false))), /content is refused: .*VDU/i, 'a VNFD without a VDU'],
  ] as const;
  for (const [body, detail, what] of refusals) problem(t, await upload(id, body), 400, detail, what);
  t.same(c.data.read('config', packagePath(id)), { id, 'onboarding-state': 'CREATED', 'operational-state': 'DISABLED', 'user-defined-data': '{}', 'created-at': c.data.read('config', packagePath(id))!['created-at'] }, 'still CREATED, nothing written');

  const ok = await upload(id, csar(csarFiles(sol001Vnfd('vnfd-web'))));
  t.equal(ok.status, 202, 'upload: 202');
  t.equal(ok.text, '', 'empty');
  const pkg = c.data.read('config', packagePath(id))!;
  t.match(pkg, { 'onboarding-state': 'ONBOARDED', 'operational-state': 'ENABLED', 'vnfd-id': 'vnfd-web', 'vnf-provider': 'Sextant Labs', 'vnf-product-name': 'Web VNF', 'vnf-software-version': '2.0', 'vnfd-version': '1.1' }, 'onboarded in one commit');
  t.match(JSON.parse(pkg.vnfd!), { vnfdId: 'vnfd-web', flavourId: 'simple', vdus: [{ id: 'VDU1', min: 1, max: 3 }], aspects: [{ id: 'web_aspect', maxScaleLevel: 2 }] }, 'the VNFD as read');
  t.match((await call('GET', `/vnfpkgm/v1/vnf_packages/${id}`)).json, { onboardingState: 'ONBOARDED', operationalState: 'ENABLED', vnfdId: 'vnfd-web' }, 'shown');
  problem(t, await upload(id, csar(csarFiles(sol001Vnfd('vnfd-web')))), 409, /ONBOARDED/, 'uploading again');

  const second = await create();
  problem(t, await upload(second, csar(csarFiles(sol001Vnfd('vnfd-web')))), 409, new RegExp(`VNFD vnfd-web is already onboarded by VNF package ${id}`), 'a VNFD another package holds');
  t.equal(c.data.read('config', packagePath(second))!['onboarding-state'], 'CREATED', 'the second stays CREATED');
  const inst = await call('POST', '/vnflcm/v1/vnf_instances', { vnfdId: 'vnfd-web' }, { version: '1.3.0' });
  t.match(inst.json, { vnfdId: 'vnfd-web', vnfPkgId: id, vnfProvider: 'Sextant Labs', vnfProductName: 'Web VNF', vnfSoftwareVersion: '2.0', vnfdVersion: '1.1' }, 'an instance of the uploaded VNFD');
});

t.test('vnf instances and operations under v1 and v2', async (t) => {
  const { c, v1, v2, registerVim, onboard } = await startTacker(t);
  const { pkgId, vnfdId } = await onboard();
  const instances = () => (c.data.read('config', VNFLCM.vnfInstance()) ?? []).length;
  const occs = () => (c.data.read('config', VNFLCM.vnfLcmOpOcc()) ?? []).length;

  const created = await v1('POST', '/vnf_instances', { vnfdId, vnfInstanceName: 'web', vnfInstanceDescription: 'a web VNF', metadata: { tier: 'front' } });
  t.equal(created.status, 201, 'create: 201');
  t.equal(created.headers.get('version'), '1.3.0', 'Version echoed');
  const id = created.json.id;
  t.match(created.headers.get('location'), new RegExp(`/vnflcm/v1/vnf_instances/${id}$`), 'Location');
  t.same(created.json, {
    id,
    vnfInstanceName: 'web',
    vnfInstanceDescription: 'a web VNF',
    vnfdId,
    vnfProvider: 'Sextant',
    vnfProductName: 'Sample VNF',
    vnfSoftwareVersion: '1.0',
    vnfdVersion: '1.0',
    vnfPkgId: pkgId,
    instantiationState: 'NOT_INSTANTIATED',
    vimConnectionInfo: [],
    metadata: { tier: 'front' },
    _links: { self: { href: created.headers.get('location') }, instantiate: { href: `${created.headers.get('location')}/instantiate` } },
  });
  t.same((await v1('GET', `/vnf_instances/${id}`)).json, created.json, 'show');
  t.same((await v1('GET', '/vnf_instances')).json, [created.json], 'list: a bare array');
  const viaV2 = await v2('GET', `/vnf_instances/${id}`);
  t.equal(viaV2.headers.get('version'), '2.0.0');
  t.same(viaV2.json.vimConnectionInfo, {}, 'v2: vimConnectionInfo is a map');
  t.match(viaV2.json._links.self.href, /\/vnflcm\/v2\//);

  problem(t, await v1('POST', '/vnf_instances', { vnfdId: 'unknown-vnfd' }), 400, /not onboarded/, 'an unknown VNFD');
  problem(t, await v1('POST', '/vnf_instances', { vnfInstanceName: 'x' }), 400, /vnfdId is missing/, 'no vnfdId');
  problem(t, await v1('POST', '/vnf_instances', { vnfdId, metadata: [1] }), 400, /metadata must be a JSON object/, 'metadata a list');
  problem(t, await v1('POST', '/vnf_instances', 'vnfdId'), 400, /not JSON/, 'not JSON');
  t.equal(instances(), 1, 'nothing created');

  // No VIM yet: an instantiation has nowhere to go.
  problem(t, await v1('POST', `/vnf_instances/${id}/instantiate`, { flavourId: 'simple' }), 400, /no default VIM/, 'instantiate without a VIM');
  const vimId = await registerVim();
  problem(t, await v1('POST', `/vnf_instances/${id}/instantiate`, { flavourId: 'other' }), 400, /not a deployment flavour/, 'an unknown flavour');
  problem(t, await v1('POST', `/vnf_instances/${id}/instantiate`, '[]'), 400, /JSON object/, 'instantiate with a list');
  problem(t, await v1('POST', `/vnf_instances/${id}/terminate`, { terminationType: 'FORCEFUL' }), 409, /NOT_INSTANTIATED: terminate needs it INSTANTIATED/, 'terminate a NOT_INSTANTIATED instance');
  problem(t, await v1('POST', `/vnf_instances/${id}/scale`, { type: 'UP', aspectId: 'worker' }), 400, /SCALE_OUT or SCALE_IN/, 'a bad scale type');
  problem(t, await v1('POST', '/vnf_instances/nope/heal', {}), 404, /VNF instance nope not found/, 'heal an unknown instance');
  t.equal(occs(), 0, 'no occurrence written');
  t.equal(c.data.read('config', instancePath(id))!['current-operation'], undefined, 'the instance not held');

  const inst = await v1('POST', `/vnf_instances/${id}/instantiate`, { flavourId: 'simple' });
  t.equal(inst.status, 202, 'instantiate: 202');
  t.equal(inst.text, '', 'with an empty body');
  const occId = /\/vnflcm\/v1\/vnf_lcm_op_occs\/([^/]+)$/.exec(inst.headers.get('location') ?? '')?.[1];
  t.match(occId, UUID, "Location: the occurrence's");
  t.equal(c.data.read('config', instancePath(id))!['vim-id'], vimId, 'the default VIM chosen');

  const occ = await v1('GET', `/vnf_lcm_op_occs/${occId}`);
  t.equal(occ.status, 200);
  t.match(occ.json, {
    id: occId,
    // In flight: the autoscaling plugin is not loaded here, so it waits for its clusters.
    operationState: /^(STARTING|PROCESSING)$/,
    stateEnteredTime: String,
    startTime: String,
    vnfInstanceId: id,
    grantId: null,
    operation: 'INSTANTIATE',
    isAutomaticInvocation: false,
    operationParams: { flavourId: 'simple' },
    isCancelPending: false,
  });
  t.same(Object.keys(occ.json._links).sort(), ['self', 'vnfInstance'], 'no retry/rollback/fail links while in flight');
  t.same((await v1('GET', '/vnf_lcm_op_occs')).json.map((o: { id: string }) => o.id), [occId], 'op list');
  t.equal((await v1('GET', `/vnf_instances/${id}`)).json.vimConnectionInfo[0].vimId, vimId, 'v1: the VIM in the list');
  t.match((await v2('GET', `/vnf_instances/${id}`)).json.vimConnectionInfo, { [vimId]: { vimId } }, 'v2: in the map');

  problem(t, await v1('POST', `/vnf_instances/${id}/instantiate`, {}), 409, /busy: operation INSTANTIATE/, 'a second operation while one runs');
  problem(t, await v1('DELETE', `/vnf_instances/${id}`), 409, /busy/, 'delete while busy');
  problem(t, await v1('POST', `/vnf_lcm_op_occs/${occId}/cancel`, { cancelMode: 'GRACEFUL' }), 409, /not supported/, 'cancel');
  problem(t, await v1('POST', `/vnf_lcm_op_occs/${occId}/retry`), 409, /(STARTING|PROCESSING): retry needs it FAILED_TEMP/, 'retry an occurrence in flight');
  problem(t, await v1('GET', '/vnf_lcm_op_occs/nope'), 404, /nope not found/, 'an unknown occurrence');
  t.equal(occs(), 1, 'still one occurrence');

  // What the executor would leave: the instantiation FAILED_TEMP.
  const fail = c.data.transaction('config');
  fail.merge(opOccPath(occId!), { 'operation-state': 'FAILED_TEMP', error: { status: 500, title: 'Internal Server Error', detail: 'compute unreachable' } });
  await fail.commit();
  const failed = (await v1('GET', `/vnf_lcm_op_occs/${occId}`)).json;
  t.same(failed.error, { status: 500, title: 'Internal Server Error', detail: 'compute unreachable' }, 'the error');
  t.same(Object.keys(failed._links).sort(), ['fail', 'retry', 'rollback', 'self', 'vnfInstance'], 'FAILED_TEMP: retry, rollback, fail links');
  const filtered = await v1('GET', `/vnf_lcm_op_occs?filter=${encodeURIComponent('(eq,operationState,FAILED_TEMP)')}`);
  t.same(filtered.json.map((o: { id: string }) => o.id), [occId], 'filtered on operationState');
  const retried = await v1('POST', `/vnf_lcm_op_occs/${occId}/retry`);
  t.equal(retried.status, 202, 'retry: 202');
  t.equal(retried.text, '', 'empty');
  t.equal(c.data.read('config', opOccPath(occId!))!['operation-state'], 'PROCESSING', 'PROCESSING again');

  const again = c.data.transaction('config');
  again.merge(opOccPath(occId!), { 'operation-state': 'FAILED_TEMP' });
  await again.commit();
  const failedNow = await v2('POST', `/vnf_lcm_op_occs/${occId}/fail`);
  t.equal(failedNow.status, 200, 'fail: 200');
  t.match(failedNow.json, { id: occId, operationState: 'FAILED' }, 'with the occurrence');
  t.equal(c.data.read('config', instancePath(id))!['current-operation'], undefined, 'the instance released');
  problem(t, await v1('POST', `/vnf_lcm_op_occs/${occId}/rollback`), 409, /FAILED: rollback needs it FAILED_TEMP/, 'rollback a FAILED occurrence');
  problem(t, await v1('POST', `/vnf_lcm_op_occs/${occId}/cancel`), 409, /FAILED: cancel needs/, 'cancel a FAILED occurrence');

  // An instantiated instance as the executor leaves it.
  const done = c.data.transaction('config');
  done.merge(instancePath(id), {
    'instantiation-state': 'INSTANTIATED',
    'instantiated-vnf-info': { 'scale-status': [{ 'aspect-id': 'worker', 'scale-level': 1 }], 'vnfc-resource-info': [{ id: 'vnfc-1', 'vdu-id': 'VDU1', compute: 'compute-1', port: 'port-1' }] },
  });
  await done.commit();
  const shown = (await v1('GET', `/vnf_instances/${id}`)).json;
  t.same(shown.instantiatedVnfInfo, {
    flavourId: 'simple',
    vnfState: 'STARTED',
    scaleStatus: [{ aspectId: 'worker', scaleLevel: 1 }],
    vnfcResourceInfo: [{ id: 'vnfc-1', vduId: 'VDU1', computeResource: { vimConnectionId: vimId, resourceId: 'port-1', vimLevelResourceType: 'OS::Nova::Server' }, metadata: { compute: 'compute-1' } }],
  });
  t.same(Object.keys(shown._links).sort(), ['heal', 'scale', 'self', 'terminate'], 'INSTANTIATED: terminate, scale, heal links');
  problem(t, await v1('DELETE', `/vnf_instances/${id}`), 409, /INSTANTIATED: terminate it/, 'delete an INSTANTIATED instance');
  problem(t, await v1('POST', `/vnf_instances/${id}/scale`, { type: 'SCALE_OUT', aspectId: 'worker', numberOfSteps: 2 }), 400, /max_scale_level 2/, 'scale past the max level');
  problem(t, await v1('POST', `/vnf_instances/${id}/heal`, { vnfcInstanceId: ['vnfc-9'] }), 400, /vnfc-9: no such VNFC/, 'heal an unknown VNFC');
  problem(t, await v1('POST', `/vnf_instances/${id}/scale`, { type: 'SCALE_OUT', aspectId: 'nope' }), 400, /aspectId nope is not a scaling aspect of VNFD .* \(it has worker\)/, 'scale an unknown aspect');
  problem(t, await v1('POST', `/vnf_instances/${id}/instantiate`, { flavourId: 'simple' }), 409, /is INSTANTIATED: instantiate needs it NOT_INSTANTIATED/, 'instantiate twice');
  t.equal(c.data.read('config', instancePath(id))!['current-operation'], undefined, 'and none of them started an operation');

  const scaled = await v2('POST', `/vnf_instances/${id}/scale`, { type: 'SCALE_OUT', aspectId: 'worker' });
  t.equal(scaled.status, 202, 'scale via v2: 202');
  t.match(scaled.headers.get('location'), /\/vnflcm\/v2\/vnf_lcm_op_occs\//, 'a v2 Location');
  const heldBy = c.data.read('config', instancePath(id))!['current-operation'];
  t.match(c.data.read('config', opOccPath(heldBy!)), { operation: 'SCALE', 'operation-params': JSON.stringify({ type: 'SCALE_OUT', aspectId: 'worker', numberOfSteps: 1 }) }, 'the SCALE occurrence');

  // PATCH: on another instance; the name changes in the commit that starts MODIFY_INFO.
  const other = (await v1('POST', '/vnf_instances', { vnfdId })).json.id;
  const modified = await v1('PATCH', `/vnf_instances/${other}`, { vnfInstanceName: 'renamed', metadata: { a: 1 } });
  t.equal(modified.status, 202, 'PATCH: 202');
  t.equal(modified.text, '');
  t.match(modified.headers.get('location'), /\/vnf_lcm_op_occs\//, 'Location of the MODIFY_INFO occurrence');
  t.match((await v1('GET', `/vnf_instances/${other}`)).json, { vnfInstanceName: 'renamed', metadata: { a: 1 } });
  const modifyOcc = modified.headers.get('location')!.split('/').pop()!;
  await waitUntil('MODIFY_INFO COMPLETED', () => c.data.read('config', opOccPath(modifyOcc))?.['operation-state'] === 'COMPLETED');
  t.equal(c.data.read('config', instancePath(other))!['current-operation'], undefined, 'MODIFY_INFO COMPLETED, the instance free');
  t.equal((await v1('PATCH', `/vnf_instances/${other}`, { vnfInstanceName: 'again' })).status, 202, 'so a second PATCH is accepted');

  const third = (await v1('POST', '/vnf_instances', { vnfdId })).json.id;
  problem(t, await v1('PATCH', `/vnf_instances/${third}`, { flavourId: 'x' }), 400, /Unknown attribute\(s\) flavourId/, 'PATCH an unknown attribute');
  const deleted = await v1('DELETE', `/vnf_instances/${third}`);
  t.equal(deleted.status, 204, 'delete: 204');
  t.equal(c.data.read('config', instancePath(third)), undefined, 'gone');
  problem(t, await v1('GET', `/vnf_instances/${third}`), 404, /not found/, 'show it');
});

t.test('the Version header (SOL013 4.2) and api_versions', async (t) => {
  const { call, v1, v2 } = await startTacker(t);
  t.equal((await call('GET', '/vnflcm/v1/vnf_instances')).status, 200, 'v1 without Version: accepted');
  problem(t, await call('GET', '/vnflcm/v2/vnf_instances'), 400, /Version header is mandatory/, 'v2 without Version');
  problem(t, await v1('GET', '/vnf_instances', undefined, { version: '2.0.0' }), 406, /Unsupported version "2.0.0": \/vnflcm\/v1 serves version 1.3.0/, 'v1 with 2.0.0');
  problem(t, await v2('GET', '/vnf_instances', undefined, { version: '3.0.0' }), 406, /Unsupported version/, 'v2 with 3.0.0');
  problem(t, await v2('GET', '/vnf_instances', undefined, { version: 'latest' }), 406, /Unsupported version/, 'not x.y.z');
  const wrong = await v2('GET', '/vnf_instances', undefined, { version: '1.3.0' });
  t.equal(wrong.headers.get('version'), '2.0.0', 'errors carry the served version too');
  t.equal((await v1('GET', '/vnf_instances', undefined, { version: '1.2.0' })).status, 200, 'a v1 minor of 1: accepted');
  problem(t, await v1('POST', '/vnf_instances', { vnfdId: 'x' }, { version: '9.0.0' }), 406, /Unsupported version/, 'checked before the body');

  t.same((await call('GET', '/vnflcm/api_versions', undefined, { version: '2.0.0' })).json, { uriPrefix: '/vnflcm', apiVersions: [{ version: '1.3.0', isDeprecated: false }, { version: '2.0.0', isDeprecated: false }] });
  t.same((await call('GET', '/vnflcm/v1/api_versions', undefined, { version: '2.0.0' })).json, { uriPrefix: '/vnflcm/v1', apiVersions: [{ version: '1.3.0', isDeprecated: false }] }, 'v1 (the CLI sends 2.0.0 there)');
  t.same((await call('GET', '/vnflcm/v2/api_versions')).json, { uriPrefix: '/vnflcm/v2', apiVersions: [{ version: '2.0.0', isDeprecated: false }] }, 'v2, no Version needed');
});

t.test('authentication and unknown routes', async (t) => {
  const { base, call } = await startTacker(t);
  for (const path of ['/vnflcm/v1/vnf_instances', '/vnfpkgm/v1/vnf_packages', '/vnflcm/v2/vnf_lcm_op_occs']) {
    const r = await fetch(base + path, { headers: { version: '2.0.0' } });
    const text = await r.text();
    problem(t, { status: r.status, headers: r.headers, text, json: JSON.parse(text) }, 401, /requires authentication/, `${path} without a token`);
    const wrong = await fetch(base + path, { headers: { 'x-auth-token': `${TOKEN}-not` } });
    t.equal(wrong.status, 401, `${path} with a wrong token`);
  }
  problem(t, await call('GET', '/vnflcm/v1/nothing'), 404, /No such resource/, 'an unknown vnflcm route');
  problem(t, await call('GET', '/vnfpkgm/v1/nothing'), 404, /No such resource/, 'an unknown vnfpkgm route');
});

t.test('paging (nextpage_opaque_marker, Link rel="next") and filters', async (t) => {
  const { c, v1, onboard } = await startTacker(t, ['--vnf-page-size=2']);
  const { vnfdId } = await onboard();
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await v1('POST', '/vnf_instances', { vnfdId, vnfInstanceName: `vnf-${i}` })).json.id);

  const seen: string[] = [];
  let url: string | undefined = '/vnf_instances';
  let pages = 0;
  while (url) {
    const r = await v1('GET', url);
    t.equal(r.status, 200);
    t.ok(r.json.length <= 2, 'at most --vnf-page-size per page');
    seen.push(...r.json.map((i: { id: string }) => i.id));
    const link = r.headers.get('link');
    const m = link ? /^<([^>]+)>; rel="next"$/.exec(link) : null;
    if (link) t.ok(m, `a Link rel="next": ${link}`);
    url = m ? new URL(m[1]!).pathname.replace('/vnflcm/v1', '') + new URL(m[1]!).search : undefined;
    pages++;
  }
  t.equal(pages, 3, 'three pages');
  t.same(seen.sort(), [...ids].sort(), 'every instance once');

  // The marker survives the entry it names being deleted.
  const first = await v1('GET', '/vnf_instances');
  const next = /nextpage_opaque_marker=([^&>]+)/.exec(first.headers.get('link')!)![1];
  const deletedName: string = first.json[1].vnfInstanceName;
  await v1('DELETE', `/vnf_instances/${first.json[1].id}`);
  const after = await v1('GET', `/vnf_instances?nextpage_opaque_marker=${next}`);
  t.equal(after.status, 200, 'a marker past a deleted entry still works');
  t.notOk(after.json.some((i: { id: string }) => first.json.some((f: { id: string }) => f.id === i.id)), 'and does not repeat the first page');

  problem(t, await v1('GET', '/vnf_instances?nextpage_opaque_marker=garbled!'), 400, /not a marker this server gave/, 'a garbled marker');
  problem(t, await v1('GET', `/vnf_instances?nextpage_opaque_marker=${Buffer.from('{"a":1}').toString('base64url')}`), 400, /not a marker/, 'a marker of the wrong shape');
  problem(t, await v1('GET', '/vnf_instances?nextpage_opaque_marker=a&nextpage_opaque_marker=b'), 400, /once/, 'two markers');

  const q = (f: string) => `/vnf_instances?filter=${encodeURIComponent(f)}`;
  /** Every page of a filtered list: the filter goes along in the next-page links. */
  const names = async (f: string) => {
    const out: string[] = [];
    for (let path: string | undefined = q(f); path; ) {
      const r = await v1('GET', path);
      t.equal(r.status, 200, `filter ${f}`);
      out.push(...r.json.map((i: { vnfInstanceName: string }) => i.vnfInstanceName));
      const link = r.headers.get('link');
      path = link ? (() => { const u = new URL(/^<([^>]+)>/.exec(link)![1]!); t.match(u.searchParams.get('filter'), f, 'the filter kept'); return u.pathname.replace('/vnflcm/v1', '') + u.search; })() : undefined;
    }
    return out.sort();
  };
  const left = ['vnf-0', 'vnf-1', 'vnf-2', 'vnf-3', 'vnf-4'].filter((n) => n !== deletedName);
  const [a, b] = [left[0]!, left[3]!];
  t.same(await names(`(eq,vnfInstanceName,${a})`), [a], 'eq');
  t.same(await names(`(in,vnfInstanceName,${left.join(',')})`), left, 'in, over two pages');
  t.same(await names(`(nin,vnfInstanceName,${a},${b})`), left.slice(1, 3), 'nin');
  t.same(await names(`(neq,vnfInstanceName,${a});(eq,instantiationState,NOT_INSTANTIATED);(cont,vnfInstanceName,'${b.slice(2)}')`), [b], 'neq, eq, cont conjoined; a quoted value');
  t.same(await names(`(eq,vnfdId,${vnfdId});(eq,vnfInstanceName,${b})`), [b], 'on vnfdId');
  t.same(await names('(eq,instantiationState,INSTANTIATED)'), [], 'none instantiated');
  t.same(await names("(eq,vnfInstanceName,'a,b''c')"), [], 'a quoted value with a comma and a quote');
  for (const [f, detail] of [
    ['eq,vnfInstanceName,x', /expected "\("/],
    ['(eq,vnfInstanceName,x', /expected "," or "\)"/],
    ['(like,vnfInstanceName,x)', /unknown operator "like"/],
    ['(eq,color,red)', /unknown attribute "color"/],
    ['(eq,vnfInstanceName)', /needs a value/],
    ['(eq,vnfInstanceName,a,b)', /eq takes one value/],
    ['(eq,vnfInstanceName,x)(eq,id,y)', /expected ";"/],
    ["(eq,vnfInstanceName,'x)", /not closed/],
  ] as const)
    problem(t, await v1('GET', q(f)), 400, detail, `filter ${f}`);
  t.equal((c.data.read('config', VNFLCM.vnfInstance()) ?? []).length, 4, 'lists write nothing');
});

t.test('subscriptions', async (t) => {
  const { c, v1, v2 } = await startTacker(t);
  const count = () => (c.data.read('config', VNFLCM.subscription()) ?? []).length;
  // The subscriber: the test GET (SOL003 5.4.18.3.1) gets 204 on /notify, 404 elsewhere.
  const tests: string[] = [];
  const subscriber = createServer((r, res) => {
    tests.push(`${r.method} ${r.url} ${r.headers.authorization ?? ''}`);
    res.writeHead(r.url === '/notify' ? 204 : 404).end();
  });
  await new Promise<void>((r) => subscriber.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => subscriber.close(r)));
  const at = (path: string) => `http://127.0.0.1:${(subscriber.address() as { port: number }).port}${path}`;
  const req = {
    callbackUri: at('/notify'),
    filter: { operationTypes: ['INSTANTIATE'], operationStates: ['COMPLETED'] },
    authentication: { authType: ['BASIC'], paramsBasic: { userName: 'nfvo', password: 'sub-secret-81f2' } },
  };
  const created = await v1('POST', '/subscriptions', req);
  t.equal(created.status, 201, 'POST: 201');
  const id = created.json.id;
  t.same(tests, [`GET /notify Basic ${Buffer.from('nfvo:sub-secret-81f2').toString('base64')}`], 'the callback was tested first: a GET with the credentials');
  t.same(created.json, { id, filter: req.filter, callbackUri: req.callbackUri, _links: { self: { href: created.headers.get('location') } } }, 'an LccnSubscription, no credentials');
  t.notMatch(created.text, /sub-secret/, 'the password never comes back');
  t.match(c.data.read('config', subscriptionPath(id)), { 'callback-uri': req.callbackUri, authentication: /BASIC/ }, 'stored');
  t.same((await v1('GET', '/subscriptions')).json, [created.json], 'list');
  t.match((await v2('GET', `/subscriptions/${id}`)).json, { id, callbackUri: req.callbackUri, _links: { self: { href: /\/vnflcm\/v2\/subscriptions\// } } }, 'show via v2');

  for (const [body, detail, what] of [
    [{}, /callbackUri is missing/, 'no callbackUri'],
    [{ callbackUri: 'not a url' }, /is not a URL/, 'callbackUri not a URL'],
    [{ callbackUri: 'ftp://h/x' }, /not an http or https URL/, 'an ftp callbackUri'],
    [{ callbackUri: 'http://h/x', filter: 'all' }, /filter must be a JSON object/, 'filter a string'],
    [{ callbackUri: 'http://h/x', authentication: { authType: ['OAUTH2_CLIENT_CREDENTIALS'] } }, /not supported \(BASIC only\)/, 'OAuth2'],
    [{ callbackUri: 'http://h/x', authentication: { authType: [] } }, /non-empty authType/, 'no authType'],
    ['{', /not JSON/, 'not JSON'],
    [{ callbackUri: at('/elsewhere') }, /did not pass the test GET/, 'a callback that answers the test GET with 404'],
    [{ callbackUri: 'http://127.0.0.1:1/notify' }, /did not pass the test GET/, 'a callback nobody listens on'],
  ] as const)
    problem(t, await v1('POST', '/subscriptions', body), 400, detail, what);
  t.equal(count(), 1, 'nothing written');

  t.equal((await v1('DELETE', `/subscriptions/${id}`)).status, 204, 'DELETE: 204');
  t.equal(count(), 0, 'gone');
  problem(t, await v1('DELETE', `/subscriptions/${id}`), 404, /not found/, 'DELETE again');
  problem(t, await v1('GET', `/subscriptions/${id}`), 404, /not found/, 'show it');
});
