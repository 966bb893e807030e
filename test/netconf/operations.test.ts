/**
 * The NETCONF operations the README lists beyond get/edit-config, each read back through the
 * datastore: edit-config test-only checks and writes nothing, continue-on-error is refused and
 * writes nothing, validate of the candidate and of inline config, copy-config (inline config to
 * running, running to candidate, candidate to running), delete-config of the candidate (and
 * running refused).
 */
import t from 'tap';
import { resolve } from 'node:path';
import { testController } from '../helpers/controller.ts';
import { connect } from '../helpers/netconf.ts';

const REPO = resolve(import.meta.dirname, '../..');
const CAR = 'urn:opendaylight:params:xml:ns:yang:controller:config:sal-clustering-it:car';
const c = await testController(t, ['--datastore=memory', `--yang-dir=${REPO}/yang,${REPO}/test/netconf/yang`]);
const s = await connect(c.netconf.port, { t });

const cars = (...ids: string[]) => `<cars xmlns="${CAR}">${ids.map((id) => `<car-entry><id>${id}</id><model>m</model></car-entry>`).join('')}</cars>`;
const runningIds = () => ((c.data.read('config', '/car:cars') as { 'car-entry'?: { id: string }[] } | undefined)?.['car-entry'] ?? []).map((e) => e.id).sort();
const candidateIds = async () => {
  const r = await s.rpc('<get-config><source><candidate/></source></get-config>');
  return (r.data?.children.find((x) => x.name === 'cars')?.children ?? []).map((e) => e.children.find((x) => x.name === 'id')!.text).sort();
};
const edit = (target: string, config: string, extra = '') => s.rpc(`<edit-config><target><${target}/></target>${extra}<config>${config}</config></edit-config>`);

t.test('edit-config test-only checks the edit and writes nothing; a bad one is refused', async (t) => {
  t.ok((await edit('running', cars('a'))).ok, 'a first car is written');
  const r = await edit('running', cars('test-only-car'), '<test-option>test-only</test-option>');
  t.ok(r.ok, 'a valid edit with test-only is <ok/>');
  const bad = await edit('running', `<cars xmlns="${CAR}"><car-entry><id>x</id><year>not-a-year</year></car-entry></cars>`, '<test-option>test-only</test-option>');
  t.equal(bad.errors[0]?.tag, 'invalid-value', 'an invalid edit with test-only gets the error the real edit would');
  // A later real edit is seen; the test-only one before it still is not.
  t.ok((await edit('running', cars('b'))).ok, 'a later real edit');
  t.same(runningIds(), ['a', 'b'], 'running holds the real edits and not the test-only one');
});

t.test('continue-on-error is refused, and nothing of the edit is written', async (t) => {
  const r = await edit('running', cars('half'), '<error-option>continue-on-error</error-option>');
  t.match(r.errors[0], { tag: 'operation-not-supported', info: { 'bad-element': 'error-option' } }, 'operation-not-supported, naming error-option');
  t.notOk(runningIds().includes('half'), 'nothing was written');
});

t.test('validate: the candidate, and inline config (a bad one gets the error)', async (t) => {
  t.ok((await edit('candidate', cars('cand'))).ok, 'an edit of the candidate');
  t.ok((await s.rpc('<validate><source><candidate/></source></validate>')).ok, 'validate candidate is <ok/>');
  t.ok((await s.rpc(`<validate><source><config>${cars('inline')}</config></source></validate>`)).ok, 'valid inline config is <ok/>');
  const bad = await s.rpc(`<validate><source><config><cars xmlns="${CAR}"><car-entry><id>y</id><year>not-a-year</year></car-entry></cars></config></source></validate>`);
  t.equal(bad.errors[0]?.tag, 'invalid-value', 'invalid inline config gets invalid-value');
  t.notOk(runningIds().includes('inline'), 'validate writes nothing to running');
  t.ok((await s.rpc('<discard-changes/>')).ok, 'the candidate edit is discarded');
});

t.test('copy-config: inline config to running, running to candidate, candidate to running', async (t) => {
  t.ok((await s.rpc(`<copy-config><target><running/></target><source><config>${cars('x', 'y')}</config></source></copy-config>`)).ok, 'inline config to running');
  t.same(runningIds(), ['x', 'y'], 'running is replaced whole by the inline config');
  t.ok((await edit('candidate', cars('z'))).ok, 'the candidate gets an extra car');
  t.same(await candidateIds(), ['x', 'y', 'z'], 'the candidate has it');
  t.ok((await s.rpc('<copy-config><target><candidate/></target><source><running/></source></copy-config>')).ok, 'running to candidate');
  t.same(await candidateIds(), ['x', 'y'], 'the candidate is reset to running');
  t.ok((await edit('candidate', cars('w'))).ok, 'the candidate gets another car');
  t.ok((await s.rpc('<copy-config><target><running/></target><source><candidate/></source></copy-config>')).ok, 'candidate to running');
  t.same(runningIds(), ['w', 'x', 'y'], 'running now holds the candidate');
  const self = await s.rpc('<copy-config><target><running/></target><source><running/></source></copy-config>');
  t.equal(self.errors[0]?.tag, 'invalid-value', 'copying running to itself is refused');
});

t.test('delete-config empties the candidate and leaves running; delete-config of running is refused', async (t) => {
  t.ok((await s.rpc('<delete-config><target><candidate/></target></delete-config>')).ok, 'delete-config candidate');
  t.same(await candidateIds(), [], 'the candidate is empty');
  t.same(runningIds(), ['w', 'x', 'y'], 'running is untouched');
  const r = await s.rpc('<delete-config><target><running/></target></delete-config>');
  t.match(r.errors[0], { tag: 'operation-not-supported' }, 'running cannot be deleted (RFC 6241 7.4)');
  t.same(runningIds(), ['w', 'x', 'y'], 'and is still whole');
  t.ok((await s.rpc('<discard-changes/>')).ok, 'discard-changes');
  t.same(await candidateIds(), ['w', 'x', 'y'], 'the candidate follows running again');
});
