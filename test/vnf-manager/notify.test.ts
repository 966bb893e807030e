/**
 * SOL003 lifecycle change notifications: occurrences and instances written straight into the
 * datastore (as the API and the executor do) are told, in order, to real HTTP subscribers on
 * this machine; filters, retries with backoff, drops, Basic auth, the counters in
 * vnflcm-state/delivery, the YANG notification, and the test GET of a callbackUri.
 */
import t, { type Test } from 'tap';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testController } from '../helpers/controller.ts';
import { waitUntil } from '../helpers/process.ts';
import { testCallback } from '../../plugins/vnf-manager/notify.ts';
import type { YangNotification } from '../../src/rpc/notifications.ts';

const c = await testController(t, ['--datastore=memory', '--plugins=vnf', '--vnf-notification-backoff-ms=20', '--vnf-notification-retries=3', '--vnf-notification-timeout-ms=2000']);
const vnf = c.plugins.loaded.find((p) => p.name === 'vnf')!;
t.ok(vnf, 'the vnf plugin started');
// The Tacker listener as the plugin sees it (it listens only once a plugin adds routes to it).
const tacker = vnf.ctx.http('tacker').url();

const VNFLCM = '/sextant-vnflcm:vnflcm';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function write(fn: (tx: ReturnType<typeof c.data.transaction>) => void): Promise<void> {
  const tx = c.data.transaction('config');
  fn(tx);
  await tx.commit();
}
const put = (path: string, value: unknown) => write((tx) => tx.put(path, value));
const merge = (path: string, value: unknown) => write((tx) => tx.merge(path, value));
const remove = (path: string) => write((tx) => tx.remove(path));

/** An occurrence moving through states, one commit each. */
async function run(occ: string, vnfId: string, operation: string, states: string[], last: Record<string, unknown> = {}): Promise<void> {
  await put(`${VNFLCM}/vnf-lcm-op-occ=${occ}`, { id: occ, operation, 'operation-state': states[0], 'vnf-instance': vnfId });
  for (const [i, s] of states.slice(1).entries()) await merge(`${VNFLCM}/vnf-lcm-op-occ=${occ}`, { 'operation-state': s, ...(i === states.length - 2 ? last : {}) });
}

