/**
 * A controller with the VIM monitor and the VNF manager on the Tacker listener (free port), for
 * the vnfpkgm/vnflcm API and CLI tests: a raw-HTTP caller, a default VIM registered through
 * /v1.0/vims (against a stand-in Keystone), and a package onboarded by a config commit (what an
 * upload leaves), so the lifecycle tests do not depend on the VNFD reader.
 */
import { randomUUID } from 'node:crypto';
import { testController } from '../helpers/controller.ts';
import { startVimServer } from '../helpers/vim-server.ts';
import { tackerCall, type Reply } from '../helpers/vnf.ts';
import { now, packagePath } from '../../plugins/vnf-manager/model.ts';
import type { Vnfd } from '../../plugins/vnf-manager/vnfd.ts';

export const TOKEN = 'vnf-api-test-token-3a9c';
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Tap = { teardown(fn: () => unknown): void };

export type Answer = Reply;

/** One VDU, one scaling aspect of two steps: what the lifecycle checks need. */
export const sampleVnfd = (vnfdId: string): Vnfd => ({
  form: 'sol001',
  vnfdId,
  provider: 'Sextant',
  productName: 'Sample VNF',
  softwareVersion: '1.0',
  vnfdVersion: '1.0',
  flavourId: 'simple',
  vdus: [{ id: 'VDU1', name: 'VDU1', min: 1, max: 3, initial: 1, cps: ['CP1'], virtualLinks: ['VL1'] }],
  virtualLinks: [{ id: 'VL1', network: 'net0' }],
  aspects: [{ id: 'worker', name: 'worker', maxScaleLevel: 2, deltas: { VDU1: [1, 1] } }],
});

export async function startTacker(t: Tap, flags: string[] = []) {
  const c = await testController(t, ['--plugins=vim-monitor,vnf', '--datastore=memory', `--api-token=${TOKEN}`, ...flags]);
  const base = c.http.listening().get('tacker')!.url;
  const call = tackerCall(base, TOKEN);
  const lcm =
    (major: 'v1' | 'v2') =>
    (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
      call(method, `/vnflcm/${major}${path}`, body, { version: major === 'v1' ? '1.3.0' : '2.0.0', ...headers });

  /** A default VIM, as `openstack vim register --is-default` makes one. */
  const registerVim = async () => {
    const keystone = await startVimServer(t);
    const r = await call('POST', '/v1.0/vims.json', {
      vim: {
        name: `vim-${randomUUID().slice(0, 8)}`,
        type: 'openstack',
        auth_url: keystone.url('/identity/v3'),
        vim_project: { name: 'nfv', project_domain_name: 'Default' },
        auth_cred: { username: 'nfv', password: 'secret', user_domain_name: 'Default', cert_verify: 'True' },
        is_default: true,
      },
    });
    if (r.status !== 201) throw new Error(`VIM registration: ${r.status} ${r.text}`);
    return r.json.vim.id as string;
  };

  /** What a successful upload leaves: an ONBOARDED, ENABLED package holding `vnfdId`. */
  const onboard = async (vnfdId: string = randomUUID()) => {
    const id = randomUUID();
    const vnfd = sampleVnfd(vnfdId);
    const tx = c.data.transaction('config');
    tx.put(packagePath(id), {
      id,
      'onboarding-state': 'ONBOARDED',
      'operational-state': 'ENABLED',
      'vnfd-id': vnfdId,
      'vnf-provider': vnfd.provider,
      'vnf-product-name': vnfd.productName,
      'vnf-software-version': vnfd.softwareVersion,
      'vnfd-version': vnfd.vnfdVersion,
      vnfd: JSON.stringify(vnfd),
      'user-defined-data': '{}',
      'created-at': now(),
    });
    await tx.commit();
    return { pkgId: id, vnfdId };
  };

  return { c, base, call, v1: lcm('v1'), v2: lcm('v2'), registerVim, onboard };
}

/** A small SOL001 VNFD (one VDU scaled by one per step up to level 2), with or without its VDU. */
export function sol001Vnfd(vnfdId: string, withVdu = true): string {
  const vdu = `
    VDU1:
      type: tosca.nodes.nfv.Vdu.Compute
      properties:
        name: web
        vdu_profile:
          min_number_of_instances: 1
          max_number_of_instances: 3
    VDU1_CP1:
      type: tosca.nodes.nfv.VduCp
      requirements:
        - virtual_binding: VDU1
        - virtual_link: web_net
    web_net:
      type: tosca.nodes.nfv.VnfVirtualLink
  policies:
    - scaling_aspects:
        type: tosca.policies.nfv.ScalingAspects
        properties:
          aspects:
            web_aspect:
              name: web_aspect
              max_scale_level: 2
              step_deltas: [ delta_1 ]
    - VDU1_initial_delta:
        type: tosca.policies.nfv.VduInitialDelta
        properties:
          initial_delta: { number_of_instances: 1 }
        targets: [ VDU1 ]
    - VDU1_scaling_aspect_deltas:
        type: tosca.policies.nfv.VduScalingAspectDeltas
        properties:
          aspect: web_aspect
          deltas:
            delta_1: { number_of_instances: 1 }
        targets: [ VDU1 ]
`;
  return `tosca_definitions_version: tosca_simple_yaml_1_3
description: Web VNF for the Tacker API tests
imports:
  - etsi_nfv_sol001_common_types.yaml
  - etsi_nfv_sol001_vnfd_types.yaml
topology_template:
  node_templates:
    VNF:
      type: tosca.nodes.nfv.VNF
      properties:
        descriptor_id: ${vnfdId}
        descriptor_version: '1.1'
        provider: Sextant Labs
        product_name: Web VNF
        software_version: '2.0'
        flavour_id: simple
${withVdu ? vdu : ''}`;
}

/** The files of a SOL004 package holding that VNFD (zip them with test/helpers/zip.ts or Python's zipfile). */
export const csarFiles = (vnfd: string): Record<string, string> => ({
  'TOSCA-Metadata/TOSCA.meta': 'TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: Sextant tests\nEntry-Definitions: Definitions/web.vnfd.yaml\n',
  'Definitions/web.vnfd.yaml': vnfd,
});
