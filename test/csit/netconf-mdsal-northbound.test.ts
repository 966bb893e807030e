/**
 * OpenDaylight's MDSAL northbound NETCONF suite, whole and in its order, against Sextant started
 * with `--with-test-models` (OpenDaylight's car, people and car-people modules).
 *
 * Provenance: opendaylight/integration-test `csit/suites/netconf/MDSAL/northbound.robot` (the
 * test cases, below under their names) and `csit/variables/netconf/MDSAL/*.msg` (every request
 * and expected reply, copied verbatim into test/csit/netconf-mdsal/).
 *
 * Each request file is sent as it is, followed by `]]>]]>`, on a raw SSH `netconf` session that
 * starts with the suite's own hello.msg (base:1.0, end-of-message framing), as the suite does
 * through `ssh -s netconf`. Replies are checked as the suite checks them:
 * - Perform_Test: the reply and the `-reply.msg` file are equal as XML.Elements_Should_Be_Equal
 *   with normalize_whitespace sees them (names with namespaces, attributes, whitespace-normalised
 *   text, children in order), after taking out the two things Sextant adds to an rpc-error that
 *   OpenDaylight's replies lack: `<error-path>` and `xml:lang` on `<error-message>` (both RFC 6241;
 *   see test/csit/README.md). Their presence is asserted, so the difference stays known.
 * - Should_Contain / Should_Not_Contain: substrings of the reply text, exactly the suite's.
 *
 * Against an external controller (ODL_SYSTEM_IP set): its NETCONF port is ODL_NETCONF_MDSAL_PORT
 * (default 2830), user ODL_NETCONF_USER / ODL_NETCONF_PASSWORD (default admin/admin), as in the
 * suite's Variables.py; it must serve the test models (the suite is skipped otherwise).
 */
import t from 'tap';
import type { Test } from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, NC_BASE, parseXml, type NetconfTestSession, type XmlNode } from '../helpers/netconf.ts';
import { startSuiteController } from './lib/env.ts';

const DATA = join(import.meta.dirname, 'netconf-mdsal');
const CAR_NS = 'urn:opendaylight:params:xml:ns:yang:controller:config:sal-clustering-it:car';
const EOM = ']]>]]>';

/** Get_Data: a file of the data set, as read (final newline included). */
const data = (name: string) => readFileSync(join(DATA, `${name}.msg`), 'utf8');

const suite = await startSuiteController(t, ['--with-test-models']);
const netconfPort = suite.controller?.netconf.port ?? Number(process.env.ODL_NETCONF_MDSAL_PORT || 2830);
const user = suite.controller ? suite.controller.config.username : process.env.ODL_NETCONF_USER || 'admin';
const password = suite.controller ? suite.controller.config.password : process.env.ODL_NETCONF_PASSWORD ?? 'admin';

let s: NetconfTestSession;

/** Open_ODL_Netconf_Connection: the server's hello, then hello.msg. */
async function open(): Promise<NetconfTestSession> {
  const session = await connect(netconfPort, { t, user, password, hello: false });
  session.sendRaw(data('hello') + EOM);
  return session;
}

/** Load_And_Send_Message: the request file as it is, then the prompt; the reply text. */
async function send(name: string): Promise<string> {
  s.sendRaw(data(`${name}-request`) + EOM);
  return s.read();
}

// ----- XML.Elements_Should_Be_Equal(normalize_whitespace=True) -----

const normalized = (text: string) => text.split(/\s+/).filter(Boolean).join(' ');

