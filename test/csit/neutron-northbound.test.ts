/**
 * CSIT-style suite for OpenDaylight's Neutron northbound (`/controller/nb/v2/neutron`), driven the
 * way OpenStack Neutron's networking-odl (v2 drivers) drives it, and read back over the Neutron
 * API and over RESTCONF (`neutron:neutron/...`, the model the elections read).
 *
 * What networking-odl sends, from its source (openstack/networking-odl, mirrored):
 *   networking_odl/journal/journal.py   _json_data: create = POST <plural> {"<type>": data},
 *                                       update = PUT <plural>/<id> {"<type>": data}, delete =
 *                                       DELETE <plural>/<id> with no body; _enrich_port: a port's
 *                                       security_groups as [{"id": ...}]
 *   networking_odl/common/utils.py      make_url_object: the URL is the type + 's', '_' -> '-'
 *   networking_odl/common/client.py     Basic auth, Content-Type application/json on every call,
 *                                       success = response.raise_for_status() passes (any 2xx);
 *                                       get_resource: 404 means "not there"
 *   networking_odl/common/filters.py    what is dropped before sending (create: status, subnets;
 *                                       port update: network_id, id, status, tenant_id, ...;
 *                                       binding:profile sent as a JSON string)
 *   networking_odl/journal/full_sync.py the canary network (GET networks 200, GET networks/<canary>
 *                                       404 => full sync, then POST of the canary network)
 *   networking_odl/journal/dependency_validations.py  order: network, subnet, gateway port,
 *                                       router, ports; deletes the other way round
 *   networking_odl/l3/l3_odl.py (removed in 182be58f4, sent until 3c4d6252f)  PUT
 *                                       routers/<id>/add_router_interface and remove_router_interface
 *                                       with a bare {"subnet_id", "port_id", "id", "tenant_id"}
 * Statuses and bodies OpenDaylight's northbound answers, from opendaylight/neutron:
 *   northbound-api/.../AbstractNeutronNorthbound.java  201 create, 409 duplicate, 442 dependency
 *                                       missing, 200 update, 204 delete, 404 unknown uuid
 *   integration/test-standalone/.../e2etest/Neutron{Network,Subnet,Port,Router}Tests.java  the
 *                                       request bodies used verbatim below (ODL_* fixtures)
 */
import t, { type Test } from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSuiteController } from './lib/env.ts';
import { NetVirt, computeName, macOf, uuid } from './lib/netvirt.ts';
import { Session, type HttpResponse } from './lib/requests.ts';
import { waitUntil } from './lib/wait.ts';

const sc = await startSuiteController(t);
const neutronBase = sc.controller ? sc.controller.http.listening().get('neutron')!.url : (process.env.ODL_NEUTRON_URL ?? sc.url);
/** networking-odl's `[ml2_odl] url`. */
const neutron = new Session(`${neutronBase}/controller/nb/v2/neutron`, sc.credentials);
const restconf = sc.session;

// ----- networking-odl, as its sources say it calls -------------------------------------------

type Json = Record<string, unknown>;
type Operation = 'create' | 'update' | 'delete';

/** client.py: success is raise_for_status() passing. */
const networkingOdlSucceeds = (status: number) => status >= 200 && status < 300;

/** filters.py: what each (type, operation) drops or rewrites before it is sent. */
function filterForOdl(type: string, op: Operation, data: Json): Json {
  const d = structuredClone(data);
  const drop = (...keys: string[]) => keys.forEach((k) => delete d[k]);
  const dropNull = (...keys: string[]) => keys.forEach((k) => d[k] === null && delete d[k]);
  if (type === 'network') {
    drop('status', 'subnets');
    if (op === 'update') drop('id', 'tenant_id', 'project_id');
    dropNull('qos_policy_id');
  }
  if (type === 'subnet') {
    if (op === 'update') drop('id', 'network_id', 'ip_version', 'cidr', 'tenant_id', 'project_id');
    dropNull('segment_id', 'subnetpool_id');
  }
  if (type === 'port') {
    drop('status');
    if (op === 'update') drop('network_id', 'id', 'tenant_id', 'project_id');
    dropNull('binding:profile', 'dns_name', 'port_security_enabled', 'qos_policy_id');
    if ('binding:profile' in d) d['binding:profile'] = JSON.stringify(d['binding:profile']);
  }
  if (type === 'router' && op === 'update') drop('id', 'tenant_id', 'project_id', 'status');
  if (type === 'floatingip' && op === 'update') dropNull('port_id', 'fixed_ip_address', 'router_id');
  if (type === 'security_group_rule') {
    // _sgrule_scrub_icmpv6_name and _sgrule_scrub_unknown_protocol_name
    if (d.ethertype === 'IPv6' && ['icmp', 'ipv6-icmp', 'icmpv6'].includes(String(d.protocol))) d.protocol = 'icmpv6';
    if (d.protocol === 'sctp') d.protocol = 132;
  }
  const project = d.project_id ?? d.tenant_id;
  if (project !== undefined) {
    d.project_id ??= project;
    d.tenant_id ??= project;
  }
  return d;
}

/** journal.py _enrich_port: security groups as a list of {"id"}. */
const enrichPort = (port: Json): Json => ({ ...port, security_groups: ((port.security_groups as string[]) ?? []).map((id) => ({ id })) });

/** One journal entry sent as journal.py sends it; answers the response. */
type ObjectType = 'network' | 'subnet' | 'port' | 'router' | 'security_group' | 'security_group_rule' | 'floatingip';
function journal(type: ObjectType, op: Operation, data: Json): Promise<HttpResponse> {
  // utils.py make_url_object: the type + 's', '_' written '-'.
  const plural = `${type}s`.replace(/_/g, '-');
  if (op === 'delete') return neutron.request('DELETE', `${plural}/${data.id}`, { contentType: 'application/json' });
  const body = filterForOdl(type, op, type === 'port' ? enrichPort(data) : data);
  const path = op === 'create' ? plural : `${plural}/${data.id}`;
  return neutron.request(op === 'create' ? 'POST' : 'PUT', path, { body: JSON.stringify({ [type]: body }, null, 2), contentType: 'application/json' });
}

/** Asserts ODL's exact status and that networking-odl takes it as done (or as failed). */
function answered(t: Test, res: HttpResponse, status: number, what: string) {
  t.equal(res.status, status, `${what}: ${status}`, { body: res.body });
  t.equal(networkingOdlSucceeds(res.status), status < 300, `${what}: networking-odl takes it as ${status < 300 ? 'done' : 'failed (to retry)'}`);
}

/** A Neutron error body: {"NeutronError": {"type", "message", "detail"}}. */
function neutronError(t: Test, res: HttpResponse, status: number, type: string | RegExp, message: RegExp) {
  answered(t, res, status, `refused with ${status}`);
  t.match(res.contentType, /application\/json/);
  const e = res.json<{ NeutronError: { type: string; message: string; detail: string } }>().NeutronError;
  t.match(e.type, type, 'error type');
  t.match(e.message, message, 'error message');
  t.equal(e.detail, '');
}

