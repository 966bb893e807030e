/**
 * CSIT: a body over `--restconf-max-body` reaches OpenDaylight's own clients as 413 too-big.
 * ODL's suites send with Python `requests` (RequestsLibrary) and `urllib`; Python's http.client
 * sends the whole body before it reads anything, so the server must read (and discard) the rest
 * of the body before it closes, or the client gets a broken pipe instead of the answer. Sextant's
 * HTTP edge drains it within bounds (64 MiB, 10 s, 2 s idle), as nginx's and Apache's lingering
 * close do; a client that sends without end is cut at the bound, and other connections are served
 * meanwhile. The bodies are ODL's create_node.json (opendaylight/integration-test
 * csit/variables/ovsdb/create_node.json, kept in restconf/odl/ovsdb/) with its node repeated, as
 * a bulk write of many OVSDB nodes would be.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.ts';
import { startSuiteController } from './lib/env.ts';
import { assertMissing } from './lib/fixture.ts';
import { DELETED_STATUS_CODES, TEMPLATE_ROOT, expectStatus, readErrors } from './lib/requests.ts';

const MAX_BODY = 65536;
const sc = await startSuiteController(t, [`--restconf-max-body=${MAX_BODY}`]);
const skip = !sc.flagsApplied && 'needs an in-process controller (--restconf-max-body)';
const s = sc.session;
const TOPO_OVSDB1 = '/rests/data/network-topology:network-topology/topology=ovsdb%3A1';
const dir = tempDir(t, 'sextant-oversized-');

/** ODL's create_node.json with its one node repeated `count` times (node-ids HOST0, HOST1...). */
function manyNodes(count: number): string {
  const body = JSON.parse(readFileSync(join(TEMPLATE_ROOT, 'odl/ovsdb/create_node.json'), 'utf8')) as { node: { 'node-id': string }[] };
  const [node] = body.node;
  return JSON.stringify({ node: Array.from({ length: count }, (_, i) => ({ ...node, 'node-id': `ovsdb:HOST${i}` })) });
}

const BIG = join(dir, 'nodes.json');
writeFileSync(BIG, manyNodes(120_000));
const bigSize = readFileSync(BIG).length;

// The client as ODL's suites have it: requests (RequestsLibrary), with a Content-Length or chunked
// (a generator body), or urllib. Prints one JSON line: the status and body, or the exception.
const PY_CLIENT = `
import base64, json, sys, urllib.request, urllib.error
import requests
mode, url, user, password, path = sys.argv[1:6]
body = open(path, 'rb').read()
headers = {'Content-Type': 'application/yang-data+json', 'Accept': 'application/yang-data+json'}
try:
    if mode == 'urllib':
        auth = base64.b64encode(f'{user}:{password}'.encode()).decode()
        req = urllib.request.Request(url, data=body, method='POST', headers={**headers, 'Authorization': 'Basic ' + auth})
        try:
            r = urllib.request.urlopen(req, timeout=60)
            print(json.dumps({'status': r.status, 'body': r.read().decode()}))
        except urllib.error.HTTPError as e:
            print(json.dumps({'status': e.code, 'body': e.read().decode()}))
    else:
        data = body if mode == 'requests' else (body[i:i + 65536] for i in range(0, len(body), 65536))
        r = requests.post(url, data=data, headers=headers, auth=(user, password), timeout=60)
        print(json.dumps({'status': r.status_code, 'body': r.text}))
except Exception as e:
    print(json.dumps({'error': type(e).__name__ + ': ' + str(e)}))
`;

function python(mode: string, path: string): Promise<{ status?: number; body?: string; error?: string }> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/python3', ['-c', PY_CLIENT, mode, `${sc.url}${TOPO_OVSDB1}`, sc.credentials.user, sc.credentials.password, path], { timeout: 90_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`python failed: ${err.message} ${stderr}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()!));
      } catch {
        reject(new Error(`python said: ${stdout} ${stderr}`));
      }
    });
  });
}