/** The differences between two elements as Robot's XML library reports them; [] when equal. */
function elementDiff(actual: XmlNode, expected: XmlNode, where = ''): string[] {
  const here = `${where}/${expected.name}`;
  if (actual.ns !== expected.ns || actual.name !== expected.name) return [`${here}: tag {${actual.ns}}${actual.name} is not {${expected.ns}}${expected.name}`];
  const out: string[] = [];
  if (JSON.stringify(Object.entries(actual.attrs).sort()) !== JSON.stringify(Object.entries(expected.attrs).sort())) {
    out.push(`${here}: attributes ${JSON.stringify(actual.attrs)} are not ${JSON.stringify(expected.attrs)}`);
  }
  if (normalized(actual.text) !== normalized(expected.text)) out.push(`${here}: text "${normalized(actual.text)}" is not "${normalized(expected.text)}"`);
  if (actual.children.length !== expected.children.length) {
    out.push(`${here}: ${actual.children.length} children (${actual.children.map((c) => c.name).join(', ')}), not ${expected.children.length} (${expected.children.map((c) => c.name).join(', ')})`);
    return out;
  }
  actual.children.forEach((c, i) => out.push(...elementDiff(c, expected.children[i], here)));
  return out;
}

const XML_LANG = '{http://www.w3.org/XML/1998/namespace}lang';

/**
 * Takes out of a reply what Sextant's rpc-errors carry beyond OpenDaylight's (error-path, and
 * xml:lang on error-message) and says what it took.
 */
function withoutKnownAdditions(reply: XmlNode): { reply: XmlNode; taken: string[] } {
  const taken: string[] = [];
  const strip = (el: XmlNode): XmlNode => {
    let children = el.children;
    let attrs = el.attrs;
    if (el.name === 'rpc-error' && el.ns === NC_BASE) {
      children = children.filter((c) => {
        const path = c.name === 'error-path' && c.ns === NC_BASE;
        if (path) taken.push(`error-path ${c.text.trim()}`);
        return !path;
      });
    }
    if (el.name === 'error-message' && XML_LANG in attrs) {
      taken.push(`xml:lang="${attrs[XML_LANG]}"`);
      attrs = Object.fromEntries(Object.entries(attrs).filter(([k]) => k !== XML_LANG));
    }
    return { ...el, attrs, children: children.map(strip) };
  };
  return { reply: strip(reply), taken };
}

/** Perform_Test: send the request, compare the reply with the expected one; returns what was taken out. */
async function performTest(t: Test, name: string): Promise<string[]> {
  const actualText = (await send(name)).replace(EOM, '').trim();
  const expected = parseXml(data(`${name}-reply`));
  const { reply, taken } = withoutKnownAdditions(parseXml(actualText));
  t.same(elementDiff(reply, expected), [], `${name}: the reply equals ${name}-reply.msg${taken.length ? ` (beyond it: ${taken.join(', ')})` : ''}\n${actualText}`);
  return taken;
}

// ----- the suite's checks on reply text -----

function contains(t: Test, reply: string, keyword: 'Should_Contain' | 'Should_Not_Contain', needles: string[]): void {
  for (const n of needles) {
    if (keyword === 'Should_Contain') t.ok(reply.includes(n), `the reply contains ${n}`);
    else t.notOk(reply.includes(n), `the reply does not contain ${n}`);
  }
}

const FIRST_BATCH = ['<id>TOY001</id>', '<id>CUST001</id>', '<car-id>TOY001</car-id>', '<person-id>CUST001</person-id>'];
const SECOND_BATCH = ['<id>OLD001</id>', '<id>CUST002</id>', '<car-id>OLD001</car-id>', '<person-id>CUST002</person-id>'];
const MULTIPLE_BATCH = ['CAROLD', 'CUSTOLD', 'CARYOUNG', 'CUSTYOUNG', 'CARMID', 'CUSTMID', 'CAROLD2', 'CUSTOLD2'].reduce<string[]>(
  (all, id, i) => (i % 2 ? [...all, `<id>${id}</id>`, `<person-id>${id}</person-id>`] : [...all, `<id>${id}</id>`, `<car-id>${id}</car-id>`]),
  [],
);
const AUXILIARY = ['<id>CUSTBAD</id>', '<id>test</id>'];

/** Check_Test_Objects_Not_Present_In_Config. */
async function checkTestObjectsNotPresent(t: Test, name: string): Promise<void> {
  const reply = await send(name);
  t.match(reply, /<data[ >/]/, `${name}: a <data> reply`);
  contains(t, reply, 'Should_Not_Contain', [...FIRST_BATCH, ...SECOND_BATCH, ...MULTIPLE_BATCH, ...AUXILIARY, '<id>REPLACE</id>']);
}

