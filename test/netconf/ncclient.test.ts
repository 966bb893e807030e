/**
 * The NETCONF northbound driven by a real client: Debian's python3-ncclient, one python script per
 * scenario (test/netconf/ncclient/*.py) against one in-process controller. The scripts print JSON
 * steps; the assertions here are on those steps and on what the datastore holds afterwards.
 * Covers the hello (base:1.1 chunked framing, capabilities), get-config, edit-config on the
 * candidate then commit and on running, locks between sessions, subtree and xpath filters (`//`,
 * predicates on any leaf, and/or, `..`, and their rpc-errors), a YANG rpc (scale-in),
 * create-subscription with live and replayed notifications, get-schema and the rpc-errors of bad
 * edits.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { testController } from '../helpers/controller.ts';
import { bridgeJson, nodeIdOf, restconf } from '../cloudscaler/helpers.ts';
import type { Controller } from '../../src/controller.ts';

/** Debian's ncclient lives in the system python's dist-packages, not in the python on PATH. */
const PYTHON = '/usr/bin/python3';
const SCRIPTS = join(import.meta.dirname, 'ncclient');
const ROOT = join(import.meta.dirname, '../..');
const YANG = `--yang-dir=${join(ROOT, 'yang')},${join(import.meta.dirname, 'yang')}`;
const CAR_NS = 'urn:opendaylight:params:xml:ns:yang:controller:config:sal-clustering-it:car';
const SCALEIN_NS = 'urn:opendaylight:netvirt:scalein-api';
const NETMOD_NOTIFICATION = 'urn:ietf:params:xml:ns:netmod:notification';
const SCRIPT_TIMEOUT_MS = 20_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Step = Record<string, any>;
interface RpcError {
  type: string;
  tag: string;
  severity: string;
  path: string | null;
  message: string;
  info: Record<string, string>;
}

const probe = spawnSync(PYTHON, ['-c', 'import ncclient'], { encoding: 'utf8' });
if (probe.status !== 0) throw new Error(`${PYTHON} cannot import ncclient (install python3-ncclient): ${probe.stderr ?? probe.error}`);

const c = await testController(t, ['--datastore=memory', YANG]);
const startedAt = new Date();

/**
 * Runs one script against the controller's NETCONF port; resolves with its JSON steps. `onStep`
 * sees each step as it is printed and may write to the script's stdin. The script is killed
 * (by pid) after SCRIPT_TIMEOUT_MS and at teardown if still running.
 */
function python(
  tt: { teardown(fn: () => void): void },
  script: string,
  args: string[] = [],
  onStep?: (step: Step, stdin: NodeJS.WritableStream) => void | Promise<void>,
): Promise<Step[]> {
  const child = spawn(PYTHON, [join(SCRIPTS, script), String(c.netconf.port), ...args], {
    cwd: SCRIPTS,
    // No __pycache__ left in the source tree.
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  tt.teardown(kill);
  const timer = setTimeout(kill, SCRIPT_TIMEOUT_MS);
  const steps: Step[] = [];
  let stderr = '';
  let hookError: unknown;
  child.stderr.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    let step: Step;
    try {
      step = JSON.parse(line);
    } catch {
      step = { step: 'unparsed output', line };
    }
    steps.push(step);
    if (onStep) {
      Promise.resolve(onStep(step, child.stdin)).catch((e) => {
        hookError ??= e;
        kill();
      });
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (hookError) return reject(hookError);
      if (code !== 0) return reject(new Error(`${script} exited ${code ?? signal}\nsteps: ${JSON.stringify(steps)}\nstderr: ${stderr}`));
      resolve(steps);
    });
  });
}

/** The step printed under `name` (each script names its steps uniquely). */
function stepOf(steps: Step[], name: string): Step {
  const s = steps.find((x) => x.step === name);
  if (!s) throw new Error(`no step "${name}" in ${JSON.stringify(steps.map((x) => x.step))}`);
  return s;
}

const carsIn = (c: Controller) => ((c.data.read('config', '/car:cars') as { 'car-entry'?: Record<string, unknown>[] } | undefined)?.['car-entry'] ?? []);
const carIds = (c: Controller) => carsIn(c).map((e) => e.id);

