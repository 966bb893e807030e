/**
 * Debian's real `openstack` CLI (python-tackerclient) against the Tacker API, no Keystone:
 * `--os-auth-type admin_token --os-token <api token> --os-endpoint <tacker url>`, as the README
 * says. vim register / list / show / set / delete, asserted on the CLI's output and exit code and
 * on the datastore; errors reach the user as Tacker's messages; with --api-noauth the CLI's
 * `--os-auth-type none` works too. HOME is a temp dir, so no user config leaks in.
 */
import t from 'tap';
import { json, openstackCli } from '../helpers/openstack-cli.ts';
import { startVimServer } from '../helpers/vim-server.ts';
import { join } from 'node:path';
import { testController } from '../helpers/controller.ts';
import { waitUntil } from '../helpers/process.ts';
import { tempDir, writeFiles } from '../helpers/tmp.ts';
import { statePath, VIMS, vimPath } from '../../plugins/vim-monitor/model.ts';

const TOKEN = 'cli-test-token-41b7';
const PASSWORD = 'cli-clear-password-e03c';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Tap = { teardown(fn: () => unknown): void };

/** A stand-in for a VIM's Keystone on a free loopback port (test/helpers/vim-server.ts). */
const vimEndpoint = async (t: Tap) => (await startVimServer(t)).url('/identity/v3/secure');

const cli = (home: string, auth: string[]) => openstackCli(home, auth);

