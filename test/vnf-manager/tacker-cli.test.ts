/**
 * Debian's real `openstack` CLI (python-tackerclient 1.12) against Sextant's vnfpkgm/vnflcm APIs,
 * `--os-auth-type none --os-endpoint <tacker url>` on a controller with --api-noauth: vnf package
 * create/upload/list/show/delete, vnflcm create/list/show/instantiate/delete, op list/show,
 * versions, and `--os-tacker-api-version 2 vnflcm list`; asserted on the CLI's output and exit
 * code and on the datastore. The package is zipped by Debian's Python zipfile. The autoscaling
 * plugin is not loaded here, so the instantiation's occurrence stays in flight (PROCESSING,
 * waiting for the clusters its VDUs need).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { instancePath, packagePath, VNFLCM } from '../../plugins/vnf-manager/model.ts';
import { json, openstackCli, PYTHON } from '../helpers/openstack-cli.ts';
import { tempDir, writeFiles } from '../helpers/tmp.ts';
import { csarFiles, sol001Vnfd, startTacker, UUID } from './tacker.ts';

t.test('openstack vnf package and vnflcm against Sextant', async (t) => {
  const { c, base, registerVim } = await startTacker(t, ['--api-noauth']);
  const vimId = await registerVim();
  const home = tempDir(t, 'sextant-vnf-cli-');
  writeFiles(join(home, 'pkg'), csarFiles(sol001Vnfd('vnfd-cli-web')));
  writeFiles(home, { 'instantiate.json': JSON.stringify({ flavourId: 'simple' }) });
  // Debian's zipfile, as an operator would build the package.
  execFileSync(PYTHON, ['-c', 'import os, sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:\n  for d, _, fs in os.walk("pkg"):\n    for f in fs: p = os.path.join(d, f); z.write(p, os.path.relpath(p, "pkg"))', 'web.zip'], { cwd: home });
  const openstack = openstackCli(home, ['--os-auth-type', 'none', '--os-endpoint', base]);

  const created = await openstack('vnf', 'package', 'create', '--user-data', 'owner=nfv', '-f', 'json');
  t.equal(created.code, 0, `vnf package create exits 0 ${created.stderr}`);
  const pkg = json(created);
  t.match(pkg, { ID: UUID, 'Onboarding State': 'CREATED', 'Operational State': 'DISABLED', 'Usage State': 'NOT_IN_USE' }, 'create shows the package');
  t.match(JSON.stringify(pkg), /owner/, 'with its user data');

  const uploaded = await openstack('vnf', 'package', 'upload', '--path', join(home, 'web.zip'), pkg.ID);
  t.equal(uploaded.code, 0, `vnf package upload exits 0 ${uploaded.stderr}`);
  t.match(uploaded.stdout, /Upload request for VNF package .* has been accepted/, 'the confirmation');
  t.match(c.data.read('config', packagePath(pkg.ID)), { 'onboarding-state': 'ONBOARDED', 'operational-state': 'ENABLED', 'vnfd-id': 'vnfd-cli-web' }, 'onboarded');

  const listed = await openstack('vnf', 'package', 'list', '-f', 'json');
  t.equal(listed.code, 0, 'vnf package list exits 0');
  t.match(json(listed), [{ Id: pkg.ID, 'Onboarding State': 'ONBOARDED', 'Operational State': 'ENABLED' }], 'list');
  const shown = await openstack('vnf', 'package', 'show', pkg.ID, '-f', 'json');
  t.equal(shown.code, 0, 'vnf package show exits 0');
  t.match(json(shown), { ID: pkg.ID, 'VNFD ID': 'vnfd-cli-web', 'VNF Provider': 'Sextant Labs', 'VNF Product Name': 'Web VNF', 'Onboarding State': 'ONBOARDED' }, 'show');

  const again = await openstack('vnf', 'package', 'upload', '--path', join(home, 'web.zip'), pkg.ID);
  t.not(again.code, 0, 'uploading to an ONBOARDED package fails');
  t.match(again.stderr, /ONBOARDED: content is uploaded to a CREATED package only/, "with the ProblemDetails' detail");

  const vnf = await openstack('vnflcm', 'create', '--name', 'web-1', '--description', 'first web', 'vnfd-cli-web', '-f', 'json');
  t.equal(vnf.code, 0, `vnflcm create exits 0 ${vnf.stderr}`);
  const inst = json(vnf);
  t.match(inst, { ID: UUID, 'VNF Instance Name': 'web-1', 'VNF Instance Description': 'first web', 'VNFD ID': 'vnfd-cli-web', 'Instantiation State': 'NOT_INSTANTIATED', 'VNF Provider': 'Sextant Labs' }, 'create shows the instance');
  t.ok(c.data.read('config', instancePath(inst.ID)), 'stored');

  const vnfs = await openstack('vnflcm', 'list', '-f', 'json');
  t.equal(vnfs.code, 0, 'vnflcm list exits 0');
  t.match(json(vnfs), [{ ID: inst.ID, 'VNF Instance Name': 'web-1', 'Instantiation State': 'NOT_INSTANTIATED', 'VNFD ID': 'vnfd-cli-web' }], 'vnflcm list');
  const vnf2 = await openstack('--os-tacker-api-version', '2', 'vnflcm', 'list', '-f', 'json');
  t.equal(vnf2.code, 0, `v2 vnflcm list exits 0 ${vnf2.stderr}`);
  t.match(json(vnf2), [{ ID: inst.ID }], 'v2 vnflcm list');
  const vnfShow = await openstack('vnflcm', 'show', inst.ID, '-f', 'json');
  t.equal(vnfShow.code, 0, 'vnflcm show exits 0');
  t.match(json(vnfShow), { ID: inst.ID, 'VNF Instance Name': 'web-1', 'VNF Product Name': 'Web VNF', 'VIM Connection Info': [] }, 'vnflcm show');
  const missing = await openstack('vnflcm', 'show', 'no-such-vnf');
  t.equal(missing.code, 1, 'vnflcm show of an unknown instance: exit 1');
  t.match(missing.stderr, /VNF instance no-such-vnf not found/, "the ProblemDetails' detail");

  const instantiated = await openstack('vnflcm', 'instantiate', inst.ID, join(home, 'instantiate.json'));
  t.equal(instantiated.code, 0, `vnflcm instantiate exits 0 ${instantiated.stderr}`);
  t.match(instantiated.stdout, `Instantiate request for VNF Instance ${inst.ID} has been accepted.`, 'the confirmation');
  t.equal(c.data.read('config', instancePath(inst.ID))!['vim-id'], vimId, 'on the default VIM');
  const busy = await openstack('vnflcm', 'instantiate', inst.ID, join(home, 'instantiate.json'));
  t.equal(busy.code, 1, 'a second instantiate: exit 1');
  t.match(busy.stderr, /busy: operation INSTANTIATE/, 'the instance is busy');

  const ops = await openstack('vnflcm', 'op', 'list', '-f', 'json');
  t.equal(ops.code, 0, `vnflcm op list exits 0 ${ops.stderr}`);
  const [op] = json(ops);
  t.match(op, { ID: UUID, 'Operation State': /^(STARTING|PROCESSING)$/, 'VNF Instance ID': inst.ID, Operation: 'INSTANTIATE' }, 'op list');
  const filtered = await openstack('vnflcm', 'op', 'list', '--filter', '(eq,operationState,COMPLETED)', '-f', 'json');
  t.equal(filtered.code, 0, 'op list --filter exits 0');
  t.same(json(filtered), [], 'filtered server-side');
  const opShow = await openstack('vnflcm', 'op', 'show', op.ID, '-f', 'json');
  t.equal(opShow.code, 0, 'vnflcm op show exits 0');
  t.match(json(opShow), { ID: op.ID, 'Operation State': /^(STARTING|PROCESSING)$/, Operation: 'INSTANTIATE', 'Is Automatic Invocation': false, 'Is Cancel Pending': false }, 'op show');

  const versions = await openstack('vnflcm', 'versions', '-f', 'json');
  t.equal(versions.code, 0, `vnflcm versions exits 0 ${versions.stderr}`);
  t.match(versions.stdout, /1\.3\.0/, 'v1');
  t.match(versions.stdout, /2\.0\.0/, 'and v2');

  // An instance with no operation is deleted; the busy one refuses.
  const spare = json(await openstack('vnflcm', 'create', 'vnfd-cli-web', '-f', 'json'));
  const deleted = await openstack('vnflcm', 'delete', spare.ID);
  t.equal(deleted.code, 0, `vnflcm delete exits 0 ${deleted.stderr}`);
  t.match(deleted.stdout, /deleted successfully/, 'the confirmation');
  t.equal(c.data.read('config', instancePath(spare.ID)), undefined, 'gone');
  const refused = await openstack('vnflcm', 'delete', inst.ID);
  t.equal(refused.code, 1, 'deleting the busy instance: exit 1');
  t.match(refused.stderr, /busy/);

  const pkgDelete = await openstack('vnf', 'package', 'delete', pkg.ID);
  t.equal(pkgDelete.code, 1, 'deleting an ENABLED package: exit 1');
  t.match(pkgDelete.stderr, /ENABLED: disable it/);
  const created2 = json(await openstack('vnf', 'package', 'create', '-f', 'json'));
  const pkgDeleted = await openstack('vnf', 'package', 'delete', created2.ID);
  t.equal(pkgDeleted.code, 0, `deleting a CREATED package exits 0 ${pkgDeleted.stderr}`);
  t.equal(c.data.read('config', packagePath(created2.ID)), undefined, 'gone');
  t.equal((c.data.read('config', VNFLCM.vnfPackage()) ?? []).length, 1, 'the onboarded package kept');
});