t.test('connect: the hello, the session-id and chunked framing', async (t) => {
  const steps = await python(t, 'session.py');
  const hello = stepOf(steps, 'hello');
  const caps: string[] = hello.capabilities;
  for (const cap of [
    'urn:ietf:params:netconf:base:1.0',
    'urn:ietf:params:netconf:base:1.1',
    'urn:ietf:params:netconf:capability:candidate:1.0',
    'urn:ietf:params:netconf:capability:validate:1.1',
    'urn:ietf:params:netconf:capability:writable-running:1.0',
    'urn:ietf:params:netconf:capability:rollback-on-error:1.0',
    'urn:ietf:params:netconf:capability:notification:1.0',
    'urn:ietf:params:netconf:capability:interleave:1.0',
    'urn:ietf:params:netconf:capability:xpath:1.0',
  ]) {
    t.ok(caps.includes(cap), `the server hello announces ${cap}`);
  }
  t.ok(caps.includes(`${CAR_NS}?module=car&revision=2014-08-18`), 'the car module is announced as namespace?module=car&revision=2014-08-18 (RFC 6020 5.6.4)');
  t.ok(caps.some((x) => x.startsWith(`${SCALEIN_NS}?module=scalein-api&revision=`)), 'shipped modules (scalein-api) are announced too');
  t.equal(hello.framing, 'base:1.1', 'both hellos carry base:1.1, so ncclient switched to chunked framing (RFC 6242 4.2) and every later step went through it');
  t.ok(Number.isInteger(Number(hello.session_id)) && Number(hello.session_id) > 0, `the session-id is a positive integer (${hello.session_id})`);

  t.test('get-config', async (t) => {
    const start = stepOf(steps, 'running at start');
    // The OVSDB southbound makes the empty ovsdb:1 topology at start, as OpenDaylight's does (issue 18 item 3).
    // (and ITM's default-transport-zone, issue 18 item 5: what the platform and plugins make at start, no user data).
    t.match(start.xml, /<network-topology xmlns="urn:TBD:params:xml:ns:yang:network-topology"><topology><topology-id>ovsdb:1<\/topology-id><\/topology><\/network-topology><\/data>$/, 'get-config of running on a fresh controller holds the empty ovsdb:1 topology');
    t.same(start.cars, [], 'no cars at start');
    t.same(stepOf(steps, 'running after edit').cars.map((e: Step) => e.id), ['cand-1', 'run-1'], 'get-config after edits shows both of them');
  });

  t.test('edit-config on the candidate, then commit', async (t) => {
    t.equal(stepOf(steps, 'edit candidate').ok, true, 'edit-config on the candidate is <ok/>');
    t.same(stepOf(steps, 'running before commit').cars, [], 'running is unchanged before the commit');
    t.same(stepOf(steps, 'candidate before commit').cars, [{ id: 'cand-1', model: 'Model S', year: '2020' }], 'get-config of the candidate shows the edit');
    t.equal(stepOf(steps, 'commit').ok, true, 'commit is <ok/>');
    t.same(stepOf(steps, 'running after commit').cars, [{ id: 'cand-1', model: 'Model S', year: '2020' }], 'running shows the edit after the commit');
    t.same(c.data.read('config', '/car:cars/car-entry=cand-1'), { id: 'cand-1', model: 'Model S', year: 2020 }, 'the committed entry is in the config datastore, year decoded as a uint32');
    const rc = await restconf(c).get('/rests/data/car:cars/car-entry=cand-1');
    t.same(rc.json(), { 'car:car-entry': [{ id: 'cand-1', model: 'Model S', year: 2020 }] }, 'and RESTCONF reads it');
  });

  t.test('edit-config on running (writable-running)', async (t) => {
    t.equal(stepOf(steps, 'edit running').ok, true, 'edit-config with target running is <ok/>');
    t.same(
      stepOf(steps, 'running after edit').cars.find((e: Step) => e.id === 'run-1'),
      { id: 'run-1', model: 'Beetle', manufacturer: 'VW', year: '1970' },
      'get-config of running shows it at once, without a commit',
    );
    t.same(c.data.read('config', '/car:cars/car-entry=run-1'), { id: 'run-1', model: 'Beetle', manufacturer: 'VW', year: 1970 }, 'the datastore holds it');
    t.same(stepOf(steps, 'candidate follows running').cars.map((e: Step) => e.id), ['cand-1', 'run-1'], 'the candidate follows running');
  });
});

