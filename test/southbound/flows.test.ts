import t from 'tap';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flowJson, flowPath, ofctlFlow, type FlowSpec } from '../../src/southbound/openflow/flows.ts';
import { tempDir } from '../helpers/tmp.ts';

const spec: FlowSpec = {
  table: 51,
  id: 'net.x.remote.y',
  priority: 90,
  cookie: 0x5e10000012345678n,
  match: { metadata: { value: 1001n, mask: 0xffffffn }, ethDst: 'FA:16:3E:00:00:01' },
  instructions: { apply: [{ setTunnelId: 1001n }, { output: 32768 }] },
};

t.test('a flow in the inventory model and as ovs-ofctl text', async (t) => {
  t.equal(flowPath(161n, 51, 'a/b').text, '/opendaylight-inventory:nodes/node=openflow%3A161/flow-node-inventory:table=51/flow=a%2Fb', 'path with encoded keys');
  const json = flowJson(161n, spec);
  t.match(json, {
    id: 'net.x.remote.y',
    table_id: 51,
    priority: 90,
    cookie: (0x5e10000012345678n).toString(),
    match: { metadata: { metadata: '1001', 'metadata-mask': '16777215' }, 'ethernet-match': { 'ethernet-destination': { address: 'fa:16:3e:00:00:01' } } },
    instructions: { instruction: [{ order: 0, 'apply-actions': { action: [{ order: 0, 'set-field': { tunnel: { 'tunnel-id': '1001' } } }, { order: 1, 'output-action': { 'output-node-connector': '32768' } }] } }] },
  }, 'OpenDaylight flow shape, uint64 as strings');
  t.equal(
    ofctlFlow(json),
    'table=51,priority=90,cookie=0x5e10000012345678,metadata=0x3e9/0xffffff,dl_dst=fa:16:3e:00:00:01,actions=set_field:0x3e9->tun_id,output:32768',
  );
  const classifier = flowJson(1n, { table: 0, id: 'c', priority: 100, cookie: 1n, match: { inPort: 5 }, instructions: { writeMetadata: { value: 7n, mask: 0xffffffn }, goToTable: 17 } });
  t.equal(ofctlFlow(classifier), 'table=0,priority=100,cookie=0x1,in_port=5,actions=write_metadata:0x7/0xffffff,goto_table:17');
  const punt = flowJson(1n, { table: 21, id: 'p', priority: 124, cookie: 2n, match: { metadata: { value: 7n, mask: 0xffffffn }, ipv4Dst: '10.0.0.0/24' }, instructions: { apply: [{ controller: 65535 }] } });
  t.equal(ofctlFlow(punt), 'table=21,priority=124,cookie=0x2,ip,metadata=0x7/0xffffff,nw_dst=10.0.0.0/24,actions=controller:65535');
  const dir = tempDir(t);
  writeFileSync(join(dir, 'f'), [json, classifier, punt].map(ofctlFlow).join('\n'));
  const r = spawnSync('ovs-ofctl', ['-O', 'OpenFlow13', 'parse-flows', join(dir, 'f')], { encoding: 'utf8' });
  t.equal(r.status, 0, `ovs-ofctl accepts them ${r.stderr}`);
});

t.test('what has no rendering is refused, never dropped', async (t) => {
  t.throws(() => ofctlFlow({ id: 'v', table_id: 0, match: { 'vlan-match': { 'vlan-id': { 'vlan-id': 5 } } } }), /match field vlan-match has no ovs-ofctl rendering/);
  t.throws(() => ofctlFlow({ id: 'm', table_id: 0, instructions: { instruction: [{ order: 0, meter: { 'meter-id': 1 } }] } }), /instruction meter/);
  t.throws(() => ofctlFlow({ id: 'g', table_id: 0, instructions: { instruction: [{ order: 0, 'apply-actions': { action: [{ order: 0, 'group-action': { 'group-id': 1 } }] } }] } }), /action group-action/);
  t.equal(ofctlFlow({ id: 'e', table_id: 3, priority: 0 }), 'table=3,priority=0,actions=drop', 'no instructions: drop');
});