t.test('openstack vim register / list / show / set / delete against Sextant', async (t) => {
  const authUrl = await vimEndpoint(t);
  const c = await testController(t, ['--plugins=vim-monitor', '--datastore=memory', `--api-token=${TOKEN}`]);
  const endpoint = c.http.listening().get('tacker')!.url;
  const home = tempDir(t, 'sextant-cli-');
  writeFiles(home, {
    'vim.yaml': [`auth_url: '${authUrl}'`, "username: 'nfv_user'", `password: '${PASSWORD}'`, "project_name: 'nfv'", "project_domain_name: 'Default'", "user_domain_name: 'Default'", "cert_verify: 'True'", ''].join('\n'),
  });
  const config = join(home, 'vim.yaml');
  const openstack = cli(home, ['--os-auth-type', 'admin_token', '--os-token', TOKEN, '--os-endpoint', endpoint]);

  const registered = await openstack('vim', 'register', '--config-file', config, '--description', 'first vim', 'vim-cli', '-f', 'json');
  t.equal(registered.code, 0, `vim register exits 0 ${registered.stderr}`);
  const vim = json(registered);
  t.match(vim, { id: UUID, name: 'vim-cli', description: 'first vim', type: 'openstack', auth_url: authUrl, project_id: 'sextant', is_default: false, status: 'PENDING' }, 'register shows the new VIM');
  t.match(vim.vim_project, /"name": "nfv"/, 'its project');
  t.match(vim.auth_cred, /"username": "nfv_user"/, 'its user');
  t.notMatch(registered.stdout + registered.stderr, new RegExp(`${PASSWORD}|password`), 'and never the password');
  const entry = c.data.read('config', vimPath(vim.id))!;
  t.match(entry, { name: 'vim-cli', 'auth-url': authUrl, 'auth-cred': { username: 'nfv_user', 'cert-verify': true, 'encrypted-secret': /^v1:/ } }, 'the config entry');
  t.equal(entry['auth-cred']!.password, undefined, 'the password sealed, not stored');

  await waitUntil('the monitor reaches the VIM', () => c.data.read('operational', statePath(vim.id))?.status === 'REACHABLE', 10_000);
  const listed = await openstack('vim', 'list', '-f', 'json');
  t.equal(listed.code, 0, 'vim list exits 0');
  t.same(json(listed), [{ ID: vim.id, Name: 'vim-cli', Tenant_id: 'sextant', Type: 'openstack', 'Is Default': false, Status: 'REACHABLE' }], 'vim list');

  const byName = await openstack('vim', 'show', 'vim-cli', '-f', 'json');
  t.equal(byName.code, 0, 'vim show NAME exits 0');
  t.match(json(byName), { id: vim.id, name: 'vim-cli', status: 'REACHABLE', description: 'first vim' }, 'vim show by name');
  t.notMatch(byName.stdout, new RegExp(`${PASSWORD}|password`), 'no password shown');
  const byId = await openstack('vim', 'show', vim.id, '-f', 'json');
  t.equal(byId.code, 0, 'vim show ID exits 0');
  t.same(json(byId), json(byName), 'by id: the same');

  const set = await openstack('vim', 'set', 'vim-cli', '--description', 'second words', '-f', 'json');
  t.equal(set.code, 0, `vim set exits 0 ${set.stderr}`);
  t.match(json(set), { id: vim.id, description: 'second words', name: 'vim-cli' }, 'vim set shows the updated VIM');
  t.equal(c.data.read('config', vimPath(vim.id))!.description, 'second words', 'stored');

  const other = await openstack('vim', 'register', '--config-file', config, '--is-default', 'vim-default', '-f', 'json');
  t.equal(other.code, 0, 'a second VIM, the default one');
  t.equal(json(other).is_default, true, '--is-default: shown as the default');
  const both = json(await openstack('vim', 'list', '-f', 'json')) as { Name: string; 'Is Default': boolean }[];
  t.same(both.map((v) => [v.Name, v['Is Default']]).sort(), [['vim-cli', false], ['vim-default', true]], 'vim list: both, one default');

  const duplicate = await openstack('vim', 'register', '--config-file', config, 'vim-cli', '-f', 'json');
  t.equal(duplicate.code, 1, 'a name already registered: exit 1');
  t.match(duplicate.stderr, /share the unique values \(name\)/, "with the model's message");
  t.equal((c.data.read('config', VIMS.vim()) ?? []).length, 2, 'nothing registered');

  const deleted = await openstack('vim', 'delete', 'vim-cli');
  t.equal(deleted.code, 0, 'vim delete exits 0');
  t.match(deleted.stdout, /All specified vim\(s\) deleted successfully/);
  t.equal(c.data.read('config', vimPath(vim.id)), undefined, 'the entry is gone');
  const gone = await openstack('vim', 'show', 'vim-cli');
  t.equal(gone.code, 1, 'vim show of a deleted VIM: exit 1');
  t.match(gone.stderr, /Unable to find vim with name 'vim-cli'/);
  const again = await openstack('vim', 'delete', 'vim-cli');
  t.equal(again.code, 1, 'deleting it again: exit 1');
  t.match(again.stderr, /Unable to find vim with name 'vim-cli'/);

  const wrong = await cli(home, ['--os-auth-type', 'admin_token', '--os-token', 'not-the-token', '--os-endpoint', endpoint])('vim', 'list', '-f', 'json');
  t.equal(wrong.code, 1, 'a wrong token: exit 1');
  t.match(wrong.stderr, /requires authentication/, 'with the 401 message');
});

t.test('with --api-noauth, --os-auth-type none works (the CLI sends "notused")', async (t) => {
  const authUrl = await vimEndpoint(t);
  const c = await testController(t, ['--plugins=vim-monitor', '--datastore=memory', '--api-noauth']);
  const endpoint = c.http.listening().get('tacker')!.url;
  const home = tempDir(t, 'sextant-cli-');
  writeFiles(home, { 'vim.yaml': `auth_url: '${authUrl}'\nusername: 'u'\npassword: 'p'\nproject_name: 'nfv'\ncert_verify: 'False'\n` });
  const openstack = cli(home, ['--os-auth-type', 'none', '--os-endpoint', endpoint]);
  const registered = await openstack('vim', 'register', '--config-file', join(home, 'vim.yaml'), 'open-vim', '-f', 'json');
  t.equal(registered.code, 0, `vim register exits 0 ${registered.stderr}`);
  t.match(json(registered).auth_cred, /"cert_verify": "False"/, "cert_verify 'False' shown as Tacker does");
  t.equal(c.data.read('config', vimPath(json(registered).id))!['auth-cred']!['cert-verify'], false, 'and stored as false');
  const listed = await openstack('vim', 'list', '-f', 'json');
  t.equal(listed.code, 0, 'vim list exits 0');
  t.same(json(listed).map((v: { Name: string }) => v.Name), ['open-vim']);
});
