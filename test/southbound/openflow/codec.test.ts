import t from 'tap';
import { spawnSync } from 'node:child_process';
import {
  decode,
  encode,
  Framer,
  FLOW_MOD_COMMAND,
  GROUP_ANY,
  matchKey,
  MULTIPART_REPLY_MORE,
  NO_BUFFER,
  OfDecodeError,
  oxm,
  OXM,
  PORT,
  type Message,
} from '../../../src/southbound/openflow/codec.ts';
import { flowJson, ofctlFlow, switchFlow } from '../../../src/southbound/openflow/flows.ts';

const hex = (b: Buffer) => b.toString('hex');
/** What Open vSwitch's own decoder makes of bytes we encode (a real peer's reading). */
function ofpPrint(b: Buffer): string {
  const r = spawnSync('ovs-ofctl', ['ofp-print', hex(b)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

t.test('HELLO: header and version bitmap byte for byte (OF 1.3.5 §7.5.1)', async (t) => {
  const b = encode({ type: 'hello', xid: 1, version: 4, versions: [4] });
  t.equal(hex(b), '04000010000000010001000800000010', 'ofp_header, one VERSIONBITMAP element with bit 4');
  t.match(ofpPrint(b), /OFPT_HELLO \(OF1.3\).*\n version bitmap: 0x04/);
  t.same(decode(Buffer.from('0100000800000007', 'hex')), { type: 'hello', xid: 7, version: 1, versions: undefined }, 'an OF 1.0 HELLO without elements');
  const multi = decode(Buffer.from('06000010000000020001000800000052', 'hex'));
  t.same(multi, { type: 'hello', xid: 2, version: 6, versions: [1, 4, 6] }, 'bitmap 0x52 = versions 1, 4, 6');
});

t.test('ECHO, BARRIER, FEATURES, ROLE: layouts and round trips', async (t) => {
  t.equal(hex(encode({ type: 'echo-request', xid: 9, data: Buffer.from('ab', 'hex') })), '040200090000000' + '9ab');
  t.equal(hex(encode({ type: 'barrier-request', xid: 0x10 })), '0414000800000010');
  const features = Buffer.from('0406002000000003' + '00000000000000a1' + '00000100' + 'fe000000' + '0000004f' + '00000000', 'hex');
  t.same(decode(features), { type: 'features-reply', xid: 3, datapathId: 0xa1n, nBuffers: 256, nTables: 254, auxiliaryId: 0, capabilities: 0x4f });
  const role = encode({ type: 'role-request', xid: 5, role: 2, generationId: 7n });
  t.equal(hex(role), '0418001800000005' + '00000002' + '00000000' + '0000000000000007');
  t.match(ofpPrint(role), /OFPT_ROLE_REQUEST \(OF1.3\) \(xid=0x5\): role=primary generation_id=7/);
  for (const m of [decode(features), decode(role)]) t.same(decode(encode(m)), m, `${m.type} round-trips`);
});

t.test('ERROR: type, code and the offending request kept', async (t) => {
  const b = Buffer.from('0401001400000042' + '0005' + '0002' + '040e005000000042', 'hex');
  const m = decode(b);
  t.match(m, { type: 'error', xid: 0x42, errType: 5, code: 2 });
  t.equal(hex((m as Extract<Message, { type: 'error' }>).data), '040e005000000042');
});

t.test('FLOW_MOD of a stored flow: Open vSwitch reads back the flow the inventory describes', async (t) => {
  const stored = flowJson(161n, {
    table: 51,
    id: 'net.x.remote.y',
    priority: 90,
    cookie: 0x5e10000012345678n,
    match: { metadata: { value: 1001n, mask: 0xffffffn }, ethDst: 'FA:16:3E:00:00:01' },
    instructions: { apply: [{ setTunnelId: 1001n }, { output: 32768 }] },
  });
  const f = switchFlow(stored);
  const b = encode({ type: 'flow-mod', xid: 5, command: FLOW_MOD_COMMAND.ADD, cookieMask: 0n, bufferId: NO_BUFFER, outPort: PORT.ANY, outGroup: GROUP_ANY, flags: 0, ...f });
  const text = ofpPrint(b);
  t.match(text, /OFPT_FLOW_MOD \(OF1.3\) \(xid=0x5\): ADD table:51 priority=90,metadata=0x3e9\/0xffffff,dl_dst=fa:16:3e:00:00:01 cookie:0x5e10000012345678 actions=set_field:0x3e9->tun_id,output:32768/);
  t.equal(ofctlFlow(stored), 'table=51,priority=90,cookie=0x5e10000012345678,metadata=0x3e9/0xffffff,dl_dst=fa:16:3e:00:00:01,actions=set_field:0x3e9->tun_id,output:32768', 'the same flow as ovs-ofctl text');
  t.same(decode(b), { type: 'flow-mod', xid: 5, command: 0, cookieMask: 0n, bufferId: NO_BUFFER, outPort: PORT.ANY, outGroup: GROUP_ANY, flags: 0, ...f }, 'round trip');

  const classifier = switchFlow(flowJson(1n, { table: 0, id: 'c', priority: 100, cookie: 1n, match: { inPort: 5 }, instructions: { writeMetadata: { value: 7n, mask: 0xffffffn }, goToTable: 17 } }));
  t.match(ofpPrint(encode({ type: 'flow-mod', xid: 6, command: 0, cookieMask: 0n, bufferId: NO_BUFFER, outPort: PORT.ANY, outGroup: GROUP_ANY, flags: 0, ...classifier })), /ADD priority=100,in_port=5 cookie:0x1 actions=write_metadata:0x7\/0xffffff,goto_table:17/);
  const punt = switchFlow(flowJson(1n, { table: 21, id: 'p', priority: 124, cookie: 2n, match: { metadata: { value: 7n, mask: 0xffffffn }, ipv4Dst: '10.0.0.0/24' }, instructions: { apply: [{ controller: 65535 }] } }));
  t.match(ofpPrint(encode({ type: 'flow-mod', xid: 7, command: 0, cookieMask: 0n, bufferId: NO_BUFFER, outPort: PORT.ANY, outGroup: GROUP_ANY, flags: 0, ...punt })), /ADD table:21 priority=124,ip,metadata=0x7\/0xffffff,nw_dst=10.0.0.0\/24 cookie:0x2 actions=CONTROLLER:65535/);
});

t.test('FLOW_MOD: VLAN, IPv6, TCP/UDP ports, group, push/pop VLAN, write-actions, timeouts', async (t) => {
  const stored = {
    id: 'v',
    table_id: 10,
    priority: 7,
    cookie: '3',
    'idle-timeout': 30,
    'hard-timeout': 60,
    match: {
      'in-port': 'openflow:1:2',
      'vlan-match': { 'vlan-id': { 'vlan-id': 100, 'vlan-id-present': true } },
      'ethernet-match': { 'ethernet-type': { type: 0x86dd }, 'ethernet-source': { address: '00:00:00:00:00:01' } },
      'ip-match': { 'ip-protocol': 6 },
      'ipv6-source': '2001:db8::/64',
      'tcp-destination-port': 443,
    },
    instructions: {
      instruction: [
        { order: 1, 'write-actions': { action: [{ order: 0, 'group-action': { 'group-id': 9 } }] } },
        { order: 0, 'apply-actions': { action: [{ order: 0, 'pop-vlan-action': {} }, { order: 1, 'push-vlan-action': { 'ethernet-type': 0x8100 } }, { order: 2, 'set-field': { 'vlan-match': { 'vlan-id': { 'vlan-id': 200, 'vlan-id-present': true } } } }] } },
      ],
    },
  };
  const f = switchFlow(stored);
  const text = ofpPrint(encode({ type: 'flow-mod', xid: 8, command: FLOW_MOD_COMMAND.ADD, cookieMask: 0n, bufferId: NO_BUFFER, outPort: PORT.ANY, outGroup: GROUP_ANY, flags: 0, ...f }));
  t.match(text, /ADD table:10 priority=7,tcp6,in_port=2,dl_vlan=100,dl_src=00:00:00:00:00:01,ipv6_src=2001:db8::\/64,tp_dst=443 cookie:0x3 idle:30 hard:60 actions=pop_vlan,push_vlan:0x8100,set_field:4296->vlan_vid,write_actions\(group:9\)/);
  t.throws(() => switchFlow({ id: 'x', match: { 'arp-op': 1 } }), /match field arp-op is not programmed/, 'an unsupported field is refused, not dropped');
  t.throws(() => switchFlow({ id: 'y', instructions: { instruction: [{ order: 0, 'apply-actions': { action: [{ order: 0, 'set-nw-tos-action': {} }] } }] } }), /action set-nw-tos-action is not programmed/);
});

t.test('matches compare equal whatever order and mask form each side used', async (t) => {
  const a = [oxm(OXM.ETH_TYPE, 0x800), oxm(OXM.METADATA, 0x1234n, 0xffn), oxm(OXM.IPV4_DST, 0x0a000001, 0xffffffff)];
  const b = [oxm(OXM.METADATA, 0x34n, 0xffn), oxm(OXM.IPV4_DST, 0x0a000001), oxm(OXM.ETH_TYPE, 0x800)];
  t.equal(matchKey(a), matchKey(b), 'value outside its mask cleared; all-ones mask same as none');
});

t.test('MULTIPART: PORT_DESC, FLOW and TABLE replies round-trip; requests as OVS reads them', async (t) => {
  const port = { portNo: 1, hwAddr: 'aa:bb:cc:00:00:01', name: 'tap1', config: 0, state: 4, curr: 0x802, advertised: 0, supported: 0, peer: 0, currSpeed: 10_000_000, maxSpeed: 0 };
  const replies: Message[] = [
    { type: 'multipart-reply', xid: 1, flags: MULTIPART_REPLY_MORE, body: { kind: 'port-desc', ports: [port, { ...port, portNo: PORT.LOCAL, name: 'br-int' }] } },
    { type: 'multipart-reply', xid: 2, flags: 0, body: { kind: 'table', tables: [{ tableId: 0, activeCount: 3, lookupCount: 10n, matchedCount: 7n }] } },
    { type: 'multipart-reply', xid: 3, flags: 0, body: { kind: 'flow', flows: [{ tableId: 0, durationSec: 1, durationNsec: 2, priority: 5, idleTimeout: 0, hardTimeout: 0, flags: 0, cookie: 9n, packetCount: 4n, byteCount: 400n, match: [oxm(OXM.IN_PORT, 1)], instructions: [{ type: 'goto-table', tableId: 17 }] }] } },
  ];
  for (const m of replies) t.same(decode(encode(m)), m, `${m.type} ${(m as { body: { kind: string } }).body.kind} round-trips`);
  t.match(ofpPrint(encode(replies[0])), /OFPST_PORT_DESC reply \(OF1.3\).*flags=\[more\][\s\S]*1\(tap1\): addr:aa:bb:cc:00:00:01[\s\S]*LOCAL\(br-int\)/);
  const req = encode({ type: 'multipart-request', xid: 4, flags: 0, body: { kind: 'flow', tableId: 0xff, outPort: PORT.ANY, outGroup: GROUP_ANY, cookie: 0x5e00000000000000n, cookieMask: 0xff00000000000000n, match: [] } });
  t.match(ofpPrint(req), /OFPST_FLOW request \(OF1.3\) \(xid=0x4\)/);
  t.same(decode(req), { type: "multipart-request", xid: 4, flags: 0, body: { kind: "flow", tableId: 0xff, outPort: PORT.ANY, outGroup: GROUP_ANY, cookie: 0x5e00000000000000n, cookieMask: 0xff00000000000000n, match: [] } }, "round trip");
});

t.test('malformed input is refused with OfDecodeError, never read past its end', async (t) => {
  t.throws(() => decode(Buffer.from('0406000c00000003' + '00000000', 'hex')), OfDecodeError, 'FEATURES_REPLY too short');
  t.throws(() => decode(Buffer.from('0102000800000001', 'hex')), /version 1 on an OpenFlow 1.3 connection/);
  // a FLOW_MOD whose match claims more than the message holds
  const fm = encode({ type: 'flow-mod', xid: 1, command: 0, cookie: 0n, cookieMask: 0n, tableId: 0, idleTimeout: 0, hardTimeout: 0, priority: 1, bufferId: NO_BUFFER, outPort: PORT.ANY, outGroup: GROUP_ANY, flags: 0, match: [oxm(OXM.IN_PORT, 1)], instructions: [] });
  fm.writeUInt16BE(200, 8 + 40 + 2);
  t.throws(() => decode(fm), /match length 200 overruns/);
  const fm2 = encode({ type: 'flow-mod', xid: 1, command: 0, cookie: 0n, cookieMask: 0n, tableId: 0, idleTimeout: 0, hardTimeout: 0, priority: 1, bufferId: NO_BUFFER, outPort: PORT.ANY, outGroup: GROUP_ANY, flags: 0, match: [], instructions: [{ type: 'goto-table', tableId: 1 }] });
  fm2.writeUInt16BE(64, fm2.length - 6);
  t.throws(() => decode(fm2), /instruction 1: bad length 64/);
});

t.test('framing: whole messages out of any chunking; bad lengths refused before buffering', async (t) => {
  const a = encode({ type: 'echo-request', xid: 1, data: Buffer.from('hello') });
  const b = encode({ type: 'barrier-reply', xid: 2 });
  const stream = Buffer.concat([a, b]);
  const f = new Framer();
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) out.push(...f.push(stream.subarray(i, i + 1)));
  t.same(out.map(hex), [hex(a), hex(b)], 'byte by byte');
  t.throws(() => new Framer().push(Buffer.from('04000004', 'hex')), /length 4 is shorter than the header/);
  t.throws(() => new Framer(1024).push(Buffer.from('0400ffff', 'hex')), /length 65535 exceeds the limit of 1024/);
  t.throws(() => encode({ type: 'echo-request', xid: 1, data: Buffer.alloc(70000) }), /exceeds the OpenFlow message limit/);
});