t.test('python3-requests is there (Debian python3-requests)', { skip }, async (t) => {
  const version = await new Promise<string>((resolve, reject) =>
    execFile('/usr/bin/python3', ['-c', 'import requests; print(requests.__version__)'], (err, out) => (err ? reject(err) : resolve(out.trim()))),
  );
  t.match(version, /^\d+\.\d+/, `requests ${version}`);
});

for (const mode of ['requests', 'chunked', 'urllib']) {
  t.test(`${mode}: a ${Math.round(bigSize / 1e6)} MB body over the ${MAX_BODY}-byte limit reads 413 too-big`, { skip }, async (t) => {
    const res = await python(mode, BIG);
    t.notOk(res.error, res.error ? `the client failed: ${res.error}` : 'no broken pipe');
    t.equal(res.status, 413, 'status 413');
    const [e] = readErrors(res.body ?? '');
    t.match(e, { 'error-type': 'transport', 'error-tag': 'too-big' }, 'a RESTCONF errors body, too-big');
    t.match(e?.['error-message'], new RegExp(`larger than ${MAX_BODY} bytes`), String(e?.['error-message']));
    await assertMissing(t, `${TOPO_OVSDB1}/node=ovsdb%3AHOST0`, 'no node was written');
  });
}

t.test('the same client with a body under the limit writes it (the control case)', { skip }, async (t) => {
  const small = join(dir, 'small.json');
  writeFileSync(small, manyNodes(1));
  const res = await python('requests', small);
  t.equal(res.status, 201, `201 (${res.body ?? res.error})`);
  expectStatus(await s.getJson(`${TOPO_OVSDB1}/node=ovsdb%3AHOST0?content=config`), [200]);
  expectStatus(await s.delete(`${TOPO_OVSDB1}/node=ovsdb%3AHOST0`), [204, ...DELETED_STATUS_CODES]);
});

t.test('a client that never stops sending is cut after the drain bound; others are served meanwhile', { skip }, async (t) => {
  const { port } = new URL(sc.url);
  const auth = `Basic ${Buffer.from(`${sc.credentials.user}:${sc.credentials.password}`).toString('base64')}`;
  const started = Date.now();
  let sent = 0;
  const streamer = connect(Number(port), '127.0.0.1');
  t.teardown(() => streamer.destroy());
  const cut = new Promise<number>((resolve) => {
    streamer.on('error', () => undefined);
    streamer.on('close', () => resolve(Date.now() - started));
  });
  streamer.on('connect', () => {
    streamer.write(`POST ${TOPO_OVSDB1} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Type: application/yang-data+json\r\nContent-Length: ${2 ** 40}\r\n\r\n`);
    const chunk = Buffer.alloc(65536, 0x20);
    const pump = () => {
      while (!streamer.destroyed) {
        sent += chunk.length;
        if (!streamer.write(chunk)) return void streamer.once('drain', pump);
      }
    };
    pump();
  });
  // A control client on other connections, while the drain runs: answered, and promptly.
  const latencies: number[] = [];
  let closedAfter: number | undefined;
  void cut.then((ms) => (closedAfter = ms));
  while (closedAfter === undefined && Date.now() - started < 30_000) {
    const t0 = Date.now();
    const res = await s.getJson('/rests/data/ietf-restconf-monitoring:restconf-state/capabilities');
    latencies.push(Date.now() - t0);
    if (res.status !== 200) {
      t.fail(`a control request failed: ${res.describe()}`);
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const ms = await cut;
  t.ok(ms < 12_000, `the endless client was cut after ${ms} ms (bound 10 s)`);
  const mib = sent / 2 ** 20;
  t.ok(mib >= 64 && mib < 64 + 32, `after ${mib.toFixed(1)} MiB sent (bound 64 MiB, plus what socket buffers held)`);
  t.ok(latencies.length >= 1, `${latencies.length} control requests answered 200 during the drain`);
  t.ok(Math.max(...latencies) < 2000, `each answered within 2 s (slowest ${Math.max(...latencies)} ms)`);
});