const rc = async (path: string) => {
  const r = await restconf.getJson(`/rests/data/neutron:neutron/${path}?content=config`);
  return r.status === 200 ? (Object.values(r.json<Json>())[0] as Json[])[0] : undefined;
};

// Resources as Neutron's plugins render them (the dicts networking-odl journals): ids of the
// NetVirt world of test/csit/lib/netvirt.ts, so the elections can place the ports.
const TENANT = '9bacb3c5d39d41a79512987f338cf177';
const CANARY = { id: 'bd8db3a8-2b30-4083-a8b3-b3fd46401142', tenant_id: 'bd8db3a8-2b30-4083-a8b3-b3fd46401142', name: 'Sync Canary Network', admin_state_up: false };

function network(n: number, vni: number, extra: Json = {}): Json {
  return {
    id: uuid(1, n),
    name: `net-${n}`,
    tenant_id: TENANT,
    project_id: TENANT,
    admin_state_up: true,
    status: 'ACTIVE',
    subnets: [],
    shared: false,
    mtu: 1450,
    'router:external': false,
    'provider:network_type': 'vxlan',
    'provider:physical_network': null,
    'provider:segmentation_id': vni,
    availability_zone_hints: [],
    description: '',
    tags: [],
    revision_number: 1,
    qos_policy_id: null,
    created_at: '2026-12-02T07:00:00Z',
    updated_at: '2026-12-02T07:00:00Z',
    ...extra,
  };
}

function subnet(n: number, net: number, cidr: string): Json {
  const prefix = cidr.replace(/0\/\d+$/, '');
  return {
    id: uuid(2, n),
    name: `subnet-${n}`,
    network_id: uuid(1, net),
    tenant_id: TENANT,
    project_id: TENANT,
    ip_version: 4,
    cidr,
    gateway_ip: `${prefix}1`,
    enable_dhcp: true,
    allocation_pools: [{ start: `${prefix}2`, end: `${prefix}254` }],
    dns_nameservers: [],
    host_routes: [],
    ipv6_ra_mode: null,
    ipv6_address_mode: null,
    subnetpool_id: null,
    segment_id: null,
    description: '',
    tags: [],
    revision_number: 0,
  };
}

function port(n: number, net: number, sub: number, ip: string, owner: string, device: string, host = ''): Json {
  return {
    id: uuid(3, n),
    name: '',
    network_id: uuid(1, net),
    tenant_id: TENANT,
    project_id: TENANT,
    mac_address: macOf(n),
    admin_state_up: true,
    status: 'DOWN',
    fixed_ips: [{ subnet_id: uuid(2, sub), ip_address: ip }],
    device_owner: owner,
    device_id: device,
    'binding:host_id': host,
    'binding:vif_type': host ? 'ovs' : 'unbound',
    'binding:vnic_type': 'normal',
    'binding:vif_details': host ? { port_filter: true } : {},
    'binding:profile': {},
    security_groups: ['5f3d9a1e-2a53-4b7a-8d2f-0d6c1f0e9a11'],
    allowed_address_pairs: [],
    extra_dhcp_opts: [],
    port_security_enabled: true,
    qos_policy_id: null,
    dns_name: null,
    description: '',
    tags: [],
    revision_number: 1,
  };
}

function router(n: number, extNet: number, extSub: number, extIp: string): Json {
  return {
    id: uuid(4, n),
    name: `router-${n}`,
    tenant_id: TENANT,
    project_id: TENANT,
    admin_state_up: true,
    status: 'ACTIVE',
    external_gateway_info: { network_id: uuid(1, extNet), enable_snat: true, external_fixed_ips: [{ subnet_id: uuid(2, extSub), ip_address: extIp }] },
    gw_port_id: uuid(3, 900 + n),
    distributed: false,
    ha: false,
    routes: [],
    description: '',
    tags: [],
    revision_number: 3,
  };
}

// ----- The sequences --------------------------------------------------------------------------

t.test('full sync: networks answers 200, the canary 404, and the canary network is then created', async (t) => {
  const list = await neutron.get('networks', { contentType: 'application/json' });
  answered(t, list, 200, 'GET networks');
  t.same(list.json(), { networks: [] }, 'nothing yet');
  const canary = await neutron.get(`networks/${CANARY.id}`, { contentType: 'application/json' });
  answered(t, canary, 404, 'GET the canary');
  const created = await journal('network', 'create', CANARY);
  answered(t, created, 201, 'POST the canary network');
  t.same(created.json(), { network: { id: CANARY.id, name: 'Sync Canary Network', tenant_id: 'bd8db3a82b304083a8b3b3fd46401142', project_id: 'bd8db3a82b304083a8b3b3fd46401142', admin_state_up: false } }, 'the entry as stored');
  answered(t, await neutron.get(`networks/${CANARY.id}`), 200, 'the canary is there now: no more full sync');
  t.same(await rc(`networks/network=${CANARY.id}`), { uuid: CANARY.id, name: 'Sync Canary Network', 'tenant-id': CANARY.tenant_id, 'admin-state-up': false }, 'RESTCONF reads it in the neutron model');
  answered(t, await journal('network', 'delete', CANARY), 204, 'DELETE it');
});