t.test('locks between sessions', async (t) => {
  const steps = await python(t, 'locks.py');
  const { a, b } = stepOf(steps, 'sessions');
  t.not(a, b, 'two sessions, two session-ids');
  t.equal(stepOf(steps, 'A locks running').ok, true, 'A locks running');
  const denied: RpcError = stepOf(steps, 'B edits running').error;
  t.match(denied, { tag: 'lock-denied', type: 'protocol', severity: 'error' }, "B's edit-config on running is refused with lock-denied (RFC 6241 7.5)");
  t.same(denied.info, { 'session-id': a }, "error-info names the holder: A's session-id (RFC 6241 appendix A)");
  t.match(stepOf(steps, 'B locks running').error, { tag: 'lock-denied', info: { 'session-id': a } }, 'B cannot lock running either');
  t.ok(stepOf(steps, 'B unlocks running').error, "B cannot unlock A's lock");
  t.equal(stepOf(steps, 'A edits running').ok, true, 'the holder edits running');
  t.equal(stepOf(steps, 'A unlocks running').ok, true, 'A unlocks');
  t.equal(stepOf(steps, 'B edits running after unlock').ok, true, "after A's unlock, B's edit-config succeeds");
  t.notOk(carIds(c).includes('lock-b-1'), 'the refused edit was not written');
  t.ok(carIds(c).includes('lock-a-1') && carIds(c).includes('lock-b-2'), "the holder's and the later edits were");

  t.equal(stepOf(steps, 'A locks candidate').ok, true, 'A locks the candidate');
  t.match(stepOf(steps, 'B edits candidate').error, { tag: 'lock-denied', info: { 'session-id': a } }, "B's edit of the locked candidate is refused");
  t.match(stepOf(steps, 'B commits').error, { tag: 'lock-denied' }, 'and so is its commit');

  t.equal(stepOf(steps, 'A locks running again').ok, true);
  t.equal(stepOf(steps, 'A closes').ok, true, 'A closes its session while holding locks on running and candidate');
  t.equal(stepOf(steps, 'B locks running after A closed').ok, true, "close-session released A's running lock: B locks running");
  t.equal(stepOf(steps, 'B locks candidate after A closed').ok, true, "and A's candidate lock");

  const dropped = stepOf(steps, 'C locks running');
  t.equal(dropped.ok, true, 'C locks running');
  t.match(stepOf(steps, 'B locks running while C holds it').error, { tag: 'lock-denied', info: { 'session-id': dropped.c } });
  const after = stepOf(steps, 'B locks running after C dropped');
  t.equal(after.ok, true, `a session whose SSH connection drops without close-session loses its locks (B got the lock after ${after.tries} tries)`);
  t.equal(stepOf(steps, 'B unlocks running (C)').ok, true);
});

t.test('filters', async (t) => {
  await c.data
    .transaction('config')
    .put('/car:cars/car-entry=flt-1', { id: 'flt-1', model: 'Alpha', year: 2001 })
    .put('/car:cars/car-entry=flt-2', { id: 'flt-2', model: 'Beta', manufacturer: 'B-works', year: 2002 })
    .put('/car:cars/car-entry=flt-3', { id: 'flt-3', model: 'Gamma', year: 2003 })
    .commit();
  const steps = await python(t, 'filters.py', ['flt-2']);
  const state = stepOf(steps, 'get netconf-state/sessions');
  t.same(state.top, ['netconf-state'], 'a subtree filter on <get> returns only netconf-state');
  t.same(state['under netconf-state'], ['sessions'], 'and of it only sessions');
  t.ok(state['session-ids'].includes(state.self), `the session's own id (${state.self}) is in netconf-state/sessions`);
  t.same(stepOf(steps, 'get with xpath').sessions, [{ 'session-id': state.self, username: 'admin' }], 'an xpath filter on <get> with a key predicate selects the own session, its key and the selected username');

  t.ok(stepOf(steps, 'all cars').cars.length >= 3, 'get-config with a subtree filter on cars returns every car');
  const want = [{ id: 'flt-2', model: 'Beta', manufacturer: 'B-works', year: '2002' }];
  t.same(stepOf(steps, 'subtree content match').cars, want, 'a content match on <id> returns only that entry, whole (RFC 6241 6.2.5)');
  t.same(stepOf(steps, 'subtree content match with a selection leaf').cars, [{ id: 'flt-2', model: 'Beta' }], 'a content match with a selection node returns the key and the selected leaf');
  t.same(stepOf(steps, 'xpath').cars, want, "an xpath filter /c:cars/c:car-entry[c:id='flt-2'] returns only that entry");
  t.same(stepOf(steps, 'xpath without prefixes').cars, want, "so does /cars/car-entry[id='flt-2'] without prefixes (ncclient's string form)");
  const none = stepOf(steps, 'subtree content match on nothing');
  t.same(none.cars, [], 'a content match on no entry selects nothing');
  t.match(none.xml, /<data [^>]*\/>$/, 'as an empty <data/>');
});

