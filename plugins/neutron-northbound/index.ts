/**
 * neutron-northbound: OpenDaylight's Neutron northbound (`/controller/nb/v2/neutron/...`), what
 * OpenStack Neutron's networking-odl drivers call, over the `neutron` model the elections read
 * (api.ts, resources.ts). It keeps nothing of its own: every request reads or writes the config
 * datastore, so RESTCONF shows what it wrote and what RESTCONF wrote it shows. See README.md.
 */
import { definePlugin } from '../../src/plugin/api.ts';
import { registerNeutronApi } from './api.ts';

export default definePlugin({
  name: 'neutron-northbound',
  yang: ['neutron', 'neutron-binding', 'neutron-provider-ext', 'neutron-constants'],
  // OpenDaylight's Neutron northbound port before it moved onto the RESTCONF port (8181 here).
  http: { neutron: { port: 8080, help: "OpenDaylight's Neutron northbound (/controller/nb/v2/neutron)" } },
  start(ctx) {
    registerNeutronApi(ctx, ctx.http('neutron'));
  },
});