t.test('network, subnet, port, binding update, router and its interface, then the deletes', async (t) => {
  answered(t, await journal('network', 'create', network(1, 1001)), 201, 'create network');
  answered(t, await journal('subnet', 'create', subnet(1, 1, '10.1.0.0/24')), 201, 'create subnet');
  const vm = port(101, 1, 1, '10.1.0.11', 'compute:nova', uuid(5, 101));
  const created = await journal('port', 'create', vm);
  answered(t, created, 201, 'create port (unbound)');
  t.same(
    created.json(),
    {
      port: {
        id: uuid(3, 101),
        name: '',
        tenant_id: TENANT,
        project_id: TENANT,
        network_id: uuid(1, 1),
        admin_state_up: true,
        mac_address: macOf(101),
        fixed_ips: [{ subnet_id: uuid(2, 1), ip_address: '10.1.0.11' }],
        device_owner: 'compute:nova',
        device_id: uuid(5, 101),
        'binding:host_id': '',
        'binding:vif_type': 'unbound',
        'binding:vnic_type': 'normal',
      },
    },
    'the port as stored: what the model holds, attributes it has no place for left out',
  );

  // Nova binds the port: ML2 updates binding:host_id (and the vif type) and journals the update.
  const bound = await journal('port', 'update', { ...vm, 'binding:host_id': computeName(1), 'binding:vif_type': 'ovs', 'binding:vif_details': { port_filter: true }, status: 'ACTIVE', revision_number: 2 });
  answered(t, bound, 200, 'port binding update');
  t.equal(bound.json<{ port: Json }>().port['binding:host_id'], computeName(1), 'the update answers the stored port');
  const shown = await neutron.get(`ports/${uuid(3, 101)}`);
  answered(t, shown, 200, 'GET the port');
  t.match(shown.json(), { port: { 'binding:host_id': computeName(1), 'binding:vif_type': 'ovs', network_id: uuid(1, 1), tenant_id: TENANT } }, 'read back: bound, and what the update left out (network_id, tenant_id) kept');
  t.match(await rc(`ports/port=${uuid(3, 101)}`), { 'neutron-binding:host-id': computeName(1), 'neutron-binding:vif-type': 'ovs', 'network-id': uuid(1, 1), 'tenant-id': '9bacb3c5-d39d-41a7-9512-987f338cf177' }, 'RESTCONF: neutron-binding:host-id');
  t.match(await rc(`networks/network=${uuid(1, 1)}`), { 'neutron-provider-ext:network-type': 'neutron-provider-ext:network-type-vxlan', 'neutron-provider-ext:segmentation-id': '1001' }, 'RESTCONF: the provider extension');
  const fields = await neutron.get(`networks/${uuid(1, 1)}?fields=id&fields=provider:segmentation_id`);
  t.same(fields.json(), { network: { id: uuid(1, 1), 'provider:segmentation_id': 1001 } }, '?fields= selects attributes');
  const filtered = await neutron.get(`ports?device_owner=compute:nova&network_id=${uuid(1, 1)}`);
  t.same(filtered.json<{ ports: Json[] }>().ports.map((p) => p.id), [uuid(3, 101)], 'lists filter on attributes');

  // The router: external network and subnet, its gateway port first (dependency_validations).
  answered(t, await journal('network', 'create', network(99, 0, { 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'public', 'provider:segmentation_id': null })), 201, 'create external network');
  answered(t, await journal('subnet', 'create', subnet(99, 99, '172.24.4.0/24')), 201, 'create external subnet');
  answered(t, await journal('port', 'create', port(901, 99, 99, '172.24.4.10', 'network:router_gateway', uuid(4, 1))), 201, 'create gateway port');
  answered(t, await journal('router', 'create', router(1, 99, 99, '172.24.4.10')), 201, 'create router');
  t.same(
    (await neutron.get(`routers/${uuid(4, 1)}`)).json<{ router: Json }>().router.external_gateway_info,
    { network_id: uuid(1, 99), enable_snat: true, external_fixed_ips: [{ subnet_id: uuid(2, 99), ip_address: '172.24.4.10' }] },
    'the gateway reads back',
  );
  t.same(await rc(`routers/router=${uuid(4, 1)}`), { uuid: uuid(4, 1), name: 'router-1', 'tenant-id': '9bacb3c5-d39d-41a7-9512-987f338cf177', 'admin-state-up': true, external_gateway_info: { 'external-network-id': uuid(1, 99), 'enable-snat': true, 'external-fixed-ips': [{ 'subnet-id': uuid(2, 99), 'ip-address': '172.24.4.10' }] } }, 'RESTCONF: the router');

  // router-interface-add by subnet: Neutron makes the interface port, networking-odl sends it as a
  // port (v2), and older drivers also sent add_router_interface.
  answered(t, await journal('port', 'create', port(191, 1, 1, '10.1.0.1', 'network:router_interface', uuid(4, 1))), 201, 'create router interface port');
  const add = await neutron.put(`routers/${uuid(4, 1)}/add_router_interface`, JSON.stringify({ subnet_id: uuid(2, 1), port_id: uuid(3, 191), id: uuid(4, 1), tenant_id: TENANT }), { contentType: 'application/json' });
  answered(t, add, 200, 'add_router_interface');
  t.same(add.json(), { subnet_id: uuid(2, 1), port_id: uuid(3, 191), id: uuid(4, 1), tenant_id: TENANT }, 'the body echoed, as OpenDaylight answers');
  t.match(await rc(`ports/port=${uuid(3, 191)}`), { 'device-owner': 'network:router_interface', 'device-id': uuid(4, 1) }, 'RESTCONF: the router leg the elections read');

  // The deletes, the other way round; each one then 404 over both APIs.
  for (const [type, data] of [
    ['port', { id: uuid(3, 191) }],
    ['router', { id: uuid(4, 1) }],
    ['port', { id: uuid(3, 901) }],
    ['port', { id: uuid(3, 101) }],
    ['subnet', { id: uuid(2, 99) }],
    ['subnet', { id: uuid(2, 1) }],
    ['network', { id: uuid(1, 99) }],
    ['network', { id: uuid(1, 1) }],
  ] as const) {
    answered(t, await journal(type, 'delete', data), 204, `delete ${type} ${data.id}`);
    answered(t, await neutron.get(`${type}s/${data.id}`), 404, `${type} ${data.id} is gone`);
    t.equal(await rc(`${type}s/${type}=${data.id}`), undefined, `and gone from RESTCONF`);
  }
  const again = await journal('network', 'delete', { id: uuid(1, 1) });
  neutronError(t, again, 404, 'NetworkNotFound', /Network .* could not be found/);
});

