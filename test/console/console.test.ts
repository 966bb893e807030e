/**
 * The web console in a real browser (Debian's headless Chromium, playwright-core): the page an
 * operator leaves open, on the elections world of the CSIT suite (computes 1..4 in the default
 * transport zone, router 1 with SNAT on subnets 1 and 2, VMs on computes 1, 2 and 3). Written to
 * over RESTCONF as networking-odl and the OVSDB southbound would; what the page shows is read
 * from the DOM, what it sends from the requests the browser makes, and the datastore is read
 * back over RESTCONF. Screenshots: test/artifacts/console/.
 */
import t, { type Test } from 'tap';
import { join } from 'node:path';
import type { Page, Request } from 'playwright-core';
import { Session } from '../csit/lib/requests.ts';
import { NetVirt, computeName, uuid } from '../csit/lib/netvirt.ts';
import { waitUntil } from '../csit/lib/wait.ts';
import { testController } from '../helpers/controller.ts';
import { artifactsDir, browserContext, launchBrowser } from '../helpers/browser.ts';
import { startVimServer } from '../helpers/vim-server.ts';

const c = await testController(t, ['--datastore=memory']);
const base = c.restconf.url;
const session = new Session(base);
const nv = new NetVirt(session);
const shots = artifactsDir('console');
const ROUTER = uuid(4, 1);
const auth = { username: 'admin', password: 'admin' };

await nv.addCompute({ n: 1, vms: [{ port: 101, ofport: 1 }, { port: 301, ofport: 2 }] });
await nv.addCompute({ n: 2, vms: [{ port: 102, ofport: 1 }, { port: 201, ofport: 2 }] });
await nv.addCompute({ n: 3, vms: [{ port: 202, ofport: 1 }] });
await nv.addCompute({ n: 4 });
await nv.network(1, 1001);
await nv.network(2, 1002);
await nv.subnet(1, 1, '10.1.0.0/24');
await nv.subnet(2, 2, '10.2.0.0/24');
await nv.port(101, 1, 1, '10.1.0.11', computeName(1));
await nv.port(102, 1, 1, '10.1.0.12', computeName(2));
await nv.port(201, 2, 2, '10.2.0.21', computeName(2));
await nv.port(202, 2, 2, '10.2.0.22', computeName(3));
await nv.port(301, 1, 1, '10.1.0.31', computeName(1));
await nv.router(1, '172.24.4.10');
await nv.routerInterface(191, 1, 1, 1, '10.1.0.1');
await nv.routerInterface(192, 1, 2, 2, '10.2.0.1');
// The NAT switch of router 1: least loaded among the computes with its ports, lowest DPN first.
await waitUntil(15_000, 50, async () => (await nv.designation('nat', ROUTER))?.['dpn-id'] === '1' || false);

// The plugins' own subscriptions, before any page opened a stream.
const pluginSubscriptions = c.data.listenerLag().length;
const browser = await launchBrowser(t);

/** compute-node as RESTCONF answers it. */
async function computeNode(n: number): Promise<{ tombstoned?: boolean } | undefined> {
  const r = await session.getJson(`/rests/data/cloudscaler-rpc:compute-nodes/compute-node=${computeName(n)}`);
  return r.status === 200 ? (r.json() as { 'cloudscaler-rpc:compute-node': { tombstoned?: boolean }[] })['cloudscaler-rpc:compute-node'][0] : undefined;
}

const cell = (page: Page, compute: string, column: string) => page.locator(`#panel-computes tr[data-compute="${compute}"] td.${column}`);
const natCell = (page: Page, column: string) => page.locator(`#panel-designations tr[data-service="nat/${ROUTER}"] td.${column}`);