// ----- the suite -----

// An external controller without the test models cannot run the suite: say so once, skip it.
const probe = await open();
const skip = probe.serverCapabilities.some((c) => c.startsWith(`${CAR_NS}?`)) ? false : 'the controller does not serve the car model (start it with --with-test-models)';
probe.abort();

/** One test case of the suite (all skipped together when the controller cannot run it). */
function testCase(name: string, fn: (t: Test) => Promise<unknown>): void {
  t.test(name, { skip }, async (t) => {
    await fn(t);
  });
}

testCase('Connect_To_ODL_Netconf', async (t) => {
  s = await open();
  t.ok(s.sessionId > 0, `session ${s.sessionId}`);
  t.ok(s.serverCapabilities.includes('urn:ietf:params:netconf:base:1.0'), 'base:1.0 offered');
  t.ok(s.serverCapabilities.some((c) => c.startsWith(`${CAR_NS}?module=car&revision=2014-08-18`)), 'the car module at its revision');
});

testCase('Get_Config_Running', (t) => checkTestObjectsNotPresent(t, 'get-config'));

testCase('Missing_Message_ID_Attribute', async (t) => {
  t.same(await performTest(t, 'missing-attr'), ['xml:lang="en"'], 'beyond OpenDaylight\'s reply: only xml:lang (the message is its own text, "Missing attribute rpc")');
});

testCase('Additional_Attributes_In_Message', async (t) => {
  const reply = await send('additional-attr');
  contains(t, reply, 'Should_Contain', [
    'xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"',
    'message-id="1"',
    'attribute="something"',
    'additional="otherthing"',
    'xmlns:prefix="http://www.example.com/my-schema-example.html"',
  ]);
});

testCase('Send_Stuff_In_Undefined_Namespace', async (t) => {
  const reply = await send('merge-nonexistent-namespace');
  contains(t, reply, 'Should_Not_Contain', ['java.lang.NullPointerException']);
  contains(t, reply, 'Should_Contain', ['urn:this:is:in:a:nonexistent:namespace', '<rpc-error>']);
});

testCase('Edit_Config_First_Batch_Merge', (t) => performTest(t, 'merge-1'));
testCase('Get_Config_Running_To_Confirm_No_Edit_Before_Commit', (t) => checkTestObjectsNotPresent(t, 'get-config-no-edit-before-commit'));
testCase('Commit_Edit', (t) => performTest(t, 'commit-edit'));

testCase('First_Batch_In_Config_Running_To_Confirm_Edit_After_Commit', async (t) => {
  contains(t, await send('get-config-edit-after-commit'), 'Should_Contain', FIRST_BATCH);
});

/** Close_ODL_Netconf_Connection_Gracefully: Perform_Test close-session, then the ssh is killed. */
async function closeGracefully(t: Test): Promise<void> {
  await performTest(t, 'close-session');
  await s.waitClosed(5000);
  t.ok(s.closed, 'the server ended the session after its reply');
  s.abort();
}

testCase('Terminate_Connection_Gracefully', closeGracefully);

testCase('Reconnect_To_ODL_Netconf_After_Graceful_Session_End', async (t) => {
  const before = s.sessionId;
  s = await open();
  t.not(s.sessionId, before, `a new session ${s.sessionId}`);
});

testCase('First_Batch_In_Config_Running_After_Reconnect', async (t) => {
  contains(t, await send('get-config-edit-after-commit'), 'Should_Contain', FIRST_BATCH);
});

testCase('Edit_Config_Create_Shall_Fail_Now', async (t) => {
  const taken = await performTest(t, 'create');
  t.match(taken, [/^error-path \/[a-z]+:people$/, 'xml:lang="en"'], 'beyond OpenDaylight\'s reply: xml:lang, and the error-path of what exists (default-operation create of <people> meets the people container CUST001 is in)');
});