t.test("OpenDaylight's own e2e bodies: bulk create, update, router interface by a gateway port, remove", async (t) => {
  // opendaylight/neutron integration/test-standalone/.../NeutronNetworkTests.java singleton_network_create_test
  const ODL_NETWORK = `{ "network": { "status": "ACTIVE", "subnets": [],  "name": "net1", "admin_state_up": true,  "tenant_id": "9bacb3c5d39d41a79512987f338cf177",  "router:external": false, "segments": [  { "provider:segmentation_id": 2,  "provider:physical_network": "8bab8453-1bc9-45af-8c70-f83aa9b50453",  "provider:network_type": "vlan" }, {  "provider:segmentation_id": null,  "provider:physical_network": "8bab8453-1bc9-45af-8c70-f83aa9b50453",  "provider:network_type": "stt" } ],  "shared": false, "vlan_transparent": false,  "id": "4e8e5957-649f-477b-9e5b-f1f75b21c03c"  } } `;
  // NeutronSubnetTests.java singleton_subnet_create_test
  const ODL_SUBNET = ` { "subnet": { "name": "", "enable_dhcp": true, "network_id": "4e8e5957-649f-477b-9e5b-f1f75b21c03c", "tenant_id": "9bacb3c5d39d41a79512987f338cf177", "dns_nameservers": ["8.8.8.8"], "allocation_pools": [ { "start": "10.0.0.2", "end": "10.0.0.254" } ], "host_routes":[ { "destination":"0.0.0.0/0",  "nexthop":"10.0.0.1" },  { "destination":"192.168.0.0/24",  "nexthop":"10.0.0.2" } ], "ip_version": 4, "gateway_ip": "10.0.0.1", "cidr": "10.0.0.0/24", "id": "3b80198d-4f7b-4f77-9ef5-774d54e17126" } } `;
  // NeutronNetworkTests.java external_network_create_test's network, NeutronSubnetTests.java external_subnet_create_test
  const ODL_EXTERNAL_NETWORK = `{ "network": { "status": "ACTIVE", "subnets": [], "name": "external_network", "admin_state_up": true, "tenant_id": "9bacb3c5d39d41a79512987f338cf177", "router:external": true, "shared": false, "id": "8ca37218-28ff-41cb-9b10-039601ea7e6b" } }`;
  const ODL_EXTERNAL_SUBNET = ` { "subnet": { "name": "", "enable_dhcp": true, "network_id": "8ca37218-28ff-41cb-9b10-039601ea7e6b", "tenant_id": "9bacb3c5d39d41a79512987f338cf177", "dns_nameservers": [], "allocation_pools": [ { "start": "10.1.0.2", "end": "10.1.0.254" } ], "host_routes": [], "ip_version": 4, "gateway_ip": "10.1.0.1", "cidr": "10.1.0.0/24", "id": "f13b537f-1268-455f-b5fa-1e6817a9c204" } } `;
  // NeutronPortTests.java router_interface_port_create_test (bulk)
  const ODL_GATEWAY_PORTS = `{"ports": [ {"status": "DOWN", "binding:host_id": "", "allowed_address_pairs": [], "device_owner": "network:router_gateway", "binding:profile": {}, "fixed_ips": [{"subnet_id": "3b80198d-4f7b-4f77-9ef5-774d54e17126", "ip_address": "10.0.0.1"}], "id": "d8a4cc85-ad78-46ac-b5a1-8e04f16fa51e", "security_groups": [], "device_id": "8604a0de-7f6b-409a-a47c-a1cc7bc77b2e", "name": "", "admin_state_up": true, "network_id": "4e8e5957-649f-477b-9e5b-f1f75b21c03c", "tenant_id": "9bacb3c5d39d41a79512987f338cf177", "binding:vif_details": {}, "binding:vnic_type": "normal", "binding:vif_type": "unbound", "mac_address": "fa:16:3e:dc:1d:8d"},  {"status": "DOWN", "binding:host_id": "", "allowed_address_pairs": [], "device_owner": "network:router_gateway", "binding:profile": {}, "fixed_ips": [{"subnet_id": "3b80198d-4f7b-4f77-9ef5-774d54e17126", "ip_address": "10.0.0.2"}], "id": "d8a4cc85-ad78-46ac-b5a1-8e04f16fa51f", "security_groups": [], "device_id": "8604a0de-7f6b-409a-a47c-a1cc7bc77b2f", "name": "", "admin_state_up": true, "network_id": "4e8e5957-649f-477b-9e5b-f1f75b21c03c", "tenant_id": "9bacb3c5d39d41a79512987f338cf177", "binding:vif_details": {}, "binding:vnic_type": "normal", "binding:vif_type": "unbound", "mac_address": "fa:16:3e:dc:1d:8e"} ] }`;
  // NeutronRouterTests.java singleton_router_create_test, update_router_test, router_add_interface_test, router_remove_interface_test
  const ODL_ROUTER = `{ "router": { "status": "ACTIVE", "external_gateway_info": { "network_id": "8ca37218-28ff-41cb-9b10-039601ea7e6b" }, "name": "another_router", "admin_state_up": true, "tenant_id": "9bacb3c5d39d41a79512987f338cf177", "id": "8604a0de-7f6b-409a-a47c-a1cc7bc77b2e" } } `;
  const ODL_ROUTER_UPDATE = `{ "router": { "status": "ACTIVE", "external_gateway_info": { "network_id": "8ca37218-28ff-41cb-9b10-039601ea7e6b" }, "name": "new_name", "admin_state_up": true, "tenant_id": "9bacb3c5d39d41a79512987f338cf177", "id": "8604a0de-7f6b-409a-a47c-a1cc7bc77b2e" } } `;
  const ODL_ADD_INTERFACE = `{ "subnet_id": "3b80198d-4f7b-4f77-9ef5-774d54e17126", "port_id": "d8a4cc85-ad78-46ac-b5a1-8e04f16fa51e", "tenant_id": "9bacb3c5d39d41a79512987f338cf177", "id": "8604a0de-7f6b-409a-a47c-a1cc7bc77b2e"}`;
  const post = (plural: string, body: string) => neutron.post(plural, body, { contentType: 'application/json' });

  for (const [plural, body] of [
    ['networks', ODL_NETWORK],
    ['subnets', ODL_SUBNET],
    ['networks', ODL_EXTERNAL_NETWORK],
    ['subnets', ODL_EXTERNAL_SUBNET],
    ['ports', ODL_GATEWAY_PORTS],
    ['routers', ODL_ROUTER],
  ]) {
    answered(t, await post(plural, body), 201, `POST ${plural} ${JSON.parse(body)[plural.slice(0, -1)]?.name ?? '(bulk)'}`);
  }
  const bulk = await neutron.get('ports');
  t.same(bulk.json<{ ports: Json[] }>().ports.map((p) => p.id).sort(), ['d8a4cc85-ad78-46ac-b5a1-8e04f16fa51e', 'd8a4cc85-ad78-46ac-b5a1-8e04f16fa51f'], 'the bulk created both ports');
  const net = (await neutron.get('networks/4e8e5957-649f-477b-9e5b-f1f75b21c03c')).json<{ network: Json }>().network;
  t.equal(net['provider:network_type'], undefined, 'a multi-segment network (segments) has no single provider type stored');
  const updated = await neutron.put('routers/8604a0de-7f6b-409a-a47c-a1cc7bc77b2e', ODL_ROUTER_UPDATE, { contentType: 'application/json' });
  answered(t, updated, 200, 'PUT router');
  t.equal(updated.json<{ router: Json }>().router.name, 'new_name');
  const add = await neutron.put('routers/8604a0de-7f6b-409a-a47c-a1cc7bc77b2e/add_router_interface', ODL_ADD_INTERFACE, { contentType: 'application/json' });
  answered(t, add, 200, 'add_router_interface with the router\'s own gateway port');
  t.match(await rc('ports/port=d8a4cc85-ad78-46ac-b5a1-8e04f16fa51e'), { 'device-owner': 'network:router_gateway', 'device-id': '8604a0de-7f6b-409a-a47c-a1cc7bc77b2e' }, 'a port the router already holds keeps its role');

  // A free port named by add_router_interface becomes the interface; remove frees it again.
  answered(t, await post('ports', JSON.stringify({ port: { id: uuid(3, 777), network_id: '4e8e5957-649f-477b-9e5b-f1f75b21c03c', fixed_ips: [{ subnet_id: '3b80198d-4f7b-4f77-9ef5-774d54e17126', ip_address: '10.0.0.77' }], device_owner: '', device_id: '' } })), 201, 'a free port');
  const body = JSON.stringify({ port_id: uuid(3, 777), id: '8604a0de-7f6b-409a-a47c-a1cc7bc77b2e', tenant_id: TENANT });
  answered(t, await neutron.put('routers/8604a0de-7f6b-409a-a47c-a1cc7bc77b2e/add_router_interface', body, { contentType: 'application/json' }), 200, 'add it by port');
  t.match(await rc(`ports/port=${uuid(3, 777)}`), { 'device-owner': 'network:router_interface', 'device-id': '8604a0de-7f6b-409a-a47c-a1cc7bc77b2e' }, 'it is the router interface');
  const taken = await neutron.put('routers/8604a0de-7f6b-409a-a47c-a1cc7bc77b2f/add_router_interface', body, { contentType: 'application/json' });
  neutronError(t, taken, 404, 'RouterNotFound', /Router 8604a0de-7f6b-409a-a47c-a1cc7bc77b2f could not be found/);
  answered(t, await neutron.put('routers/8604a0de-7f6b-409a-a47c-a1cc7bc77b2e/remove_router_interface', body, { contentType: 'application/json' }), 200, 'remove_router_interface');
  const freed = await rc(`ports/port=${uuid(3, 777)}`);
  t.equal(freed?.['device-owner'], undefined, 'the port is free again');
  t.equal(freed?.['device-id'], undefined);
  answered(t, await neutron.put('routers/8604a0de-7f6b-409a-a47c-a1cc7bc77b2e/remove_router_interface', body, { contentType: 'application/json' }), 200, 'remove again: nothing to do, still 200 (networking-odl would retry anything else)');

  for (const path of [`ports/${uuid(3, 777)}`, 'routers/8604a0de-7f6b-409a-a47c-a1cc7bc77b2e', 'ports/d8a4cc85-ad78-46ac-b5a1-8e04f16fa51e', 'ports/d8a4cc85-ad78-46ac-b5a1-8e04f16fa51f', 'subnets/f13b537f-1268-455f-b5fa-1e6817a9c204', 'subnets/3b80198d-4f7b-4f77-9ef5-774d54e17126', 'networks/8ca37218-28ff-41cb-9b10-039601ea7e6b', 'networks/4e8e5957-649f-477b-9e5b-f1f75b21c03c']) {
    answered(t, await neutron.delete(path), 204, `DELETE ${path}`);
  }
});