/** Opens the console with credentials; records every rpc the page posts. */
async function openConsole(t: Test) {
  const context = await browserContext(browser, t, auth);
  const page = await context.newPage();
  const rpcs: string[] = [];
  page.on('request', (r: Request) => {
    if (r.method() === 'POST' && r.url().includes('/rests/operations/')) rpcs.push(decodeURIComponent(r.url().replace(/^.*\/rests\/operations\//, '')));
  });
  const res = await page.goto(`${base}/console`);
  t.equal(res?.status(), 200, 'the page is served with the credentials');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
  return { page, rpcs };
}

t.test('unauthenticated: the page, its assets, views and event stream are refused with 401', async (t) => {
  const watch = encodeURIComponent(JSON.stringify([{ id: 'c', store: 'config', path: '/cloudscaler-rpc:compute-nodes/compute-node=*' }]));
  for (const path of ['/console', '/console/assets/console.js', '/console/views/cloudscaler/view.js', `/console/events?watch=${watch}`]) {
    const anonymous = await fetch(`${base}${path}`);
    t.equal(anonymous.status, 401, `${path} without credentials`);
    t.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic /, `${path} challenges for Basic credentials`);
    await anonymous.arrayBuffer();
    const wrong = await fetch(`${base}${path}`, { headers: { Authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` } });
    t.equal(wrong.status, 401, `${path} with a wrong password`);
    await wrong.arrayBuffer();
  }
  const json = await fetch(`${base}/console`);
  t.match(await json.json(), { errors: { error: [{ 'error-tag': 'access-denied' }] } }, 'a RESTCONF client gets the RESTCONF error body');
  const html = await fetch(`${base}/console`, { headers: { Accept: 'text/html,application/xhtml+xml' } });
  t.equal(html.status, 401, 'so does a browser');
  t.match(await html.text(), /authentication required/, 'told in plain text, not offered a JSON download');
  // A browser without credentials gets the 401 too, and no console.
  const context = await browserContext(browser, t);
  const page = await context.newPage();
  // Headless Chromium cancels a Basic challenge it has no credentials for (the navigation fails
  // with ERR_INVALID_AUTH_CREDENTIALS); a browser that shows the 401 shows its text.
  const res = await page.goto(`${base}/console`).catch((e: Error) => e);
  if (res instanceof Error) t.match(res.message, /ERR_INVALID_AUTH_CREDENTIALS/, 'the browser without credentials is refused');
  else {
    t.equal(res?.status(), 401, 'the browser without credentials is refused');
    t.match(await page.locator('body').textContent(), /authentication required/, 'and told why');
  }
  t.equal(await page.locator('#panels').count(), 0, 'and shown no console');
});

t.test('the event stream refuses bad watches with a RESTCONF 400 before streaming anything', async (t) => {
  const bad = [
    ['not JSON', '{'],
    ['no watch', '[]'],
    ['a bad store', JSON.stringify([{ id: 'a', store: 'running', path: '/cloudscaler-rpc:compute-nodes' }])],
    ['an unknown module', JSON.stringify([{ id: 'a', store: 'config', path: '/nope:nothing/x=*' }])],
    ['a wildcard on a container', JSON.stringify([{ id: 'a', store: 'config', path: '/cloudscaler-rpc:compute-nodes=*' }])],
    ['malformed fields', JSON.stringify([{ id: 'a', store: 'config', path: '/cloudscaler-rpc:compute-nodes/compute-node=*', fields: 'compute-name(' }])],
    ['ids twice', JSON.stringify([{ id: 'a', store: 'config', path: '/cloudscaler-rpc:compute-nodes' }, { id: 'a', store: 'config', path: '/cloudscaler-rpc:compute-nodes' }])],
  ];
  for (const [what, watch] of bad) {
    const r = await session.get(`/console/events?watch=${encodeURIComponent(watch)}`);
    t.equal(r.status, 400, `${what}: 400`);
    t.match(r.json(), { errors: { error: [{ 'error-tag': /invalid-value|unknown-element/ }] } }, `${what}: a RESTCONF error body`);
  }
});

t.test('the page shows the computes, designations, tunnel mesh and the other panels', async (t) => {
  const { page } = await openConsole(t);
  await waitUntil(10_000, 50, async () => (await page.locator('#panel-computes tbody tr').count()) === 4 || false);
  t.same(await page.locator('#panel-computes tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-compute'))), ['compute-1', 'compute-2', 'compute-3', 'compute-4'], 'every compute, in order');
  t.equal(await cell(page, 'compute-1', 'ports').textContent(), '2', 'compute-1 has its two VM ports');
  t.equal(await cell(page, 'compute-4', 'ports').textContent(), '0', 'compute-4 has none');
  t.equal(await cell(page, 'compute-1', 'connected').textContent(), 'yes', 'compute-1 is connected');
  t.equal(await cell(page, 'compute-1', 'tombstoned').textContent(), 'no', 'and not tombstoned');
  t.match(await cell(page, 'compute-1', 'services').textContent(), /nat/, 'compute-1 hosts the NAT service of router 1');
  t.equal(await natCell(page, 'dpn').textContent(), '1', 'the designations panel shows router 1 on DPN 1');
  await waitUntil(10_000, 50, async () => (await page.locator('#panel-topology svg.mesh circle').count()) === 4 || false);
  t.equal(await page.locator('#panel-topology svg.mesh line').count(), 6, 'the default zone is drawn as a full mesh of 4 computes');
  for (const id of ['scalein', 'vnfs', 'clusters', 'vims', 'activity']) t.equal(await page.locator(`#panel-${id}`).count(), 1, `the ${id} panel is there`);
  t.equal(await page.locator('#stream-state').textContent(), 'live', 'the stream is live');
  await page.screenshot({ path: join(shots, '01-loaded.png'), fullPage: true });
});

t.test('a cancelled confirmation sends nothing (and, against a controller without the preview rpc, says the preview is not available)', async (t) => {
  const { page, rpcs } = await openConsole(t);
  // A controller of before scalein-computes-preview cannot run here: its answer is played in the
  // browser (RESTCONF's 501 operation-not-supported), everything else is the real controller's.
  await page.route('**/rests/operations/scalein-api:scalein-computes-preview', (route) =>
    route.fulfill({
      status: 501,
      contentType: 'application/yang-data+json',
      body: JSON.stringify({ errors: { error: [{ 'error-type': 'protocol', 'error-tag': 'operation-not-supported', 'error-message': 'no such rpc' }] } }),
    }),
  );
  await page.locator('#panel-computes input[value="compute-2"]').check();
  await page.locator('#panel-computes button[data-action="start"]').click();
  const dialog = page.locator('dialog#confirm');
  await dialog.waitFor({ state: 'visible' });
  // The preview is shown first: its output, or "not available" from a controller without it.
  await page.waitForSelector('dialog#confirm .preview:not([data-state="loading"])');
  t.equal(await dialog.locator('.preview').getAttribute('data-state'), 'unavailable', 'the confirmation opens on the preview, here not served');
  t.match(await dialog.locator('.preview-body').textContent(), /preview not available/, 'and says so');
  t.equal(await dialog.locator('button.confirm').isEnabled(), true, 'the operator may still confirm (or cancel)');
  await page.screenshot({ path: join(shots, '02-confirm-start.png') });
  await dialog.locator('button.cancel').click();
  await dialog.waitFor({ state: 'hidden' });
  // Something else changes and the page shows it: everything the page would have sent by now
  // has been sent, and the stream is still delivering.
  await nv.plug(4, { port: 401, ofport: 1 });
  await waitUntil(10_000, 50, async () => (await cell(page, 'compute-4', 'ports').textContent()) === '1' || false);
  t.notOk(rpcs.some((r) => /scalein-computes-(start|end|recover)$/.test(r)), `no scale-in rpc was sent (sent: ${rpcs.join(', ') || 'none'})`);
  t.equal((await computeNode(2))?.tombstoned ?? false, false, 'compute-2 is not tombstoned in the datastore');
  t.equal(await cell(page, 'compute-2', 'tombstoned').textContent(), 'no', 'nor on the page');
  t.match(await page.locator('#activity').textContent(), /cancelled, nothing sent/, 'the activity log says it was cancelled');
  await nv.unplug(4, 401);
});

t.test('start from the UI through the confirmation: the designation moves live', async (t) => {
  const { page, rpcs } = await openConsole(t);
  // Marks this document: a reload would lose it.
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  await page.locator('#panel-computes input[value="compute-1"]').check();
  await page.locator('#panel-computes button[data-action="start"]').click();
  const dialog = page.locator('dialog#confirm');
  await page.waitForSelector('dialog#confirm .preview:not([data-state="loading"])');
  if ((await dialog.locator('.preview').getAttribute('data-state')) === 'shown') {
    // The preview rpc is served: its answer, rendered as a list, says where router 1 would go.
    const text = (await dialog.locator('.preview-body').textContent()) ?? '';
    t.match(text, /service-id: 00000004-0000-4000-8000-000000000001/, 'the preview names the NAT service of router 1');
    t.match(text, /from-compute: compute-1/, 'moving from compute-1');
    t.match(text, /to-compute: compute-2/, 'to compute-2');
    t.ok(rpcs.includes('scalein-api:scalein-computes-preview'), 'the page asked for the preview');
  } else t.comment('scalein-computes-preview is not served by this controller: the confirmation said so');
  await page.screenshot({ path: join(shots, '03a-confirm-start-compute-1.png') });
  t.notOk(rpcs.some((r) => r.endsWith('scalein-computes-start')), 'nothing is sent while the confirmation is open');
  await dialog.locator('button.confirm').click();
  await waitUntil(15_000, 50, async () => (await natCell(page, 'dpn').textContent()) === '2' || false);
  t.pass('the designations panel shows router 1 moved to DPN 2');
  t.equal(await natCell(page, 'compute').textContent(), 'compute-2', 'on compute-2');
  t.ok(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument === true), 'without a reload');
  t.same(rpcs.filter((r) => /scalein-computes-(start|end|recover)$/.test(r)), ['scalein-api:scalein-computes-start'], 'exactly one start was sent');
  t.equal((await computeNode(1))?.tombstoned, true, 'compute-1 is tombstoned in the datastore');
  t.equal((await nv.designation('nat', ROUTER))?.['dpn-id'], '2', 'RESTCONF agrees: router 1 is on DPN 2');
  await waitUntil(10_000, 50, async () => (await cell(page, 'compute-1', 'tombstoned').textContent()) === 'yes' || false);
  t.match(await cell(page, 'compute-2', 'services').textContent(), /nat/, 'compute-2 now hosts the NAT service');
  // The scale-in panel says what still blocks end: compute-1's two VM ports.
  const blockers = await page.locator('#panel-scalein li[data-compute="compute-1"] li.blocker').allTextContents();
  t.same(blockers.map((b) => b.split(' ')[0]).sort(), ['tap101', 'tap301'], 'the scale-in panel lists the ports still bound to compute-1');
  await page.screenshot({ path: join(shots, '03-after-start.png'), fullPage: true });

  // A port leaves: the panel follows live, as the end's INPROGRESS would.
  await nv.unplug(1, 101);
  await waitUntil(10_000, 50, async () => (await page.locator('#panel-scalein li[data-compute="compute-1"] li.blocker').count()) === 1 || false);
  t.pass('the scale-in panel drops the port that left');

  // Recover through its confirmation too.
  await page.locator('#panel-computes input[value="compute-1"]').check();
  await page.locator('#panel-computes button[data-action="recover"]').click();
  await page.waitForSelector('dialog#confirm .preview:not([data-state="loading"])');
  await dialog.locator('button.confirm').click();
  await waitUntil(10_000, 50, async () => (await cell(page, 'compute-1', 'tombstoned').textContent()) === 'no' || false);
  t.equal((await computeNode(1))?.tombstoned, false, 'recovered in the datastore');
  t.equal(await page.locator('#panel-scalein li[data-compute]').count(), 0, 'nothing is being scaled in any more');
  await page.screenshot({ path: join(shots, '04-after-recover.png'), fullPage: true });
});

t.test('end from the UI: INPROGRESS while a VM port is bound, DONE once it left, and the compute leaves the page live', async (t) => {
  await nv.plug(4, { port: 402, ofport: 1 });
  t.equal((await nv.rpc('scalein-computes-start', [computeName(4)])).status, 200, 'compute-4 tombstoned over RESTCONF');
  const { page, rpcs } = await openConsole(t);
  await waitUntil(10_000, 50, async () => (await page.locator('#panel-scalein li[data-compute="compute-4"] li.blocker').count()) === 1 || false);
  const end = async () => {
    await page.locator('#panel-computes input[value="compute-4"]').check();
    await page.locator('#panel-computes button[data-action="end"]').click();
    await page.waitForSelector('dialog#confirm .preview:not([data-state="loading"])');
    await page.locator('dialog#confirm button.confirm').click();
  };
  await end();
  await waitUntil(10_000, 50, async () => /End scale-in of compute-4: done: INPROGRESS/.test((await page.locator('#activity').textContent()) ?? '') || false);
  t.pass('the first end answers INPROGRESS (a port is still bound)');
  t.equal(await page.locator('#panel-computes tr[data-compute="compute-4"]').count(), 1, 'compute-4 is still listed');
  await nv.unplug(4, 402);
  await waitUntil(10_000, 50, async () => (await page.locator('#panel-scalein li[data-compute="compute-4"] .badge.ok').count()) === 1 || false);
  t.pass('once the port left, the scale-in panel says nothing blocks end');
  await end();
  await waitUntil(10_000, 50, async () => (await page.locator('#panel-computes tr[data-compute="compute-4"]').count()) === 0 || false);
  t.pass('after DONE compute-4 leaves the computes table, without a reload');
  t.match(await page.locator('#activity').textContent(), /End scale-in of compute-4: done: DONE/, 'the activity log has the DONE');
  t.equal(await computeNode(4), undefined, 'compute-4 is gone from the datastore');
  t.same(rpcs.filter((r) => /scalein-computes-(start|end|recover)$/.test(r)), ['scalein-api:scalein-computes-end', 'scalein-api:scalein-computes-end'], 'the page sent the two ends, nothing else');
  await page.screenshot({ path: join(shots, '05-after-end.png'), fullPage: true });
});

t.test('the VIMs panel follows the monitor live: REACHABLE, then UNREACHABLE when the VIM stops answering', async (t) => {
  const server = await startVimServer(t);
  const { page } = await openConsole(t);
  const vim = { 'vim-id': 'v1', name: 'vim-one', type: 'openstack', 'auth-url': server.url('/identity/v3'), monitor: { interval: '0.5', timeout: '0.2' } };
  t.equal((await session.postJson('/rests/data/sextant-nfv-vim:vims', { 'sextant-nfv-vim:vim': [vim] })).status, 201, 'a VIM registered over RESTCONF');
  const status = page.locator('#panel-vims tr[data-vim="v1"] .badge');
  await waitUntil(15_000, 50, async () => (await status.textContent()) === 'REACHABLE' || false);
  t.pass('the panel shows it REACHABLE');
  await server.stop();
  await waitUntil(15_000, 50, async () => (await status.textContent()) === 'UNREACHABLE' || false);
  t.match(await status.getAttribute('title'), /ECONNREFUSED/, 'UNREACHABLE once the server stopped, with the error the monitor saw');
  await page.screenshot({ path: join(shots, '06-vims.png'), fullPage: true });
});

t.test('a page that goes away leaves no subscription behind', async (t) => {
  // The earlier tests' pages close at their teardown: their streams end asynchronously.
  await waitUntil(10_000, 50, () => c.data.listenerLag().length === pluginSubscriptions || false);
  const before = pluginSubscriptions;
  const context = await browserContext(browser, t, auth);
  const page = await context.newPage();
  await page.goto(`${base}/console`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
  const open = c.data.listenerLag().length;
  t.ok(open > before, `the page's stream subscribed its watches (${open - before})`);
  await context.close();
  await waitUntil(10_000, 50, () => c.data.listenerLag().length === before || false);
  t.pass('every one is gone once the page closed (and so were the earlier pages\' before this test began)');
});
