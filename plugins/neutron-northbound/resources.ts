/**
 * The Neutron resources of OpenDaylight's northbound (`/controller/nb/v2/neutron/<collection>`) and how
 * each translates between the JSON of the OpenStack Neutron API and the `neutron` YANG model
 * (neutron, neutron-binding, neutron-provider-ext, neutron-constants) the elections read. One table per resource:
 * its attributes, each with the model leaf it is stored in and a codec; what a create needs;
 * what an update may not change; the other entries it refers to. The API (api.ts) only walks it.
 *
 * As OpenDaylight's northbound (JAXB), attributes the model has no place for are ignored, not
 * refused: networking-odl sends every attribute Neutron knows (description, tags, revision_number,
 * binding:profile...), and OpenDaylight keeps the ones its model has. Ids are Neutron's: a create
 * without `id` is refused (OpenDaylight fails it too). Project ids are 32 hex digits in Keystone and
 * `yang:uuid` in the model: they are stored with dashes and shown without, as OpenDaylight does.
 */
import type * as model from '../../src/bindings/neutron.ts';
import { neutron, type NetworkTypeBase } from '../../src/bindings/neutron.ts';
import type { DataPath } from '../../src/yang/binding.ts';

export type Json = Record<string, unknown>;
export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A client error found in the body, before anything is written (Neutron's HTTPBadRequest). */
export class InvalidInput extends Error {
  constructor(attribute: string, reason: string) {
    super(`Invalid input for ${attribute}. Reason: ${reason}.`);
  }
}

// ----- Codecs: one JSON value <-> one model value ------------------------------------------

interface Codec {
  /** Neutron JSON -> model JSON (RFC 7951); throws InvalidInput. Never sees null. */
  decode(value: unknown, attribute: string): unknown;
  /** Model JSON -> Neutron JSON. */
  encode(value: unknown): unknown;
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const DEDASHED = /^[0-9a-fA-F]{32}$/;

/** Whether a URL's id can name an entry at all (a malformed one names none: 404). */
export const isUuid = (id: string): boolean => UUID.test(id);

/** A Neutron id: RFC 4122 text, or 32 hex digits (Keystone's form) given dashes. */
export function toUuid(value: unknown, attribute: string): string {
  if (typeof value === 'string') {
    if (UUID.test(value)) return value;
    if (DEDASHED.test(value)) return `${value.slice(0, 8)}-${value.slice(8, 12)}-${value.slice(12, 16)}-${value.slice(16, 20)}-${value.slice(20)}`;
  }
  throw new InvalidInput(attribute, `${JSON.stringify(value)} is not a valid UUID`);
}

const uuid: Codec = { decode: toUuid, encode: (v) => v };

/** A project id: shown without dashes, as Keystone writes it. */
const projectId: Codec = { decode: toUuid, encode: (v) => String(v).replace(/-/g, '') };

const text: Codec = {
  decode(v, attribute) {
    if (typeof v !== 'string') throw new InvalidInput(attribute, `${JSON.stringify(v)} is not a string`);
    return v;
  },
  encode: (v) => v,
};

/** Neutron takes booleans as JSON booleans or the strings true/false (any case). */
const bool: Codec = {
  decode(v, attribute) {
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
    throw new InvalidInput(attribute, `${JSON.stringify(v)} is not a valid boolean value`);
  },
  encode: (v) => v,
};

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
function isIpAddress(v: string): boolean {
  if (IPV4.test(v)) return true;
  // IPv6: hex groups and at most one '::'; the model's pattern has the last word.
  return v.includes(':') && /^[0-9a-fA-F:.]+$/.test(v) && (v.match(/::/g) ?? []).length <= 1;
}

const ipAddress: Codec = {
  decode(v, attribute) {
    if (typeof v !== 'string' || !isIpAddress(v)) throw new InvalidInput(attribute, `${JSON.stringify(v)} is not a valid IP address`);
    return v;
  },
  encode: (v) => v,
};

const cidr: Codec = {
  decode(v, attribute) {
    const m = typeof v === 'string' ? /^([^/]+)\/(\d{1,3})$/.exec(v) : null;
    if (!m || !isIpAddress(m[1]) || Number(m[2]) > (m[1].includes(':') ? 128 : 32)) throw new InvalidInput(attribute, `${JSON.stringify(v)} is not a valid IP subnet`);
    return v;
  },
  encode: (v) => v,
};

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const mac: Codec = {
  decode(v, attribute) {
    if (typeof v !== 'string' || !MAC.test(v)) throw new InvalidInput(attribute, `${JSON.stringify(v)} is not a valid MAC address`);
    return v.toLowerCase();
  },
  encode: (v) => v,
};

/** provider:network_type <-> neutron-provider-ext identities (OpenDaylight's four). */
const NETWORK_TYPES: Record<string, NetworkTypeBase> = {
  flat: 'neutron-provider-ext:network-type-flat',
  vlan: 'neutron-provider-ext:network-type-vlan',
  vxlan: 'neutron-provider-ext:network-type-vxlan',
  gre: 'neutron-provider-ext:network-type-gre',
};
const networkType: Codec = {
  decode(v, attribute) {
    const id = typeof v === 'string' ? NETWORK_TYPES[v.toLowerCase()] : undefined;
    if (!id) throw new InvalidInput(attribute, `network type ${JSON.stringify(v)} is not supported (${Object.keys(NETWORK_TYPES).join(', ')})`);
    return id;
  },
  encode: (v) => String(v).replace(/^neutron-provider-ext:network-type-/, ''),
};

/** The VLAN id or VNI: Neutron sends a number (or a decimal string); the model keeps the string. */
const segmentationId: Codec = {
  decode(v, attribute) {
    const s = typeof v === 'number' && Number.isInteger(v) && v >= 0 ? String(v) : typeof v === 'string' && /^\d+$/.test(v) ? v : undefined;
    if (s === undefined) throw new InvalidInput(attribute, `${JSON.stringify(v)} is not a valid segmentation id`);
    return s;
  },
  encode: (v) => (/^\d{1,15}$/.test(String(v)) ? Number(v) : v),
};

/** `[{"subnet_id", "ip_address"}]` <-> the model's fixed-ips list (both keys required). */
const fixedIps: Codec = {
  decode(v, attribute) {
    if (!Array.isArray(v)) throw new InvalidInput(attribute, `${JSON.stringify(v)} is not a list`);
    return v.map((ip, i) => {
      if (!isObject(ip)) throw new InvalidInput(attribute, `entry ${i} is not an object`);
      if (ip.subnet_id === undefined || ip.subnet_id === null) throw new InvalidInput(`${attribute}[${i}]`, 'subnet_id is required');
      if (ip.ip_address === undefined || ip.ip_address === null) throw new InvalidInput(`${attribute}[${i}]`, 'ip_address is required (Neutron allocates it before OpenDaylight is told)');
      return { 'subnet-id': toUuid(ip.subnet_id, `${attribute}[${i}].subnet_id`), 'ip-address': ipAddress.decode(ip.ip_address, `${attribute}[${i}].ip_address`) };
    });
  },
  encode: (v) => (v as model.FixedIps[]).map((ip) => ({ subnet_id: ip['subnet-id'], ip_address: ip['ip-address'] })),
};

/** A router's `external_gateway_info` <-> the model's container of the same name. */
const gatewayInfo: Codec = {
  decode(v, attribute) {
    if (!isObject(v)) throw new InvalidInput(attribute, `${JSON.stringify(v)} is not an object`);
    const out: model.ExternalGatewayInfo = {};
    if (v.network_id === undefined || v.network_id === null) throw new InvalidInput(`${attribute}.network_id`, 'the external network is required');
    out['external-network-id'] = toUuid(v.network_id, `${attribute}.network_id`);
    if (v.enable_snat !== undefined && v.enable_snat !== null) out['enable-snat'] = bool.decode(v.enable_snat, `${attribute}.enable_snat`) as boolean;
    if (v.external_fixed_ips !== undefined && v.external_fixed_ips !== null) out['external-fixed-ips'] = fixedIps.decode(v.external_fixed_ips, `${attribute}.external_fixed_ips`) as model.ExternalFixedIps[];
    return out;
  },
  encode(v) {
    const g = v as model.ExternalGatewayInfo;
    return {
      network_id: g['external-network-id'] ?? null,
      enable_snat: g['enable-snat'] ?? true,
      external_fixed_ips: fixedIps.encode(g['external-fixed-ips'] ?? []),
    };
  },
};

/** A port number (or ICMP type/code): an integer 0-65535, as a number or a decimal string. */
const portNumber: Codec = {
  decode(v, attribute) {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidInput(attribute, `${JSON.stringify(v)} is not a valid port number`);
    return n;
  },
  encode: (v) => v,
};

/** An enumeration of Neutron words <-> identities of the model. */
function identities(names: Record<string, string>, what: string): Codec {
  const back = new Map(Object.entries(names).map(([word, id]) => [id, word]));
  return {
    decode(v, attribute) {
      const id = typeof v === 'string' ? (names[v] ?? names[v.toLowerCase()]) : undefined;
      if (!id) throw new InvalidInput(attribute, `${JSON.stringify(v)} is not a valid ${what} (${[...back.values()].join(', ')})`);
      return id;
    },
    encode: (v) => back.get(String(v)) ?? v,
  };
}

const direction = identities({ ingress: 'neutron-constants:direction-ingress', egress: 'neutron-constants:direction-egress' }, 'direction');
const ethertype = identities({ IPv4: 'neutron-constants:ethertype-v4', IPv6: 'neutron-constants:ethertype-v6' }, 'ethertype');

/**
 * A rule's protocol: a name OpenDaylight knows (its identities; Neutron's ipv6-icmp and
 * networking-odl's icmpv6 are one), or a protocol number 0-255 (networking-odl sends other names as numbers).
 */
const PROTOCOLS: Record<string, string> = {
  tcp: 'neutron-constants:protocol-tcp',
  udp: 'neutron-constants:protocol-udp',
  icmp: 'neutron-constants:protocol-icmp',
  icmpv6: 'neutron-constants:protocol-icmp-v6',
  'ipv6-icmp': 'neutron-constants:protocol-icmp-v6',
  igmp: 'neutron-constants:protocol-igmp',
};
const protocol: Codec = {
  decode(v, attribute) {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
    if (n !== undefined) {
      if (!Number.isInteger(n) || n < 0 || n > 255) throw new InvalidInput(attribute, `${JSON.stringify(v)} is not a valid IP protocol number`);
      return n;
    }
    const id = typeof v === 'string' ? PROTOCOLS[v.toLowerCase()] : undefined;
    if (!id) throw new InvalidInput(attribute, `protocol ${JSON.stringify(v)} is not supported (a number, or tcp, udp, icmp, icmpv6, igmp)`);
    return id;
  },
  encode: (v) => (typeof v === 'number' ? String(v) : String(v) === PROTOCOLS.icmpv6 ? 'icmpv6' : String(v).replace(/^neutron-constants:protocol-/, '')),
};

// ----- Resources ---------------------------------------------------------------------------

export interface Attribute {
  /** The Neutron attribute. */
  json: string;
  /** The model member it is stored in (a leaf, leaf list, list or container of the entry). */
  leaf: string;
  codec: Codec;
}

/** Another entry an entry names, which must exist when it is written. */
export interface Reference {
  resource: ResourceName;
  id: string;
  /** The attribute that names it (for the error). */
  attribute: string;
}

export type ResourceName = 'network' | 'subnet' | 'port' | 'router' | 'security_group' | 'security_group_rule' | 'floatingip';

export interface Resource {
  /** The body's key for one entry (`security_group`), and for a list of them (`security_groups`). */
  singular: ResourceName;
  plural: string;
  /** The URL segment (`security-groups`: networking-odl's make_url_object, `_` as `-`). */
  collection: string;
  /** As Neutron names it in messages and error types (`SecurityGroup`, `SecurityGroupNotFound`). */
  label: string;
  attributes: Attribute[];
  /** Attributes a create must give (besides `id`). */
  required: string[];
  /** Attributes an update may repeat but not change (Neutron's read-only after create). */
  fixed: string[];
  /**
   * Attributes an update keeps when it leaves them out (OpenDaylight's updateDelta: networking-odl
   * drops them from its updates); every other attribute an update leaves out is removed.
   */
  kept: string[];
  /** The model's list and one entry of it. */
  list(): DataPath<unknown[]>;
  entry(id: string): DataPath<unknown>;
  references(entry: Json): Reference[];
}

const N = neutron();

const PROJECT: Attribute = { json: 'tenant_id', leaf: 'tenant-id', codec: projectId };
const NAME: Attribute = { json: 'name', leaf: 'name', codec: text };
const ADMIN_STATE: Attribute = { json: 'admin_state_up', leaf: 'admin-state-up', codec: bool };

export const NETWORK: Resource = {
  singular: 'network',
  plural: 'networks',
  collection: 'networks',
  label: 'Network',
  attributes: [
    NAME,
    PROJECT,
    ADMIN_STATE,
    { json: 'shared', leaf: 'shared', codec: bool },
    { json: 'provider:network_type', leaf: 'neutron-provider-ext:network-type', codec: networkType },
    { json: 'provider:physical_network', leaf: 'neutron-provider-ext:physical-network', codec: text },
    { json: 'provider:segmentation_id', leaf: 'neutron-provider-ext:segmentation-id', codec: segmentationId },
  ],
  required: [],
  fixed: [],
  kept: [],
  list: () => N.networks().network() as DataPath<unknown[]>,
  entry: (id) => N.networks().network(id),
  references: () => [],
};

export const SUBNET: Resource = {
  singular: 'subnet',
  plural: 'subnets',
  collection: 'subnets',
  label: 'Subnet',
  attributes: [
    NAME,
    PROJECT,
    { json: 'network_id', leaf: 'network-id', codec: uuid },
    { json: 'cidr', leaf: 'cidr', codec: cidr },
    { json: 'gateway_ip', leaf: 'gateway-ip', codec: ipAddress },
  ],
  required: ['network_id', 'cidr'],
  fixed: ['network_id', 'cidr'],
  kept: ['network_id', 'cidr'],
  list: () => N.subnets().subnet() as DataPath<unknown[]>,
  entry: (id) => N.subnets().subnet(id),
  references: (e) => (typeof e['network-id'] === 'string' ? [{ resource: 'network', id: e['network-id'], attribute: 'network_id' }] : []),
};

export const PORT: Resource = {
  singular: 'port',
  plural: 'ports',
  collection: 'ports',
  label: 'Port',
  attributes: [
    NAME,
    PROJECT,
    { json: 'network_id', leaf: 'network-id', codec: uuid },
    ADMIN_STATE,
    { json: 'mac_address', leaf: 'mac-address', codec: mac },
    { json: 'fixed_ips', leaf: 'fixed-ips', codec: fixedIps },
    { json: 'device_owner', leaf: 'device-owner', codec: text },
    { json: 'device_id', leaf: 'device-id', codec: text },
    { json: 'binding:host_id', leaf: 'neutron-binding:host-id', codec: text },
    { json: 'binding:vif_type', leaf: 'neutron-binding:vif-type', codec: text },
    { json: 'binding:vnic_type', leaf: 'neutron-binding:vnic-type', codec: text },
  ],
  required: ['network_id'],
  fixed: ['network_id'],
  kept: ['network_id', 'mac_address', 'fixed_ips'],
  list: () => N.ports().port() as DataPath<unknown[]>,
  entry: (id) => N.ports().port(id),
  references(e) {
    const out: Reference[] = [];
    if (typeof e['network-id'] === 'string') out.push({ resource: 'network', id: e['network-id'], attribute: 'network_id' });
    for (const ip of (e['fixed-ips'] as model.FixedIps[] | undefined) ?? []) out.push({ resource: 'subnet', id: ip['subnet-id'], attribute: 'fixed_ips' });
    return out;
  },
};

export const ROUTER: Resource = {
  singular: 'router',
  plural: 'routers',
  collection: 'routers',
  label: 'Router',
  attributes: [NAME, PROJECT, ADMIN_STATE, { json: 'external_gateway_info', leaf: 'external_gateway_info', codec: gatewayInfo }],
  required: [],
  fixed: [],
  kept: [],
  list: () => N.routers().router() as DataPath<unknown[]>,
  entry: (id) => N.routers().router(id),
  references(e) {
    const gw = e.external_gateway_info as model.ExternalGatewayInfo | undefined;
    const out: Reference[] = [];
    if (gw?.['external-network-id']) out.push({ resource: 'network', id: gw['external-network-id'], attribute: 'external_gateway_info.network_id' });
    for (const ip of gw?.['external-fixed-ips'] ?? []) out.push({ resource: 'subnet', id: ip['subnet-id'], attribute: 'external_gateway_info.external_fixed_ips' });
    return out;
  },
};

export const SECURITY_GROUP: Resource = {
  singular: 'security_group',
  plural: 'security_groups',
  collection: 'security-groups',
  label: 'SecurityGroup',
  attributes: [NAME, PROJECT],
  required: [],
  fixed: [],
  kept: [],
  list: () => N.securityGroups().securityGroup() as DataPath<unknown[]>,
  entry: (id) => N.securityGroups().securityGroup(id),
  references: () => [],
};

export const SECURITY_GROUP_RULE: Resource = {
  singular: 'security_group_rule',
  plural: 'security_group_rules',
  collection: 'security-group-rules',
  label: 'SecurityGroupRule',
  attributes: [
    PROJECT,
    { json: 'security_group_id', leaf: 'security-group-id', codec: uuid },
    { json: 'direction', leaf: 'direction', codec: direction },
    { json: 'ethertype', leaf: 'ethertype', codec: ethertype },
    { json: 'protocol', leaf: 'protocol', codec: protocol },
    { json: 'port_range_min', leaf: 'port-range-min', codec: portNumber },
    { json: 'port_range_max', leaf: 'port-range-max', codec: portNumber },
    { json: 'remote_ip_prefix', leaf: 'remote-ip-prefix', codec: cidr },
    { json: 'remote_group_id', leaf: 'remote-group-id', codec: uuid },
  ],
  required: ['security_group_id'],
  fixed: ['security_group_id'],
  kept: ['security_group_id'],
  list: () => N.securityRules().securityRule() as DataPath<unknown[]>,
  entry: (id) => N.securityRules().securityRule(id),
  references(e) {
    const out: Reference[] = [];
    if (typeof e['security-group-id'] === 'string') out.push({ resource: 'security_group', id: e['security-group-id'], attribute: 'security_group_id' });
    if (typeof e['remote-group-id'] === 'string') out.push({ resource: 'security_group', id: e['remote-group-id'], attribute: 'remote_group_id' });
    return out;
  },
};

export const FLOATINGIP: Resource = {
  singular: 'floatingip',
  plural: 'floatingips',
  collection: 'floatingips',
  label: 'FloatingIP',
  attributes: [
    PROJECT,
    { json: 'floating_network_id', leaf: 'floating-network-id', codec: uuid },
    { json: 'floating_ip_address', leaf: 'floating-ip-address', codec: ipAddress },
    { json: 'router_id', leaf: 'router-id', codec: uuid },
    { json: 'port_id', leaf: 'port-id', codec: uuid },
    { json: 'fixed_ip_address', leaf: 'fixed-ip-address', codec: ipAddress },
    { json: 'status', leaf: 'status', codec: text },
  ],
  required: ['floating_network_id'],
  fixed: ['floating_network_id'],
  kept: ['floating_network_id'],
  list: () => N.floatingips().floatingip() as DataPath<unknown[]>,
  entry: (id) => N.floatingips().floatingip(id),
  references(e) {
    const out: Reference[] = [];
    if (typeof e['floating-network-id'] === 'string') out.push({ resource: 'network', id: e['floating-network-id'], attribute: 'floating_network_id' });
    if (typeof e['router-id'] === 'string') out.push({ resource: 'router', id: e['router-id'], attribute: 'router_id' });
    if (typeof e['port-id'] === 'string') out.push({ resource: 'port', id: e['port-id'], attribute: 'port_id' });
    return out;
  },
};

export const RESOURCES: Resource[] = [NETWORK, SUBNET, PORT, ROUTER, SECURITY_GROUP, SECURITY_GROUP_RULE, FLOATINGIP];
export const BY_NAME: Record<ResourceName, Resource> = {
  network: NETWORK,
  subnet: SUBNET,
  port: PORT,
  router: ROUTER,
  security_group: SECURITY_GROUP,
  security_group_rule: SECURITY_GROUP_RULE,
  floatingip: FLOATINGIP,
};

/** Neutron's device-owner of a router's leg on a subnet (what the elections look for). */
export const ROUTER_INTERFACE = 'network:router_interface';

// ----- Translation -------------------------------------------------------------------------

/**
 * The model entry a create or update body makes. On update `current` is the stored entry and the
 * body replaces it, as OpenDaylight's northbound does (networking-odl sends the whole resource,
 * less what filters.py drops): an attribute left out or `null` is removed, except the project and
 * the resource's `kept` attributes, which stay as stored.
 */
export function toEntry(r: Resource, body: Json, id: string, current?: Json): Json {
  if (body.id !== undefined && body.id !== null && toUuid(body.id, 'id').toLowerCase() !== id.toLowerCase()) {
    throw new InvalidInput('id', `the body's id ${JSON.stringify(body.id)} is not the URL's ${id}`);
  }
  // Neutron sends both and they are one thing; project_id alone is taken too.
  if (body.tenant_id === undefined && body.project_id !== undefined) body = { ...body, tenant_id: body.project_id };
  if (body.tenant_id === '') body = { ...body, tenant_id: null };
  const entry: Json = { uuid: id };
  for (const a of r.attributes) {
    const v = body[a.json];
    if (v === undefined || v === null) {
      if (current && current[a.leaf] !== undefined && (a === PROJECT || r.kept.includes(a.json))) entry[a.leaf] = current[a.leaf];
      continue;
    }
    const decoded = a.codec.decode(v, a.json);
    if (current && r.fixed.includes(a.json) && current[a.leaf] !== undefined && JSON.stringify(current[a.leaf]) !== JSON.stringify(decoded)) {
      throw new InvalidInput(a.json, `${a.json} of a ${r.singular} cannot be changed`);
    }
    entry[a.leaf] = decoded;
  }
  if (!current) {
    for (const req of r.required) if (entry[r.attributes.find((a) => a.json === req)!.leaf] === undefined) throw new InvalidInput(req, `${req} is required to create a ${r.singular}`);
  }
  return entry;
}

/** The Neutron JSON of a stored entry: id, its attributes, project_id beside tenant_id. */
export function fromEntry(r: Resource, entry: Json): Json {
  const out: Json = { id: entry.uuid };
  for (const a of r.attributes) {
    const v = entry[a.leaf];
    if (v !== undefined) out[a.json] = a.codec.encode(v);
  }
  if (out.tenant_id !== undefined) out.project_id = out.tenant_id;
  return out;
}