t.test('security groups, their rules and floating IPs as networking-odl sends them', async (t) => {
  // Neutron's default group: created with its four default rules (mech_driver_v2.py
  // _sync_security_group_create_precommit journals the group, then each rule).
  const sg = uuid(6, 1);
  const rule = (n: number, dir: 'ingress' | 'egress', ethertype: 'IPv4' | 'IPv6', extra: Json = {}): Json => ({
    id: uuid(7, n),
    security_group_id: sg,
    tenant_id: TENANT,
    project_id: TENANT,
    direction: dir,
    ethertype,
    protocol: null,
    port_range_min: null,
    port_range_max: null,
    remote_ip_prefix: null,
    remote_group_id: null,
    remote_address_group_id: null,
    normalized_cidr: null,
    description: '',
    revision_number: 0,
    ...extra,
  });
  const rules = [rule(1, 'egress', 'IPv4'), rule(2, 'egress', 'IPv6'), rule(3, 'ingress', 'IPv4', { remote_group_id: sg }), rule(4, 'ingress', 'IPv6', { remote_group_id: sg })];
  const group = { id: sg, name: 'default', description: 'Default security group', tenant_id: TENANT, project_id: TENANT, stateful: true, security_group_rules: rules, tags: [], revision_number: 1 };
  answered(t, await journal('security_group', 'create', group), 201, 'create the default security group');
  for (const r of rules) answered(t, await journal('security_group_rule', 'create', r), 201, `create rule ${r.direction} ${r.ethertype}`);
  const ssh = rule(5, 'ingress', 'IPv4', { protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0' });
  const ping6 = rule(6, 'ingress', 'IPv6', { protocol: 'ipv6-icmp' });
  const sctp = rule(7, 'ingress', 'IPv4', { protocol: 'sctp' });
  for (const r of [ssh, ping6, sctp]) answered(t, await journal('security_group_rule', 'create', r), 201, `create rule ${r.protocol}`);

  t.same((await neutron.get(`security-groups/${sg}`)).json(), { security_group: { id: sg, name: 'default', tenant_id: TENANT, project_id: TENANT } }, 'the group reads back');
  t.same(
    (await neutron.get(`security-group-rules/${uuid(7, 5)}`)).json(),
    { security_group_rule: { id: uuid(7, 5), tenant_id: TENANT, project_id: TENANT, security_group_id: sg, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0' } },
    'a TCP rule reads back',
  );
  t.same(await rc(`security-rules/security-rule=${uuid(7, 5)}`), { uuid: uuid(7, 5), 'tenant-id': '9bacb3c5-d39d-41a7-9512-987f338cf177', 'security-group-id': sg, direction: 'neutron-constants:direction-ingress', ethertype: 'neutron-constants:ethertype-v4', protocol: 'neutron-constants:protocol-tcp', 'port-range-min': 22, 'port-range-max': 22, 'remote-ip-prefix': '0.0.0.0/0' }, 'RESTCONF: OpenDaylight\'s identities');
  t.match(await rc(`security-rules/security-rule=${uuid(7, 6)}`), { protocol: 'neutron-constants:protocol-icmp-v6' }, 'ipv6-icmp (sent as icmpv6) is the ICMPv6 identity');
  t.match(await rc(`security-rules/security-rule=${uuid(7, 7)}`), { protocol: 132 }, 'sctp (sent as its number) is a protocol number');
  t.match((await neutron.get(`security-group-rules/${uuid(7, 3)}`)).json(), { security_group_rule: { remote_group_id: sg } }, 'the rule naming its own group');
  const listed = (await neutron.get(`security-group-rules?security_group_id=${sg}&direction=egress`)).json<{ security_group_rules: Json[] }>();
  t.same(listed.security_group_rules.map((r) => r.id).sort(), [uuid(7, 1), uuid(7, 2)], 'rules listed by group and direction');

  neutronError(t, await journal('security_group_rule', 'create', rule(8, 'ingress', 'IPv4', { security_group_id: uuid(6, 404) })), 442, 'SecurityGroupNotFound', /SecurityGroup .* could not be found/);
  neutronError(t, await journal('security_group_rule', 'create', rule(9, 'sideways' as 'ingress', 'IPv4')), 400, 'HTTPBadRequest', /not a valid direction/);
  neutronError(t, await journal('security_group_rule', 'create', rule(10, 'ingress', 'IPv4', { protocol: 'carrier-pigeon' })), 400, 'HTTPBadRequest', /protocol "carrier-pigeon" is not supported/);
  neutronError(t, await journal('security_group_rule', 'create', rule(11, 'ingress', 'IPv4', { port_range_min: 70000 })), 400, 'HTTPBadRequest', /not a valid port number/);

  // A floating IP: created unassociated, then associated with a VM's port, then released.
  answered(t, await journal('network', 'create', network(97, 0, { 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'public', 'provider:segmentation_id': null })), 201, 'external network');
  answered(t, await journal('subnet', 'create', subnet(97, 97, '172.24.9.0/24')), 201, 'external subnet');
  answered(t, await journal('network', 'create', network(13, 1013)), 201, 'tenant network');
  answered(t, await journal('subnet', 'create', subnet(13, 13, '10.13.0.0/24')), 201, 'tenant subnet');
  answered(t, await journal('port', 'create', port(131, 13, 13, '10.13.0.31', 'compute:nova', uuid(5, 131))), 201, 'VM port');
  answered(t, await journal('port', 'create', port(903, 97, 97, '172.24.9.10', 'network:router_gateway', uuid(4, 3))), 201, 'gateway port');
  answered(t, await journal('router', 'create', router(3, 97, 97, '172.24.9.10')), 201, 'router');
  const fip: Json = { id: uuid(8, 1), tenant_id: TENANT, project_id: TENANT, floating_network_id: uuid(1, 97), floating_ip_address: '172.24.9.100', router_id: null, port_id: null, fixed_ip_address: null, status: 'DOWN', description: '', tags: [], port_details: null, dns_domain: '', dns_name: '', qos_policy_id: null, revision_number: 0 };
  answered(t, await journal('floatingip', 'create', fip), 201, 'create floating IP (unassociated)');
  const associated = { ...fip, router_id: uuid(4, 3), port_id: uuid(3, 131), fixed_ip_address: '10.13.0.31', status: 'ACTIVE', revision_number: 1 };
  const up = await journal('floatingip', 'update', associated);
  answered(t, up, 200, 'associate it');
  t.same(up.json(), { floatingip: { id: uuid(8, 1), tenant_id: TENANT, project_id: TENANT, floating_network_id: uuid(1, 97), floating_ip_address: '172.24.9.100', router_id: uuid(4, 3), port_id: uuid(3, 131), fixed_ip_address: '10.13.0.31', status: 'ACTIVE' } }, 'associated');
  t.match(await rc(`floatingips/floatingip=${uuid(8, 1)}`), { 'port-id': uuid(3, 131), 'router-id': uuid(4, 3), 'fixed-ip-address': '10.13.0.31', 'floating-ip-address': '172.24.9.100' }, 'RESTCONF: the floating IP');
  neutronError(t, await journal('floatingip', 'update', { ...associated, port_id: uuid(3, 404) }), 442, 'PortNotFound', /Port .* could not be found/);
  // l3_odl_v2.py disassociate_floatingips: when the port goes, Neutron journals the floating IP
  // with port_id, fixed_ip_address and router_id None, which filters.py drops: the update replaces
  // the entry, as OpenDaylight's does, so the association is gone.
  const released = await journal('floatingip', 'update', { ...fip, status: 'DOWN', revision_number: 2 });
  answered(t, released, 200, 'disassociate it');
  t.same(released.json(), { floatingip: { id: uuid(8, 1), tenant_id: TENANT, project_id: TENANT, floating_network_id: uuid(1, 97), floating_ip_address: '172.24.9.100', status: 'DOWN' } }, 'the association is gone');
  const stored = await rc(`floatingips/floatingip=${uuid(8, 1)}`);
  t.equal(stored?.['port-id'], undefined, 'RESTCONF: no port-id');
  t.equal(stored?.['router-id'], undefined, 'RESTCONF: no router-id');
  // The router's gateway cleared (Neutron sends external_gateway_info null).
  const cleared = await journal('router', 'update', { ...router(3, 97, 97, '172.24.9.10'), external_gateway_info: null, gw_port_id: null });
  answered(t, cleared, 200, 'clear the router gateway');
  t.same(cleared.json(), { router: { id: uuid(4, 3), name: 'router-3', tenant_id: TENANT, project_id: TENANT, admin_state_up: true } }, 'no gateway, the project kept though the update left it out');

  // The deletes: floating IP, router, ports, subnets, networks; the group's rules, then the group.
  for (const [type, id] of [
    ['floatingip', uuid(8, 1)],
    ['router', uuid(4, 3)],
    ['port', uuid(3, 903)],
    ['port', uuid(3, 131)],
    ['subnet', uuid(2, 13)],
    ['subnet', uuid(2, 97)],
    ['network', uuid(1, 13)],
    ['network', uuid(1, 97)],
    ...[1, 2, 3, 4, 5, 6, 7].map((n) => ['security_group_rule', uuid(7, n)]),
    ['security_group', sg],
  ] as [ObjectType, string][]) {
    answered(t, await journal(type, 'delete', { id }), 204, `delete ${type} ${id}`);
  }
  t.same((await neutron.get('security-group-rules')).json(), { security_group_rules: [] }, 'no rules left');
  t.same((await neutron.get('floatingips')).json(), { floatingips: [] }, 'no floating IPs left');
});

/**
 * networking-odl's own REST client (networking_odl/common/client.py, with utils.py's URL mapping),
 * run by /usr/bin/python3 from its source: the mirror's last commit before the deprecation emptied
 * the tree (NETWORKING_ODL_GIT, a git dir, overrides; skipped when there is none). Only the
 * journal's method mapping (journal.py _json_data: create POST, update PUT, delete DELETE) is
 * spelt out in the script, as journal.py needs all of Neutron to import.
 */
const NETWORKING_ODL_GIT = process.env.NETWORKING_ODL_GIT ?? '/work/.mirror/openstack+networking-odl/repo';
const NETWORKING_ODL_COMMIT = 'fe40cbe13a9b9bca2ee740de0b5736b5806e54ae';
const CLIENT_SCRIPT = `
import json, sys, requests
from networking_odl.common import client, utils
url, user, password = sys.argv[1:4]
odl = client.OpenDaylightRestClient(url, user, password, 10)
out = []
for call in json.loads(sys.stdin.read()):
    try:
        if call['call'] == 'get_resource':
            out.append({'ok': True, 'resource': odl.get_resource(call['type'], call['id'])})
            continue
        op, kind = call['op'], call['type']
        path = utils.make_url_object(kind) + ('' if op == 'create' else '/' + call['id'])
        body = None if op == 'delete' else {kind: call['data']}
        response = odl.sendjson({'create': 'post', 'update': 'put', 'delete': 'delete'}[op], path, body)
        out.append({'ok': True, 'status': response.status_code, 'path': path})
    except requests.HTTPError as e:
        out.append({'ok': False, 'status': e.response.status_code, 'body': e.response.text})
print(json.dumps(out))
`;

t.test("networking-odl's own REST client: what it takes as done, as failed, and as not there", { skip: existsSync(NETWORKING_ODL_GIT) ? false : `no networking-odl source at ${NETWORKING_ODL_GIT}` }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'networking-odl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const files = ['__init__.py', '_i18n.py', 'common/__init__.py', 'common/client.py', 'common/utils.py', 'common/constants.py', 'common/config.py'].map((f) => `networking_odl/${f}`);
  const archive = execFileSync('git', [`--git-dir=${NETWORKING_ODL_GIT}`, 'archive', NETWORKING_ODL_COMMIT, ...files]);
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  type Call = { call: 'send'; op: Operation; type: ObjectType; id?: string; data?: Json } | { call: 'get_resource'; type: ObjectType; id: string };
  // Asynchronous: the controller answering it runs in this process.
  const run = (calls: Call[]) =>
    new Promise<{ ok: boolean; status?: number; path?: string; resource?: Json | null; body?: string }[]>((resolve, reject) => {
      const child = spawn('/usr/bin/python3', ['-c', CLIENT_SCRIPT, `${neutronBase}/controller/nb/v2/neutron`, sc.credentials.user, sc.credentials.password], {
        env: { ...process.env, PYTHONPATH: dir },
        timeout: 30_000,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(`networking-odl client failed (${code}): ${stderr}`))));
      child.stdin.end(JSON.stringify(calls));
    });
  const sg = uuid(6, 2);
  const out = await run([
    { call: 'send', op: 'create', type: 'network', data: filterForOdl('network', 'create', network(21, 1021)) },
    { call: 'send', op: 'create', type: 'subnet', data: filterForOdl('subnet', 'create', subnet(21, 21, '10.21.0.0/24')) },
    { call: 'send', op: 'create', type: 'security_group', data: { id: sg, name: 'web', tenant_id: TENANT, security_group_rules: [] } },
    { call: 'send', op: 'create', type: 'security_group_rule', data: { id: uuid(7, 21), security_group_id: sg, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 80, port_range_max: 80, tenant_id: TENANT } },
    { call: 'send', op: 'create', type: 'port', data: filterForOdl('port', 'create', enrichPort(port(211, 21, 21, '10.21.0.11', 'compute:nova', uuid(5, 211)))) },
    { call: 'send', op: 'update', type: 'port', id: uuid(3, 211), data: filterForOdl('port', 'update', enrichPort(port(211, 21, 21, '10.21.0.11', 'compute:nova', uuid(5, 211), computeName(2)))) },
    { call: 'get_resource', type: 'port', id: uuid(3, 211) },
    { call: 'send', op: 'create', type: 'port', data: filterForOdl('port', 'create', port(212, 404, 21, '10.21.0.12', 'compute:nova', uuid(5, 212))) },
    { call: 'send', op: 'create', type: 'network', data: filterForOdl('network', 'create', network(21, 1021)) },
    { call: 'send', op: 'delete', type: 'port', id: uuid(3, 211) },
    { call: 'get_resource', type: 'port', id: uuid(3, 211) },
    { call: 'send', op: 'delete', type: 'port', id: uuid(3, 211) },
    { call: 'send', op: 'delete', type: 'security_group_rule', id: uuid(7, 21) },
    { call: 'send', op: 'delete', type: 'security_group', id: sg },
    { call: 'send', op: 'delete', type: 'subnet', id: uuid(2, 21) },
    { call: 'send', op: 'delete', type: 'network', id: uuid(1, 21) },
  ]);
  t.same(out.slice(0, 6).map((o) => [o.ok, o.status, o.path]), [
    [true, 201, 'networks'],
    [true, 201, 'subnets'],
    [true, 201, 'security-groups'],
    [true, 201, 'security-group-rules'],
    [true, 201, 'ports'],
    [true, 200, `ports/${uuid(3, 211)}`],
  ], 'creates and the binding update: sendjson returns (done), at the URLs make_url_object builds');
  t.match(out[6], { ok: true, resource: { port: { id: uuid(3, 211), 'binding:host_id': computeName(2) } } }, 'get_resource reads the bound port');
  t.match(out[7], { ok: false, status: 442 }, 'a port on an unknown network: HTTPError (the journal retries it)');
  t.match(JSON.parse(out[7].body!), { NeutronError: { type: 'NetworkNotFound' } });
  t.match(out[8], { ok: false, status: 409 }, 'a duplicate create: HTTPError');
  t.match(out[9], { ok: true, status: 204 }, 'delete: done');
  t.same(out[10], { ok: true, resource: null }, 'get_resource of a deleted port: None (what recovery.py takes as "not on OpenDaylight")');
  t.match(out[11], { ok: false, status: 404 }, 'a second delete: HTTPError 404');
  t.same(out.slice(12).map((o) => [o.ok, o.status]), [[true, 204], [true, 204], [true, 204], [true, 204]], 'the rest deleted');
  t.same((await neutron.get('ports')).json(), { ports: [] }, 'nothing left behind');
});

t.test('bad input: a Neutron error, and nothing written', async (t) => {
  answered(t, await journal('network', 'create', network(2, 1002)), 201, 'a network to refer to');
  answered(t, await journal('subnet', 'create', subnet(2, 2, '10.2.0.0/24')), 201, 'and a subnet');
  const snapshot = async () => JSON.stringify((await restconf.getJson('/rests/data/neutron:neutron?content=config')).json());
  const before = await snapshot();
  const postRaw = (plural: string, body: string, contentType = 'application/json') => neutron.post(plural, body, { contentType });

  neutronError(t, await postRaw('ports', '{"port": {"id": '), 400, 'HTTPBadRequest', /not JSON/);
  neutronError(t, await postRaw('ports', ''), 400, 'HTTPBadRequest', /needs a JSON body/);
  neutronError(t, await postRaw('ports', '[1, 2]'), 400, 'HTTPBadRequest', /JSON object/);
  neutronError(t, await postRaw('ports', '{"network": {}}'), 400, 'HTTPBadRequest', /"port" object/);
  const vm = port(201, 2, 2, '10.2.0.21', 'compute:nova', uuid(5, 201));
  const { network_id: _n, ...noNetwork } = vm;
  neutronError(t, await journal('port', 'create', noNetwork), 400, 'HTTPBadRequest', /Invalid input for network_id\. Reason: network_id is required/);
  const { cidr: _c, ...noCidr } = subnet(3, 2, '10.3.0.0/24');
  neutronError(t, await journal('subnet', 'create', noCidr), 400, 'HTTPBadRequest', /cidr is required/);
  const { id: _i, ...noId } = network(3, 1003);
  neutronError(t, await journal('network', 'create', noId), 400, 'HTTPBadRequest', /Invalid input for id/);
  neutronError(t, await journal('port', 'create', { ...vm, network_id: uuid(1, 404) }), 442, 'NetworkNotFound', new RegExp(`Network ${uuid(1, 404)} could not be found`));
  neutronError(t, await journal('port', 'create', { ...vm, fixed_ips: [{ subnet_id: uuid(2, 404), ip_address: '10.2.0.21' }] }), 442, 'SubnetNotFound', /Subnet .* could not be found/);
  neutronError(t, await journal('network', 'create', network(4, 1004, { id: 'not-a-uuid' })), 400, 'HTTPBadRequest', /"not-a-uuid" is not a valid UUID/);
  neutronError(t, await journal('port', 'create', { ...vm, network_id: '4e8e5957-649f-477b-9e5b' }), 400, 'HTTPBadRequest', /Invalid input for network_id/);
  neutronError(t, await journal('port', 'create', { ...vm, mac_address: 'fa:16:3e:zz:00:01' }), 400, 'HTTPBadRequest', /not a valid MAC address/);
  neutronError(t, await journal('port', 'create', { ...vm, admin_state_up: 'maybe' }), 400, 'HTTPBadRequest', /admin_state_up.*not a valid boolean/);
  neutronError(t, await journal('network', 'create', network(5, 1005, { 'provider:network_type': 'geneve' })), 400, 'HTTPBadRequest', /network type "geneve" is not supported/);
  neutronError(t, await journal('network', 'create', network(2, 1002, { name: 'again' })), 409, 'NetworkExists', new RegExp(`Network ${uuid(1, 2)} already exists`));
  // A bulk create is all or none: the second entry's unknown network fails the first too.
  const bulk = JSON.stringify({ ports: [vm, { ...vm, id: uuid(3, 202), network_id: uuid(1, 404) }] });
  neutronError(t, await postRaw('ports', bulk), 442, 'NetworkNotFound', /could not be found/);
  neutronError(t, await journal('port', 'update', { ...vm, network_id: undefined, 'binding:host_id': 'x' }), 404, 'PortNotFound', /Port .* could not be found/);
  neutronError(t, await neutron.request('PUT', `subnets/${uuid(2, 2)}`, { body: JSON.stringify({ subnet: { cidr: '10.9.0.0/24' } }), contentType: 'application/json' }), 400, 'HTTPBadRequest', /cidr of a subnet cannot be changed/);
  neutronError(t, await neutron.request('PUT', `networks/${uuid(1, 2)}`, { body: JSON.stringify({ network: { id: uuid(1, 3) } }), contentType: 'application/json' }), 400, 'HTTPBadRequest', /is not the URL's/);
  neutronError(t, await neutron.get('networks/not-a-uuid'), 404, 'NetworkNotFound', /could not be found/);
  neutronError(t, await neutron.get('floatingips-nope'), 404, 'HTTPNotFound', /could not be found/);
  if (!sc.external) {
    // The platform's body limit (--restconf-max-body, 1 MiB by default) holds on this listener too.
    neutronError(t, await journal('port', 'create', { ...vm, description: 'd'.repeat(1_100_000) }), 413, 'HTTPRequestEntityTooLarge', /body|large|limit/i);
  }
  const anonymous = await neutron.get('networks', { auth: null });
  neutronError(t, anonymous, 401, 'HTTPUnauthorized', /requires authentication/);
  t.equal(await snapshot(), before, 'the neutron model is as it was before the bad requests');
  t.match((await neutron.get(`networks/${uuid(1, 2)}`)).json(), { network: { name: 'net-2' } }, 'the duplicate changed nothing');

  for (const [type, id] of [['subnet', uuid(2, 2)], ['network', uuid(1, 2)]] as const) answered(t, await journal(type, 'delete', { id }), 204, `clean up ${type}`);
});

t.test('the elections react: a router with a gateway and interfaces gets its NAPT switch', async (t) => {
  // The NetVirt world of the elections suite: computes reported by OVSDB, their VM ports plugged.
  const nv = new NetVirt(restconf);
  await nv.addCompute({ n: 1, vms: [{ port: 111, ofport: 1 }] });
  await nv.addCompute({ n: 2, vms: [{ port: 112, ofport: 1 }, { port: 121, ofport: 2 }] });
  // Everything Neutron-side comes through the northbound, in networking-odl's order.
  const sequence: [Parameters<typeof journal>[0], Json][] = [
    ['network', network(11, 1011)],
    ['network', network(12, 1012)],
    ['network', network(98, 0, { 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'public', 'provider:segmentation_id': null })],
    ['subnet', subnet(11, 11, '10.11.0.0/24')],
    ['subnet', subnet(12, 12, '10.12.0.0/24')],
    ['subnet', subnet(98, 98, '172.24.8.0/24')],
    ['port', port(111, 11, 11, '10.11.0.11', 'compute:nova', uuid(5, 111), computeName(1))],
    ['port', port(112, 11, 11, '10.11.0.12', 'compute:nova', uuid(5, 112), computeName(2))],
    ['port', port(121, 12, 12, '10.12.0.21', 'compute:nova', uuid(5, 121), computeName(2))],
    ['port', port(902, 98, 98, '172.24.8.10', 'network:router_gateway', uuid(4, 2))],
    ['router', router(2, 98, 98, '172.24.8.10')],
    ['port', port(291, 11, 11, '10.11.0.1', 'network:router_interface', uuid(4, 2))],
    ['port', port(292, 12, 12, '10.12.0.1', 'network:router_interface', uuid(4, 2))],
  ];
  for (const [type, data] of sequence) answered(t, await journal(type, 'create', data), 201, `create ${type} ${data.id}`);
  const nat = await waitUntil(10_000, 50, async () => {
    const d = await nv.designation('nat', uuid(4, 2));
    if (!d) throw new Error('router 2 has no NAT designation yet');
    return d;
  });
  t.same(nat.candidates, ['1', '2'], 'the NAT candidates are the computes with VMs on the router subnets');
  t.equal(nat['dpn-id'], '1', 'the least loaded, lowest DPN id');
  t.equal(await waitUntil(10_000, 50, async () => (await nv.napt(2)) ?? false), '1', 'odl-nat napt-switches names it');

  // The port on compute 1 moves away (unbound, unplugged): the NAPT switch follows the VMs.
  answered(t, await journal('port', 'delete', { id: uuid(3, 111) }), 204, 'delete the VM port on compute 1');
  await nv.unplug(1, 111);
  const moved = await waitUntil(10_000, 50, async () => {
    const d = await nv.designation('nat', uuid(4, 2));
    if (d?.['dpn-id'] !== '2') throw new Error(`still on ${d?.['dpn-id']}`);
    return d;
  });
  t.same(moved.candidates, ['2'], 'only compute 2 hosts VMs of the router subnets now');

  answered(t, await journal('router', 'delete', { id: uuid(4, 2) }), 204, 'delete the router');
  await waitUntil(10_000, 50, async () => ((await nv.designation('nat', uuid(4, 2))) === undefined ? true : Promise.reject(new Error('designation still there'))));
  t.pass('the router took its designation along');
});