interface Received {
  path: string;
  method: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A subscriber: records every request; `answer` picks the status of the n-th (1-based). */
async function subscriber(t: Test, answer: (n: number, r: Received) => number = () => 204) {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      const r: Received = { path: req.url ?? '', method: req.method ?? '', headers: req.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
      got.push(r);
      res.statusCode = answer(got.length, r);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, got, on: (path: string) => got.filter((r) => r.path === path) };
}

/** A URL nobody listens on: a port the system just gave and took back (fetch refuses low ports such as 1 itself). */
async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

const subscribe = (id: string, callbackUri: string, extra: Record<string, unknown> = {}) => put(`${VNFLCM}/subscription=${id}`, { id, 'callback-uri': callbackUri, ...extra });
const delivery = (sub: string) =>
  c.data.read('operational', `/sextant-vnflcm:vnflcm-state/delivery=${sub}`) as { delivered?: unknown; 'failed-attempts'?: unknown; dropped?: unknown; 'last-error'?: string } | undefined;
const counted = (sub: string) => {
  const d = delivery(sub);
  return d && { delivered: Number(d.delivered), failed: Number(d['failed-attempts']), dropped: Number(d.dropped) };
};

/** A notification's id and timeStamp checked and taken out, for an exact comparison of the rest. */
function fields(t: Test, body: Record<string, unknown>): Record<string, unknown> {
  const { id, timeStamp, ...rest } = body;
  t.match(id, UUID, 'id is a UUID');
  t.ok(typeof timeStamp === 'string' && !Number.isNaN(Date.parse(timeStamp)), 'timeStamp is a date-time');
  return rest;
}

const yang: YangNotification[] = [];
c.notifications.subscribe((n) => {
  if (n.name === 'sextant-vnflcm:vnf-lcm-operation-occurrence') yang.push(n);
});

await put(`${VNFLCM}/vnf-instance=vnf-1`, { id: 'vnf-1', 'vnfd-id': 'vnfd-a', name: 'one' });
await put(`${VNFLCM}/vnf-instance=vnf-2`, { id: 'vnf-2', 'vnfd-id': 'vnfd-b', name: 'two' });

t.test('every state change, in order, with its fields; the YANG notification once per change', async (t) => {
  const s = await subscriber(t);
  await subscribe('sub-order', `${s.url}/lccn`);
  const links = (occ: string, vnfId = 'vnf-1') => ({
    vnfInstance: { href: `${tacker}/vnflcm/v2/vnf_instances/${vnfId}` },
    subscription: { href: `${tacker}/vnflcm/v2/subscriptions/sub-order` },
    vnfLcmOpOcc: { href: `${tacker}/vnflcm/v2/vnf_lcm_op_occs/${occ}` },
  });
  const vnfcs = [{ id: 'vnfc-1', vduId: 'VDU1', changeType: 'ADDED', computeResource: { resourceId: 'node-1' } }];
  yang.length = 0;
  await run('occ-1', 'vnf-1', 'INSTANTIATE', ['STARTING', 'PROCESSING', 'COMPLETED'], { 'resource-changes': JSON.stringify({ affectedVnfcs: vnfcs }) });
  // A change that leaves the state as it was tells nothing (the FAILED_TEMP below arrives next).
  await merge(`${VNFLCM}/vnf-lcm-op-occ=occ-1`, { attempt: 1 });
  await put(`${VNFLCM}/vnf-lcm-op-occ=occ-2`, { id: 'occ-2', operation: 'HEAL', 'operation-state': 'STARTING', 'vnf-instance': 'vnf-1', 'is-automatic-invocation': true });
  await merge(`${VNFLCM}/vnf-lcm-op-occ=occ-2`, { 'operation-state': 'FAILED_TEMP', error: { status: 500, title: 'Internal Server Error', detail: 'the VIM did not answer' } });
  await waitUntil('five notifications', () => s.got.length >= 5, 10_000);
  await c.data.settled();

  const base = { notificationType: 'VnfLcmOperationOccurrenceNotification', subscriptionId: 'sub-order', vnfInstanceId: 'vnf-1' };
  t.same(s.got.map((r) => fields(t, r.body)), [
    { ...base, notificationStatus: 'START', operationState: 'STARTING', operation: 'INSTANTIATE', isAutomaticInvocation: false, vnfLcmOpOccId: 'occ-1', _links: links('occ-1') },
    { ...base, notificationStatus: 'RESULT', operationState: 'PROCESSING', operation: 'INSTANTIATE', isAutomaticInvocation: false, vnfLcmOpOccId: 'occ-1', _links: links('occ-1') },
    { ...base, notificationStatus: 'RESULT', operationState: 'COMPLETED', operation: 'INSTANTIATE', isAutomaticInvocation: false, vnfLcmOpOccId: 'occ-1', affectedVnfcs: vnfcs, _links: links('occ-1') },
    { ...base, notificationStatus: 'START', operationState: 'STARTING', operation: 'HEAL', isAutomaticInvocation: true, vnfLcmOpOccId: 'occ-2', _links: links('occ-2') },
    {
      ...base,
      notificationStatus: 'RESULT',
      operationState: 'FAILED_TEMP',
      operation: 'HEAL',
      isAutomaticInvocation: true,
      vnfLcmOpOccId: 'occ-2',
      error: { status: 500, title: 'Internal Server Error', detail: 'the VIM did not answer' },
      _links: links('occ-2'),
    },
  ], 'STARTING, PROCESSING, COMPLETED, then STARTING, FAILED_TEMP: in order, exact');
  t.same(new Set(s.got.map((r) => r.body.id)).size, 5, 'each its own id');
  t.ok(s.got.every((r) => r.method === 'POST' && r.headers['content-type'] === 'application/json' && r.headers.authorization === undefined), 'POSTed as application/json, no Authorization without authentication');
  t.same(yang.map((n) => n.json), [
    { 'vnf-instance': 'vnf-1', 'vnf-lcm-op-occ': 'occ-1', operation: 'INSTANTIATE', 'operation-state': 'STARTING', 'notification-status': 'START' },
    { 'vnf-instance': 'vnf-1', 'vnf-lcm-op-occ': 'occ-1', operation: 'INSTANTIATE', 'operation-state': 'PROCESSING', 'notification-status': 'RESULT' },
    { 'vnf-instance': 'vnf-1', 'vnf-lcm-op-occ': 'occ-1', operation: 'INSTANTIATE', 'operation-state': 'COMPLETED', 'notification-status': 'RESULT' },
    { 'vnf-instance': 'vnf-1', 'vnf-lcm-op-occ': 'occ-2', operation: 'HEAL', 'operation-state': 'STARTING', 'notification-status': 'START' },
    { 'vnf-instance': 'vnf-1', 'vnf-lcm-op-occ': 'occ-2', operation: 'HEAL', 'operation-state': 'FAILED_TEMP', 'notification-status': 'RESULT' },
  ], 'the YANG notification: once per state change');
  await waitUntil('the counters are written', () => counted('sub-order')?.delivered === 5, 5000);
  t.same(counted('sub-order'), { delivered: 5, failed: 0, dropped: 0 }, 'vnflcm-state/delivery: 5 delivered');
  await remove(`${VNFLCM}/subscription=sub-order`);
  await waitUntil('a deleted subscription loses its counters', () => delivery('sub-order') === undefined, 5000);
});

t.test('VnfIdentifierCreationNotification and VnfIdentifierDeletionNotification', async (t) => {
  const s = await subscriber(t);
  await subscribe('sub-ids', `${s.url}/ids`, { filter: JSON.stringify({ notificationTypes: ['VnfIdentifierCreationNotification', 'VnfIdentifierDeletionNotification'] }) });
  await put(`${VNFLCM}/vnf-instance=vnf-3`, { id: 'vnf-3', 'vnfd-id': 'vnfd-a' });
  // Filtered out by notificationTypes, before the deletion that must arrive.
  await run('occ-3', 'vnf-3', 'MODIFY_INFO', ['STARTING', 'COMPLETED']);
  await remove(`${VNFLCM}/vnf-instance=vnf-3`);
  await waitUntil('two notifications', () => s.got.length >= 2, 10_000);
  const links = { vnfInstance: { href: `${tacker}/vnflcm/v2/vnf_instances/vnf-3` }, subscription: { href: `${tacker}/vnflcm/v2/subscriptions/sub-ids` } };
  t.same(s.got.map((r) => fields(t, r.body)), [
    { notificationType: 'VnfIdentifierCreationNotification', subscriptionId: 'sub-ids', vnfInstanceId: 'vnf-3', _links: links },
    { notificationType: 'VnfIdentifierDeletionNotification', subscriptionId: 'sub-ids', vnfInstanceId: 'vnf-3', _links: links },
  ], 'creation, then deletion; the occurrence between them filtered out');
  t.same(yang.filter((n) => n.json['vnf-lcm-op-occ'] === 'occ-3').length, 2, 'the YANG notification does not depend on subscriptions');
  await remove(`${VNFLCM}/subscription=sub-ids`);
});

t.test('filters: operationTypes, operationStates, vnfInstanceIds, vnfdIds', async (t) => {
  const s = await subscriber(t);
  await subscribe('f-types', `${s.url}/types`, { filter: JSON.stringify({ operationTypes: ['SCALE'] }) });
  await subscribe('f-states', `${s.url}/states`, { filter: JSON.stringify({ operationStates: ['COMPLETED'] }) });
  await subscribe('f-ids', `${s.url}/ids`, { filter: JSON.stringify({ vnfInstanceSubscriptionFilter: { vnfInstanceIds: ['vnf-2'] } }) });
  await subscribe('f-vnfd', `${s.url}/vnfd`, { filter: JSON.stringify({ vnfInstanceSubscriptionFilter: { vnfdIds: ['vnfd-b'] } }) });
  // First what some filters exclude, then a SCALE on vnf-2 (vnfd-b) that all of them select: once
  // its COMPLETED has arrived everywhere, anything excluded would have arrived before it (one queue
  // per subscription, in order).
  await run('occ-4', 'vnf-1', 'HEAL', ['STARTING', 'PROCESSING', 'COMPLETED']);
  await run('occ-5', 'vnf-2', 'SCALE', ['STARTING', 'PROCESSING', 'COMPLETED']);
  const last = (path: string) => s.on(path).some((r) => r.body.vnfLcmOpOccId === 'occ-5' && r.body.operationState === 'COMPLETED');
  await waitUntil('the SCALE COMPLETED everywhere', () => ['/types', '/states', '/ids', '/vnfd'].every(last), 10_000);
  const seen = (path: string) => s.on(path).map((r) => `${String(r.body.vnfLcmOpOccId)} ${String(r.body.operationState)}`);
  t.same(seen('/types'), ['occ-5 STARTING', 'occ-5 PROCESSING', 'occ-5 COMPLETED'], 'operationTypes [SCALE]: the HEAL excluded');
  t.same(seen('/states'), ['occ-4 COMPLETED', 'occ-5 COMPLETED'], 'operationStates [COMPLETED]: only the COMPLETED');
  t.same(seen('/ids'), ['occ-5 STARTING', 'occ-5 PROCESSING', 'occ-5 COMPLETED'], 'vnfInstanceIds [vnf-2]: vnf-1 excluded');
  t.same(seen('/vnfd'), ['occ-5 STARTING', 'occ-5 PROCESSING', 'occ-5 COMPLETED'], 'vnfdIds [vnfd-b]: vnf-1 (vnfd-a) excluded');
  for (const id of ['f-types', 'f-states', 'f-ids', 'f-vnfd']) await remove(`${VNFLCM}/subscription=${id}`);
});

t.test('a subscriber failing twice (503) gets the notification, still in order; retries counted', async (t) => {
  const s = await subscriber(t, (n) => (n <= 2 ? 503 : 204));
  await subscribe('sub-retry', `${s.url}/retry`);
  await run('occ-6', 'vnf-1', 'SCALE', ['STARTING', 'PROCESSING']);
  await waitUntil('four requests', () => s.got.length >= 4, 10_000);
  t.same(s.got.map((r) => r.body.operationState), ['STARTING', 'STARTING', 'STARTING', 'PROCESSING'], 'STARTING three times (503, 503, 204), then PROCESSING');
  t.equal(new Set(s.got.slice(0, 3).map((r) => r.body.id)).size, 1, 'a retry sends the same notification (same id)');
  await waitUntil('the counters are written', () => counted('sub-retry')?.delivered === 2, 5000);
  t.same(counted('sub-retry'), { delivered: 2, failed: 2, dropped: 0 }, '2 delivered, 2 failed attempts');
  t.match(delivery('sub-retry')?.['last-error'], /answered 503/, 'last-error says why');
  await remove(`${VNFLCM}/subscription=sub-retry`);
});

t.test('a subscriber always failing: dropped after the retries; a refused connection too', async (t) => {
  const s = await subscriber(t, () => 500);
  await subscribe('sub-fail', `${s.url}/fail`);
  await run('occ-7', 'vnf-2', 'HEAL', ['STARTING']);
  await waitUntil('the drop is counted', () => counted('sub-fail')?.dropped === 1, 10_000);
  t.equal(s.got.length, 4, 'one attempt and 3 retries (--vnf-notification-retries=3)');
  t.same(counted('sub-fail'), { delivered: 0, failed: 4, dropped: 1 }, '4 failed attempts, 1 dropped');
  await remove(`${VNFLCM}/subscription=sub-fail`);

  await subscribe('sub-refused', `${await refusedUrl()}/refused`);
  await merge(`${VNFLCM}/vnf-lcm-op-occ=occ-7`, { 'operation-state': 'FAILED_TEMP' });
  await waitUntil('the drop is counted', () => counted('sub-refused')?.dropped === 1, 10_000);
  t.same(counted('sub-refused'), { delivered: 0, failed: 4, dropped: 1 }, 'refused: 4 failed attempts, 1 dropped');
  t.match(delivery('sub-refused')?.['last-error'], /ECONNREFUSED/, 'last-error: ECONNREFUSED');
  await remove(`${VNFLCM}/subscription=sub-refused`);
});

t.test('a queue holds 1,000: beyond, the oldest is dropped and counted', async (t) => {
  // The first POST hangs until released, so everything after it queues up behind it.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const got: string[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      got.push(String((JSON.parse(text) as Record<string, unknown>).vnfLcmOpOccId));
      void (got.length === 1 ? held : Promise.resolve()).then(() => {
        res.statusCode = 204;
        res.end();
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  await subscribe('sub-bound', `http://127.0.0.1:${(server.address() as AddressInfo).port}/bound`, { filter: JSON.stringify({ notificationTypes: ['VnfLcmOperationOccurrenceNotification'] }) });
  await put(`${VNFLCM}/vnf-lcm-op-occ=hold`, { id: 'hold', operation: 'HEAL', 'operation-state': 'STARTING', 'vnf-instance': 'vnf-1' });
  await waitUntil('the first POST is held', () => got.length === 1, 10_000);
  await put(`${VNFLCM}/vnf-lcm-op-occ=oldest`, { id: 'oldest', operation: 'HEAL', 'operation-state': 'STARTING', 'vnf-instance': 'vnf-1' });
  const bulk = Array.from({ length: 1000 }, (_, i) => `bulk-${String(i).padStart(4, '0')}`);
  await write((tx) => {
    for (const id of bulk) tx.put(`${VNFLCM}/vnf-lcm-op-occ=${id}`, { id, operation: 'HEAL', 'operation-state': 'STARTING', 'vnf-instance': 'vnf-1' });
  });
  await c.data.settled();
  release();
  await waitUntil('the counters are written', () => counted('sub-bound')?.delivered === 1001, 15_000);
  t.same(counted('sub-bound'), { delivered: 1001, failed: 0, dropped: 1 }, '1001 delivered, 1 dropped');
  t.notOk(got.includes('oldest'), 'the oldest queued was the one dropped');
  t.same(new Set(got.slice(1)), new Set(bulk), 'the 1,000 after it all arrived');
  await remove(`${VNFLCM}/subscription=sub-bound`);
  await write((tx) => {
    for (const id of ['hold', 'oldest', ...bulk]) tx.remove(`${VNFLCM}/vnf-lcm-op-occ=${id}`);
  });
});

t.test('Basic authentication', async (t) => {
  const s = await subscriber(t);
  await subscribe('sub-auth', `${s.url}/auth`, { authentication: JSON.stringify({ authType: ['BASIC'], paramsBasic: { userName: 'nfvo', password: 's3cret' } }) });
  await run('occ-8', 'vnf-2', 'SCALE', ['STARTING']);
  await waitUntil('one notification', () => s.got.length >= 1, 10_000);
  t.equal(s.got[0].headers.authorization, `Basic ${Buffer.from('nfvo:s3cret').toString('base64')}`, 'the Authorization header');
  await remove(`${VNFLCM}/subscription=sub-auth`);
});

t.test('testCallback: a GET that must answer 204', async (t) => {
  const ok = await subscriber(t, () => 204);
  const missing = await subscriber(t, () => 404);
  t.equal(await testCallback(vnf.ctx, `${ok.url}/cb`, { authType: ['BASIC'], paramsBasic: { userName: 'u', password: 'p' } }), undefined, '204: undefined');
  t.equal(ok.got[0].method, 'GET', 'a GET');
  t.equal(ok.got[0].headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`, 'with the Basic authentication');
  t.match(await testCallback(vnf.ctx, `${missing.url}/cb`), /answered the test GET with 404, not 204/, '404: a sentence');
  t.match(await testCallback(vnf.ctx, `${await refusedUrl()}/cb`), /could not be reached with a test GET: ECONNREFUSED/, 'refused: a sentence');
});