t.test('xpath filters: //, predicates on non-key leaves, and/or, .., and rpc-errors', async (t) => {
  await c.data
    .transaction('config')
    .put('/car:cars/car-entry=xp-1', { id: 'xp-1', model: 'Alpha', manufacturer: 'XP-works', year: 2001 })
    .put('/car:cars/car-entry=xp-2', { id: 'xp-2', model: 'Beta', manufacturer: 'Other', year: 2002 })
    .put('/car:cars/car-entry=xp-3', { id: 'xp-3', model: 'Gamma', manufacturer: 'XP-works', year: 2003 })
    .commit();
  const steps = await python(t, 'xpath.py');
  const whole = {
    'xp-1': { id: 'xp-1', model: 'Alpha', manufacturer: 'XP-works', year: '2001' },
    'xp-2': { id: 'xp-2', model: 'Beta', manufacturer: 'Other', year: '2002' },
    'xp-3': { id: 'xp-3', model: 'Gamma', manufacturer: 'XP-works', year: '2003' },
  };
  t.same(
    stepOf(steps, 'descendant').cars,
    [{ id: 'xp-1', model: 'Alpha' }, { id: 'xp-2', model: 'Beta' }, { id: 'xp-3', model: 'Gamma' }],
    '//c:car-entry[...]/c:model: each selected leaf with its entry\'s key, entries in the data order',
  );
  t.same(stepOf(steps, 'non-key leaf').cars, [whole['xp-1'], whole['xp-3']], "[c:manufacturer='XP-works'] selects the entries whole");
  t.same(stepOf(steps, 'and/or').cars, [whole['xp-1'], whole['xp-3']], 'and with a parenthesised or');
  t.same(stepOf(steps, 'parent').cars, [whole['xp-2']], '.. from a selected leaf is its entry');
  t.same(stepOf(steps, 'without prefixes').cars, [{ id: 'xp-1', year: '2001' }, { id: 'xp-3', year: '2003' }], "ncclient's string form: // and names without prefixes");
  const own = stepOf(steps, 'get descendant');
  t.same(own.top, ['netconf-state'], '<get> with //m:session[...]: only netconf-state');
  t.equal(own.sessions.length, 1, 'one session selected');
  t.same(Object.keys(own.sessions[0]).sort(), ['session-id', 'username'], 'with its key and the selected username');
  t.equal(own.sessions[0].username, 'admin', 'the username is the session user');

  const syntax: RpcError = stepOf(steps, 'syntax error').error;
  t.match(syntax, { tag: 'invalid-value', type: 'protocol', severity: 'error' }, 'a select that does not parse is an rpc-error invalid-value');
  t.match(syntax.message, /xpath filter "\/c:cars\/c:car-entry\[": .*position/, 'naming the expression and where it fails');
  t.match(stepOf(steps, 'not a node-set').error, { tag: 'invalid-value', message: /yields a number, not a node-set/ }, 'count(...) is refused: only node-sets select');
  t.match(stepOf(steps, 'undeclared prefix').error, { tag: 'invalid-value', message: /unknown prefix "zz"/ }, 'a prefix not declared on <filter> is refused');
  t.same(stepOf(steps, 'after the errors').cars, [{ id: 'xp-1' }], 'the session goes on after the rpc-errors');
});