testCase('Delete_First_Batch', (t) => performTest(t, 'delete'));

testCase('Get_Config_Running_To_Confirm_No_Delete_Before_Commit', async (t) => {
  contains(t, await send('get-config-no-delete-before-commit'), 'Should_Contain', FIRST_BATCH);
});

testCase('Commit_Delete', (t) => performTest(t, 'commit-delete'));
testCase('Get_Config_Running_To_Confirm_Delete_After_Commit', (t) => checkTestObjectsNotPresent(t, 'get-config-delete-after-commit'));
testCase('Commit_No_Transaction', (t) => performTest(t, 'commit-no-transaction'));
testCase('Edit_Config_Second_Batch_Merge', (t) => performTest(t, 'merge-2'));

testCase('Get_And_Check_Config_Candidate_For_Discard', async (t) => {
  const reply = await send('get-config-candidate');
  contains(t, reply, 'Should_Not_Contain', FIRST_BATCH);
  contains(t, reply, 'Should_Contain', SECOND_BATCH);
});

testCase('Discard_Changes_Using_Discard_Request', (t) => performTest(t, 'commit-discard'));
testCase('Get_And_Check_Config_Candidate_To_Confirm_Discard', (t) => checkTestObjectsNotPresent(t, 'get-config-candidate-discard'));
testCase('Edit_Config_Multiple_Batch_Merge_Create', (t) => performTest(t, 'merge-multiple-create'));
testCase('Edit_Config_Multiple_Batch_Merge_Third', (t) => performTest(t, 'merge-multiple-1'));
testCase('Edit_Config_Multiple_Batch_Merge_Fourth', (t) => performTest(t, 'merge-multiple-2'));
testCase('Edit_Config_Multiple_Batch_Merge_Fifth', (t) => performTest(t, 'merge-multiple-3'));
testCase('Commit_Multiple_Merge', (t) => performTest(t, 'merge-multiple-commit'));

testCase('Multiple_Batch_Data_In_Running_Config', async (t) => {
  contains(t, await send('merge-multiple-check'), 'Should_Contain', MULTIPLE_BATCH);
});

testCase('Abort_Connection_To_Simulate_Session_Failure', async (t) => {
  s.abort();
  t.ok(s.closed, 'the connection is gone without a close-session');
});

testCase('Reconnect_To_ODL_Netconf_After_Session_Failure', async (t) => {
  s = await open();
  t.ok(s.sessionId > 0, `session ${s.sessionId}`);
});

testCase('Multiple_Batch_Data_In_Running_Config_After_Session_Failure', async (t) => {
  contains(t, await send('merge-multiple-check'), 'Should_Contain', MULTIPLE_BATCH);
});

testCase('Edit_Multiple_Merge_Data', (t) => performTest(t, 'merge-multiple-edit'));
testCase('Commit_Multiple_Modules_Merge_Edit', (t) => performTest(t, 'merge-multiple-edit-commit'));

testCase('Check_Multiple_Modules_Merge_Edit', async (t) => {
  contains(t, await send('merge-multiple-edit-check'), 'Should_Contain', ['<id>test</id>', '<model>Dixi</model>', '<manufacturer>BMW</manufacturer>', '<year>1928</year>']);
});

testCase('Update_Multiple_Modules_Merge', (t) => performTest(t, 'merge-multiple-update'));
testCase('Commit_Multiple_Modules_Merge_Update', (t) => performTest(t, 'merge-multiple-update-commit'));

testCase('Check_Multiple_Modules_Merge_Update', async (t) => {
  const reply = await send('merge-multiple-update-check');
  contains(t, reply, 'Should_Contain', ['<id>test</id>', '<model>Bentley Speed Six</model>', '<manufacturer>Bentley</manufacturer>', '<year>1930</year>']);
  contains(t, reply, 'Should_Not_Contain', ['<model>Dixi</model>', '<manufacturer>BMW</manufacturer>', '<year>1928</year>']);
});

