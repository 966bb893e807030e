/**
 * RFC 8040 section 9: `ietf-restconf-monitoring:restconf-state`, published in the operational
 * datastore when RESTCONF starts (served from there like any data, as OpenDaylight does). It
 * lists the protocol capabilities this server really implements; no `streams`, as RESTCONF
 * notification streams (server-sent events) are not served, and so neither `filter` nor `replay`
 * (RFC 8040 sections 4.8.4, 4.8.7, 4.8.8: query parameters of a stream).
 */
import { retryOnConflict, type Datastore } from '../../datastore/datastore.ts';
import type { Schema } from '../../yang/schema.ts';

/** How default leaves are shown without `with-defaults`: as the client set them (RFC 6243 explicit). */
export const BASIC_MODE = 'explicit';

/** The `with-defaults` modes a read takes (data.ts); the others are refused, not approximated. */
export const WITH_DEFAULTS_MODES: readonly string[] = ['report-all', 'explicit'];

/**
 * Each capability URI with where it is implemented. The order puts `depth` first, as
 * OpenDaylight's list starts (its TLS suite looks for `"capability":["urn:...:depth`).
 */
export const RESTCONF_CAPABILITIES: readonly string[] = [
  'urn:ietf:params:restconf:capability:depth:1.0', // data.ts selectionOf, select.ts
  'urn:ietf:params:restconf:capability:fields:1.0', // data.ts selectionOf, select.ts parseFields
  'urn:ietf:params:restconf:capability:with-defaults:1.0', // WITH_DEFAULTS_MODES
  `urn:ietf:params:restconf:capability:defaults:1.0?basic-mode=${BASIC_MODE}`, // section 9.1.2: always listed
  'urn:ietf:params:restconf:capability:yang-patch:1.0', // yang-patch.ts (RFC 8072 section 4.3)
];

const RESTCONF_STATE = '/ietf-restconf-monitoring:restconf-state';

/**
 * Writes restconf-state/capabilities into the operational store, unless it already holds it (the
 * instances sharing one store all publish the same). Without the module loaded, nothing.
 */
export async function publishRestconfState(data: Datastore, schema: Schema): Promise<void> {
  if (!schema.modules.has('ietf-restconf-monitoring')) return;
  const state = { capabilities: { capability: [...RESTCONF_CAPABILITIES] } };
  const stored = data.read('operational', RESTCONF_STATE);
  if (JSON.stringify(stored) === JSON.stringify(state)) return;
  await retryOnConflict(async () => {
    const tx = data.transaction('operational');
    tx.put(RESTCONF_STATE, state);
    await tx.commit();
  });
}