async function registerComputes(specs: [number, string, number][]) {
  const tx = c.data.transaction('operational');
  for (const [n, name, dpn] of specs) {
    tx.put(`/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(nodeIdOf(n))}`, bridgeJson(n, name, dpn).node[0]);
  }
  await tx.commit();
  await c.data.settled();
}

const computeNodes = () =>
  Object.fromEntries(
    ((c.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as { 'compute-name': string; tombstoned: boolean }[] | undefined) ?? []).map((e) => [e['compute-name'], e]),
  );

t.test('a YANG rpc: scalein-api:scalein-computes-start', async (t) => {
  await registerComputes([[1, 'ncc-1', 101], [2, 'ncc-2', 102]]);
  t.match(computeNodes(), { 'ncc-1': { tombstoned: false }, 'ncc-2': { tombstoned: false } }, 'two computes are registered from their bridges');
  const [unknown, mixed, known] = await python(t, 'scalein.py', [JSON.stringify([['nobody'], ['ncc-2', 'nobody'], ['ncc-1']])]);

  t.match(unknown.error, { tag: 'invalid-value', severity: 'error', message: /"nobody" names no known compute/ }, 'an unknown compute name is an rpc-error invalid-value');
  t.same(unknown.after, unknown.before, 'nothing changed in compute-nodes');
  t.match(mixed.error, { tag: 'invalid-value', message: /"nobody"/ }, 'a known and an unknown name: the whole call fails');
  t.same(mixed.after, mixed.before, 'and the known compute is not tombstoned either');
  t.equal(mixed.after['ncc-2'].tombstoned, 'false');

  t.equal(known.error, undefined, 'a known compute: no rpc-error');
  t.same(known.computes, [{ 'compute-name': 'ncc-1', 'dpn-id': '101', 'node-id': nodeIdOf(1), changed: 'true' }], 'the output parameters come back in <rpc-reply>, in the rpc module namespace');
  t.equal(known.before['ncc-1'].tombstoned, 'false');
  t.equal(known.after['ncc-1'].tombstoned, 'true', 'get-config of compute-nodes shows the compute tombstoned');
  t.match(computeNodes(), { 'ncc-1': { tombstoned: true }, 'ncc-2': { tombstoned: false } }, 'the config datastore holds the tombstone, on that compute only');
});

t.test('create-subscription: a live notification, then replay', async (t) => {
  let triggeredAt: Date | undefined;
  const steps = await python(t, 'notify.py', [], async (step, stdin) => {
    if (step.step !== 'subscribed') return;
    triggeredAt = new Date();
    const r = await restconf(c).post('/rests/operations/scalein-api:scalein-computes-start', { input: { 'scalein-node-ids': ['ncc-2'] } });
    if (r.status !== 200) throw new Error(`scalein-computes-start over RESTCONF: ${r.status} ${r.body}`);
    // Replay windows: from just before the trigger; from the controller's start up to it.
    stdin.write(`${JSON.stringify([{ start: triggeredAt.toISOString() }, { start: startedAt.toISOString(), stop: triggeredAt.toISOString() }])}\n`);
  });
  t.equal(stepOf(steps, 'subscribe').ok, true, 'create-subscription is <ok/>');
  const live = stepOf(steps, 'live').notification;
  t.ok(live, 'the subscribed session receives a notification within 10 s');
  t.equal(live.event, `{${SCALEIN_NS}}compute-tombstoned`, 'it is scalein-api compute-tombstoned');
  t.same(live.leaves, { 'compute-name': 'ncc-2', 'dpn-id': '102', 'node-id': nodeIdOf(2) }, 'naming the compute tombstoned by the RESTCONF call');
  t.ok(new Date(live.eventTime) >= new Date(triggeredAt!.getTime() - 1), 'its eventTime is the time of the tombstone');
  t.equal(stepOf(steps, 'rpc on a subscribed session').ok, true, 'a subscribed session still answers rpcs (interleave:1.0)');
  t.match(stepOf(steps, 'second subscription').error, { tag: 'in-use' }, 'a second subscription on the same session is refused');

  const recent = stepOf(steps, 'replay 0');
  t.equal(recent.ok, true, 'a subscription with a startTime in the past is <ok/>');
  t.same(
    recent.notifications.map((n: Step) => [n.event, n.leaves['compute-name']]),
    [[`{${SCALEIN_NS}}compute-tombstoned`, 'ncc-2'], [`{${NETMOD_NOTIFICATION}}replayComplete`, undefined]],
    'it replays the earlier notification, then replayComplete; nothing logged before startTime (ncc-1)',
  );
  t.equal(recent.notifications[0].eventTime, live.eventTime, 'the replayed notification keeps its eventTime');

  const window = stepOf(steps, 'replay 1');
  t.same(
    window.notifications.map((n: Step) => [n.event, n.leaves['compute-name']]),
    [[`{${SCALEIN_NS}}compute-tombstoned`, 'ncc-1'], [`{${NETMOD_NOTIFICATION}}replayComplete`, undefined], [`{${NETMOD_NOTIFICATION}}notificationComplete`, undefined]],
    'a startTime/stopTime window replays only what happened in it (ncc-1), then replayComplete and notificationComplete',
  );
  t.match(computeNodes(), { 'ncc-2': { tombstoned: true } }, 'the RESTCONF call tombstoned ncc-2');
});

