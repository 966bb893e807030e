// The cloudscaler's console view: the computes (name, DPN, connected, tombstoned, VM ports,
// services hosted), the scale-in in progress (per tombstoned compute, what still blocks
// `scalein-computes-end`), and the scale-in actions, each behind a confirmation showing the
// preview first. It reads only published YANG data (compute-nodes, the reported ovsdb:1
// topology, the designated switches, the autoscaling nodes and VNFCs placed on computes).

const TOPOLOGY = '/network-topology:network-topology/topology=ovsdb%3A1/node=*';
const PREVIEW = 'scalein-api:scalein-computes-preview';

/** The value of a key/value list entry (ovsdb external-ids). */
const extId = (list, key) => (list ?? []).find((e) => e['external-id-key'] === key)?.['external-id-value'];
const isTunnel = (tp) => /tunnel|vxlan|gre|geneve/.test(tp['ovsdb:interface-type'] ?? '');

export function mount(ui) {
  const { esc } = ui;
  const computes = ui.watch('cloudscaler.computes', 'config', '/cloudscaler-rpc:compute-nodes/compute-node=*');
  const bridges = ui.watch('cloudscaler.bridges', 'operational', TOPOLOGY, 'node-id;termination-point(tp-id;name;interface-type;interface-external-ids)');
  const designations = ui.watch('cloudscaler.designations', 'operational', '/designated-switch:designated-switches/designated-switch=*', 'service-type;service-id;dpn-id');
  const clusterNodes = ui.watch('cloudscaler.cluster-nodes', 'operational', '/sextant-clustering:clustering-state/cluster=*', 'id;node(id;name;compute;port)');
  const vnfcs = ui.watch('cloudscaler.vnfcs', 'config', '/sextant-vnflcm:vnflcm/vnf-instance=*', 'id;name;instantiated-vnf-info(vnfc-resource-info(id;vdu-id;compute;port))');

  const selected = new Set();
  const panel = ui.panel('computes', 'Computes', { wide: true, order: 10 });
  const scalein = ui.panel('scalein', 'Scale-in in progress', { order: 20 });
  panel.body.innerHTML = `<div class="toolbar">
      <span class="selection muted">select computes below</span>
      <button data-action="preview" disabled>Preview</button>
      <button data-action="start" disabled>Start scale-in</button>
      <button data-action="end" disabled>End scale-in</button>
      <button data-action="recover" disabled>Recover</button>
      <input type="search" class="filter" placeholder="filter by name or DPN">
    </div>
    <table><thead><tr><th></th><th>compute</th><th>DPN</th><th>connected</th><th>tombstoned</th><th>VM ports</th><th>services hosted</th></tr></thead><tbody></tbody></table>`;
  const tbody = panel.body.querySelector('tbody');
  const filter = panel.body.querySelector('.filter');
  const selection = panel.body.querySelector('.selection');
  filter.addEventListener('input', () => draw());
  tbody.addEventListener('change', (e) => {
    const box = e.target.closest('input[type=checkbox]');
    if (!box) return;
    if (box.checked) selected.add(box.value);
    else selected.delete(box.value);
    toolbar();
  });
  panel.body.querySelector('.toolbar').addEventListener('click', (e) => {
    const action = e.target.closest('button[data-action]')?.dataset.action;
    if (action) act(action, [...selected].sort());
  });

  function toolbar() {
    for (const b of panel.body.querySelectorAll('button[data-action]')) b.disabled = selected.size === 0;
    selection.textContent = selected.size ? `${selected.size} selected: ${[...selected].sort().join(', ')}` : 'select computes below';
  }

  /** The bridge's VM ports (tunnels excluded), as `end` counts them. */
  function vmPorts(nodeId) {
    const node = bridges.get(`/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(nodeId)}`);
    return (node?.['termination-point'] ?? []).filter((tp) => !isTunnel(tp) && extId(tp['ovsdb:interface-external-ids'], 'iface-id') !== undefined);
  }

  /** What a VM port is to the other applications: a cluster node, a VNFC. */
  function roleOf(portId) {
    const roles = [];
    for (const c of clusterNodes.values()) for (const n of c.node ?? []) if (n.port === portId) roles.push(`node ${n.name ?? n.id} of cluster ${c.id}`);
    for (const v of vnfcs.values())
      for (const r of v['instantiated-vnf-info']?.['vnfc-resource-info'] ?? []) if (r.port === portId) roles.push(`VNFC ${r['vdu-id'] ?? ''} ${r.id} of VNF ${v.name ?? v.id}`);
    return roles;
  }

  function servicesByDpn() {
    const out = new Map();
    for (const d of designations.values()) {
      if (!d['dpn-id'] || d['dpn-id'] === '0') continue;
      const list = out.get(d['dpn-id']) ?? [];
      list.push(`${d['service-type'].replace(/^.*:/, '')} ${d['service-id']}`);
      out.set(d['dpn-id'], list);
    }
    return out;
  }

  function draw() {
    const services = servicesByDpn();
    const connected = new Set([...bridges.values()].map((n) => n['node-id']));
    const q = filter.value.trim().toLowerCase();
    const rows = [...computes.values()].sort((a, b) => a['compute-name'].localeCompare(b['compute-name'], undefined, { numeric: true }));
    const shown = q ? rows.filter((c) => c['compute-name'].toLowerCase().includes(q) || String(c.dpnid).includes(q)) : rows;
    tbody.innerHTML = shown
      .map((c) => {
        const name = c['compute-name'];
        const up = connected.has(c.nodeid);
        const svc = services.get(String(c.dpnid)) ?? [];
        return `<tr data-compute="${esc(name)}" class="${c.tombstoned ? 'tombstoned' : ''} ${up ? '' : 'disconnected'}">
          <td><input type="checkbox" value="${esc(name)}" ${selected.has(name) ? 'checked' : ''} aria-label="select ${esc(name)}"></td>
          <td>${esc(name)}</td><td>${esc(c.dpnid)}</td>
          <td class="connected">${up ? 'yes' : 'no'}</td>
          <td class="tombstoned">${c.tombstoned ? 'yes' : 'no'}</td>
          <td class="ports">${vmPorts(c.nodeid).length}</td>
          <td class="services">${svc.map((s) => `<span class="badge">${esc(s)}</span>`).join('')}</td></tr>`;
      })
      .join('');
    panel.count.textContent = `${rows.length} (${rows.filter((c) => c.tombstoned).length} tombstoned, ${rows.filter((c) => connected.has(c.nodeid)).length} connected)`;
    for (const name of [...selected]) if (![...computes.values()].some((c) => c['compute-name'] === name)) selected.delete(name);
    toolbar();

    const tombstoned = rows.filter((c) => c.tombstoned);
    scalein.count.textContent = `${tombstoned.length}`;
    scalein.body.innerHTML = tombstoned.length
      ? `<ul>${tombstoned
          .map((c) => {
            const ports = vmPorts(c.nodeid);
            return `<li data-compute="${esc(c['compute-name'])}"><b>${esc(c['compute-name'])}</b> (DPN ${esc(c.dpnid)}): ${
              ports.length
                ? `${ports.length} VM port(s) still bound, end stays INPROGRESS:<ul>${ports
                    .map((tp) => {
                      const id = extId(tp['ovsdb:interface-external-ids'], 'iface-id');
                      const roles = roleOf(id);
                      return `<li class="blocker">${esc(tp['ovsdb:name'] ?? tp['tp-id'])} <span class="muted">port ${esc(id)}</span>${roles.map((r) => ` <span class="badge warn">${esc(r)}</span>`).join('')}</li>`;
                    })
                    .join('')}</ul>`
                : '<span class="badge ok">nothing blocks end</span>'
            }</li>`;
          })
          .join('')}</ul>`
      : '<p class="muted">no compute is being scaled in</p>';
  }
  ui.render(draw);

  const preview = async (ids) => {
    const r = await ui.rpc(PREVIEW, { 'scalein-node-ids': ids });
    if (ui.notServed(r)) return { unavailable: true };
    if (!r.ok) return { html: `<p class="badge bad">${ui.esc(r.error?.['error-message'] ?? `error ${r.status}`)}</p>` };
    return { output: r.output };
  };
  const send = (name, leaf, ids) => async () => {
    const r = await ui.rpc(name, { [leaf]: ids });
    return { ok: r.ok, status: r.status, summary: r.ok ? (r.output?.status ?? ids.join(', ')) : r.error?.['error-message'] };
  };

  function act(action, ids) {
    if (!ids.length) return;
    const names = ids.join(', ');
    if (action === 'preview')
      return ui.confirm({ title: `Preview scale-in of ${names}`, description: 'What scalein-computes-start would do; nothing is changed.', preview: () => preview(ids) });
    if (action === 'start')
      return ui.confirm({
        title: `Start scale-in of ${names}`,
        description: 'Tombstones the computes: services designated to them move elsewhere; VMs keep running.',
        preview: () => preview(ids),
        confirmLabel: 'Start scale-in',
        action: send('scalein-api:scalein-computes-start', 'scalein-node-ids', ids),
      });
    if (action === 'end')
      return ui.confirm({
        title: `End scale-in of ${names}`,
        description: 'Removes the computes\' tunnels, flows and topology once no VM port is bound (INPROGRESS until then).',
        preview: () => preview(ids),
        confirmLabel: 'End scale-in',
        action: send('scalein-api:scalein-computes-end', 'scalein-node-ids', ids),
      });
    if (action === 'recover')
      return ui.confirm({
        title: `Recover ${names}`,
        description: 'Un-tombstones the computes: services without a designated switch may elect them again.',
        preview: async () => ({ html: `<p>Computes to recover: ${ui.esc(names)}</p>` }),
        confirmLabel: 'Recover',
        action: send('scalein-api:scalein-computes-recover', 'recover-node-ids', ids),
      });
  }
}