testCase('Replace_Multiple_Modules_Merge', (t) => performTest(t, 'merge-multiple-replace'));
testCase('Commit_Multiple_Modules_Merge_Replace', (t) => performTest(t, 'merge-multiple-replace-commit'));

testCase('Check_Multiple_Modules_Merge_Replace', async (t) => {
  const reply = await send('merge-multiple-replace-check');
  contains(t, reply, 'Should_Contain', ['<id>REPLACE</id>', '<manufacturer>FIAT</manufacturer>', '<model>Panda</model>', '<year>2003</year>', '<car-id>REPLACE</car-id>']);
  contains(t, reply, 'Should_Not_Contain', [
    '<id>TOY001</id>',
    '<id>CUST001</id>',
    '<car-id>TOY001</car-id>',
    '<person-id>CUST001</person-id>',
    '<id>OLD001</id>',
    '<id>CUST002</id>',
    '<car-id>OLD001</car-id>',
    '<person-id>CUST002</person-id>',
    '<id>CAROLD</id>',
  ]);
  contains(t, reply, 'Should_Contain', ['<id>CUSTOLD</id>']);
  contains(t, reply, 'Should_Not_Contain', ['<car-id>CAROLD</car-id>', '<person-id>CUSTOLD</person-id>', '<id>CARYOUNG</id>']);
  contains(t, reply, 'Should_Contain', ['<id>CUSTYOUNG</id>']);
  contains(t, reply, 'Should_Not_Contain', ['<car-id>CARYOUNG</car-id>']);
  contains(t, reply, 'Should_Contain', ['<person-id>CUSTYOUNG</person-id>']);
  contains(t, reply, 'Should_Not_Contain', ['<id>CARMID</id>']);
  contains(t, reply, 'Should_Contain', ['<id>CUSTMID</id>']);
  contains(t, reply, 'Should_Not_Contain', ['<car-id>CARMID</car-id>', '<person-id>CUSTMID</person-id>', '<id>CAROLD2</id>']);
  contains(t, reply, 'Should_Contain', ['<id>CUSTOLD2</id>']);
  contains(t, reply, 'Should_Not_Contain', ['<car-id>CAROLD2</car-id>', '<person-id>CUSTOLD2</person-id>', '<id>CUSTBAD</id>', '<id>test</id>']);
});

testCase('Remove_Test_Data', (t) => performTest(t, 'merge-multiple-remove'));
testCase('Commit_Test_Data_Removal', (t) => performTest(t, 'merge-multiple-remove-commit'));

testCase('Connector_Simplified_Pattern', async (t) => {
  for (const name of ['none-replace', 'commit-edit', 'delete', 'commit-edit']) await performTest(t, name);
});

testCase('Test_Bug_7791', async (t) => {
  for (const name of ['bug7791-1', 'bug7791-2', 'commit-edit', 'delete', 'commit-edit']) await performTest(t, name);
});

testCase('Delete_Not_Existing_Element', async (t) => {
  const taken = await performTest(t, 'delete-not-existing');
  t.match(taken, [/^error-path \/[a-z]+:cars$/, 'xml:lang="en"'], 'beyond OpenDaylight\'s reply: the error-path of the missing cars container and xml:lang');
});

testCase('Commit_Delete_Not_Existing_Module', (t) => performTest(t, 'commit-no-transaction'));
testCase('Remove_Not_Existing_Module', (t) => performTest(t, 'remove-not-existing'));
testCase('Commit_Remove_Not_Existing_Module', (t) => performTest(t, 'remove-not-existing-commit'));

testCase('Close_Session', async (t) => {
  await performTest(t, 'close-session');
  await s.waitClosed(5000);
  t.ok(s.closed, 'the server ended the session after its reply');
});

// ----- beyond the suite: bad input in the suite's own message style -----

/** A request in the form of the suite's merge-1-request.msg, with `config` as the <config> element. */
const editRequest = (id: string, config: string) =>
  `<rpc message-id="${id}" xmlns="${NC_BASE}">\n<edit-config>\n<target>\n<candidate/>\n</target>\n<default-operation>merge</default-operation>\n${config}\n</edit-config>\n</rpc>\n`;
