/**
 * Ended operation occurrences are kept to a bound (--vnf-op-occs-kept): past it by a tenth (at
 * least one), the oldest ended ones go in the commit that ends another; the newest stay, and an
 * occurrence still holding its instance is never pruned.
 */
import t from 'tap';
import { testController } from '../helpers/controller.ts';
import { waitUntil } from '../helpers/process.ts';
import { csarOf, occOf, onboard, tackerApi, VNFD_ID, VNFD_TEXT } from '../helpers/vnf.ts';

const TOKEN = 'vnf-retention-token-5d21';

t.test('with --vnf-op-occs-kept=2, five MODIFY_INFO occurrences leave the newest three', async (t) => {
  const c = await testController(t, ['--plugins=vim-monitor,vnf', '--datastore=memory', `--api-token=${TOKEN}`, '--vnf-op-occs-kept=2']);
  const api = tackerApi(c.http.listening().get('tacker')!.url, TOKEN);
  await onboard(api, csarOf(VNFD_TEXT));
  const vnf = (await api('POST', '/vnflcm/v2/vnf_instances', { vnfdId: VNFD_ID })).json.id as string;
  const ids: string[] = [];
  const state = (id: string) => (c.data.read('config', `/sextant-vnflcm:vnflcm/vnf-lcm-op-occ=${id}`) as { 'operation-state'?: string } | undefined)?.['operation-state'];
  for (let i = 0; i < 5; i++) {
    const id = occOf(await api('PATCH', `/vnflcm/v2/vnf_instances/${vnf}`, { vnfInstanceName: `name-${i}` }));
    await waitUntil(`MODIFY_INFO ${i} COMPLETED`, () => state(id) === 'COMPLETED' && !(c.data.read('config', `/sextant-vnflcm:vnflcm/vnf-instance=${vnf}`) as { 'current-operation'?: string })['current-operation']);
    ids.push(id);
  }
  const left = ((c.data.read('config', '/sextant-vnflcm:vnflcm/vnf-lcm-op-occ') as { id: string }[] | undefined) ?? []).map((o) => o.id);
  t.same(left.sort(), ids.slice(2).sort(), 'the two oldest were pruned when the fourth ended; the newest three remain');
  t.equal((await api('GET', `/vnflcm/v2/vnf_lcm_op_occs/${ids[0]}`)).status, 404, 'a pruned occurrence is 404');
  t.match((await api('GET', `/vnflcm/v2/vnf_instances/${vnf}`)).json, { vnfInstanceName: 'name-4' }, 'and the instance shows the last change');
});