t.test('get-schema', async (t) => {
  const steps = await python(t, 'schema.py');
  for (const name of ['car', 'car at its revision', 'car in yang format']) {
    const s = stepOf(steps, name);
    t.ok(s.ok, `${name}: <ok/>`);
    t.match(s.data, /^module car \{/, `${name}: the <data> is the YANG text of the car module`);
    t.match(s.data, /revision 2014-08-18/);
  }
  t.match(stepOf(steps, 'unknown module').error, { tag: 'invalid-value', severity: 'error', info: { 'bad-element': 'identifier' } }, 'an unknown identifier is an rpc-error invalid-value (RFC 6022 3.1)');
  t.match(stepOf(steps, 'car at another revision').error, { tag: 'invalid-value' }, 'so is a revision the server does not have');
});

t.test('bad edits: the right rpc-error, and nothing written', async (t) => {
  const steps = await python(t, 'errors.py');
  t.equal(stepOf(steps, 'seed').ok, true);
  const before = stepOf(steps, 'before').cars;
  t.match(
    stepOf(steps, 'unknown namespace').error,
    { tag: 'unknown-namespace', type: 'protocol', info: { 'bad-element': 'widgets', 'bad-namespace': 'urn:example:nowhere' } },
    'an element of an unknown namespace is unknown-namespace with bad-element and bad-namespace (RFC 6241 appendix A)',
  );
  t.match(stepOf(steps, 'unknown element').error, { tag: 'unknown-element', path: '/car:cars/bicycle', info: { 'bad-element': 'bicycle' } }, 'an unknown element of a known module is unknown-element, its error-path under its parent');
  t.match(stepOf(steps, 'unknown top-level element').error, { tag: 'unknown-element', info: { 'bad-element': 'trucks' } }, 'so is an unknown top-level element');
  // RFC 6241 4.3: error-path is the absolute XPath of the node; "//x" would be a descendant search.
  for (const [name, element] of [['unknown namespace', 'widgets'], ['unknown top-level element', 'trucks']]) {
    t.equal(stepOf(steps, name).error.path, `/${element}`, `${name}: the error-path of a top-level element is /${element}, one slash`);
  }
  t.match(stepOf(steps, 'create existing').error, { tag: 'data-exists', severity: 'error' }, 'operation="create" of an existing car-entry is data-exists (RFC 6241 7.2)');
  t.equal(stepOf(steps, 'create missing').ok, true, 'operation="create" of a new entry is <ok/>');
  t.match(stepOf(steps, 'delete missing').error, { tag: 'data-missing' }, 'operation="delete" of a missing entry is data-missing');
  t.equal(stepOf(steps, 'remove missing').ok, true, 'operation="remove" of a missing entry is <ok/>');
  t.equal(stepOf(steps, 'delete existing').ok, true, 'operation="delete" of an existing entry is <ok/>');
  t.match(stepOf(steps, 'year abc on running').error, { tag: 'invalid-value', path: /year/ }, 'year "abc" (uint32) on running is invalid-value, its error-path names the leaf');
  t.match(stepOf(steps, 'year abc on candidate').error, { tag: 'invalid-value' }, 'and on the candidate');
  t.same(stepOf(steps, 'candidate after the bad edit').cars, before, 'the candidate was left as it was');
  t.match(stepOf(steps, 'rollback-on-error with one good and one bad entry').error, { tag: 'invalid-value' }, 'rollback-on-error: one bad entry fails the edit');
  t.equal(stepOf(steps, 'commit with no changes').ok, true, 'commit with no changes is <ok/>');
  t.same(stepOf(steps, 'after').cars, before, 'running is as it was: no refused edit, no half of the rolled back one');
  t.same(c.data.read('config', '/car:cars/car-entry=err-1'), { id: 'err-1', model: 'Seed', year: 2001 }, 'the existing entry kept its values');
  for (const id of ['err-bad', 'err-good', 'err-2']) t.notOk(carIds(c).includes(id), `${id} is not in the config datastore`);
  t.equal(c.data.read('config', '/car:cars/car-entry=err-bad'), undefined);
});

t.test('parameters without a namespace (the <config xmlns:xc=...> idiom) are accepted; in a foreign namespace refused', async (t) => {
  const steps = await python(t, 'bare.py');
  // The controller is shared with the other scripts: look at this script's cars only.
  const mine = (step: string) => (stepOf(steps, step).cars as { id: string }[]).filter((e) => /^(bare|foreign)-/.test(e.id));
  const [first, , del]: string[] = stepOf(steps, 'sent').edits;
  t.match(first, /<nc:rpc xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1\.0"[^>]*><nc:edit-config>/, 'ncclient sends a prefixed rpc and edit-config');
  t.match(first, /<config>/, 'with the <config> in no namespace (lxml drops the unused xmlns:xc)');
  t.notMatch(first, /xmlns="urn:ietf:params:xml:ns:netconf:base:1\.0"/, 'and no default namespace the <config> could inherit');
  t.match(del, /<config><cars [^>]*><car-entry nc:operation="delete">/, 'the delete: <config> in no namespace, xc:operation sent as the rpc\'s nc: prefix');
  t.equal(stepOf(steps, 'bare config on candidate').ok, true, 'edit-config of the candidate: <ok/>');
  t.same(mine('candidate through a bare filter'), [{ id: 'bare-1', model: 'Corolla', year: '2016' }], 'the candidate holds the car, read through an unqualified <filter>');
  t.equal(stepOf(steps, 'commit').ok, true, 'commit');
  t.equal(stepOf(steps, 'bare config on running').ok, true, 'edit-config of running: <ok/>');
  t.equal(stepOf(steps, 'bare xc:operation delete').ok, true, 'xc:operation="delete" under the bare <config>: <ok/>');
  t.same(mine('running through a bare filter'), [{ id: 'bare-2', model: 'Prius' }], 'running: bare-1 deleted, bare-2 written');
  const get = stepOf(steps, 'get through a bare filter');
  t.ok(get.session_ids.includes(String(get.own)), `<get> takes the unqualified <filter> too: netconf-state lists session ${get.own}`);

  const foreign = (step: string, element: string) =>
    t.match(
      stepOf(steps, step).error,
      { tag: 'unknown-namespace', type: 'protocol', severity: 'error', info: { 'bad-element': element, 'bad-namespace': 'urn:example:not-netconf' } },
      `${step}: unknown-namespace naming <${element}> and its namespace`,
    );
  foreign('foreign config', 'config');
  foreign('foreign target', 'target');
  foreign('foreign datastore', 'running');
  foreign('foreign default-operation', 'default-operation');
  foreign('foreign source', 'source');
  foreign('foreign filter', 'filter');
  t.same(mine('running at the end'), [{ id: 'bare-2', model: 'Prius' }], 'running is unchanged by the refused edits');
  t.same(carIds(c).filter((id) => String(id).startsWith('foreign')), [], 'no foreign-* car in the config datastore');
  t.same(c.data.read('config', '/car:cars/car-entry=bare-2'), { id: 'bare-2', model: 'Prius' }, 'the datastore holds what ncclient wrote');
});