const carEntry = (leaves: string) => `<cars xmlns="${CAR_NS}">\n  <car-entry>\n    ${leaves}\n  </car-entry>\n</cars>`;

t.test('edit-config whose <config> is in a foreign namespace: rpc-error, nothing written', { skip }, async (t) => {
  s = await open();
  s.sendRaw(editRequest('bad-1', `<config xmlns="urn:example:foreign">\n${carEntry('<id>FOREIGN</id>')}\n</config>`) + EOM);
  const r = parseXml(await s.read());
  const err = r.children.find((c) => c.name === 'rpc-error');
  const text = (name: string) => err?.children.find((c) => c.name === name)?.text.trim();
  t.equal(text('error-tag'), 'unknown-namespace', `error-tag unknown-namespace (${text('error-message')})`);
  t.equal(text('error-type'), 'protocol');
  t.same(
    Object.fromEntries((err?.children.find((c) => c.name === 'error-info')?.children ?? []).map((c) => [c.name, c.text.trim()])),
    { 'bad-element': 'config', 'bad-namespace': 'urn:example:foreign' },
    'error-info names the element and its namespace',
  );
  const cand = await send('get-config-candidate');
  contains(t, cand, 'Should_Not_Contain', ['<id>FOREIGN</id>']);
});

t.test('a car entry with a wrong type for a leaf: rpc-error invalid-value, nothing written', { skip }, async (t) => {
  s.sendRaw(editRequest('bad-2', `<config>\n${carEntry('<id>BADYEAR</id>\n    <year>nineteen</year>')}\n</config>`) + EOM);
  const r = parseXml(await s.read());
  const err = r.children.find((c) => c.name === 'rpc-error');
  const text = (name: string) => err?.children.find((c) => c.name === name)?.text.trim();
  t.equal(text('error-tag'), 'invalid-value', `error-tag invalid-value (${text('error-message')})`);
  // Decoded as part of <cars>, the entry's key is not in the path (the XML codec's list paths).
  t.match(text('error-path'), /^\/[a-z]+:cars\/[a-z]+:car-entry(\[[a-z]+:id='BADYEAR'\])?\/[a-z]+:year$/, `error-path names the leaf (${text('error-path')})`);
  // The entry edited by its own operation (bug7791-2-request.msg's form): the path has its key.
  s.sendRaw(
    `<rpc message-id="bad-3" a="64" xmlns="${NC_BASE}"><edit-config><target><candidate/></target><default-operation>none</default-operation><config>` +
      `<cars xmlns="${CAR_NS}"><car-entry xmlns:a="${NC_BASE}" a:operation="replace"><id>BADYEAR</id><year>nineteen</year></car-entry></cars></config></edit-config></rpc>${EOM}`,
  );
  const entryErr = parseXml(await s.read()).children.find((c) => c.name === 'rpc-error');
  const entryPath = entryErr?.children.find((c) => c.name === 'error-path')?.text.trim();
  t.match(entryPath, /^\/[a-z]+:cars\/[a-z]+:car-entry\[[a-z]+:id='BADYEAR'\]\/[a-z]+:year$/, `a:operation="replace" on the entry: invalid-value at ${entryPath}`);
  contains(t, await send('get-config-candidate'), 'Should_Not_Contain', ['<id>BADYEAR</id>']);
  await performTest(t, 'commit-no-transaction');
  contains(t, await send('get-config-edit-after-commit'), 'Should_Not_Contain', ['<id>BADYEAR</id>']);
  await performTest(t, 'close-session');
  await s.waitClosed(5000);
});

t.test('what the suite left in the config datastore: none of its objects', { skip: !suite.controller && 'external controller' }, async (t) => {
  const c = suite.controller!;
  t.same(c.data.read('config', '/car:cars/car-entry') ?? [], [], 'no car');
  t.same(c.data.read('config', '/people:people/person') ?? [], [], 'no person');
  t.same(c.data.read('config', '/car-people:car-people/car-person') ?? [], [], 'no car-person');
});
