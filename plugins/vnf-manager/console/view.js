// The VNF manager's console view: VNF instances (state, VIM, VNFCs, current operation) and
// their latest lifecycle operation occurrences.
export function mount(ui) {
  const { esc } = ui;
  const vnfs = ui.watch('vnf.instances', 'config', '/sextant-vnflcm:vnflcm/vnf-instance=*', 'id;name;instantiation-state;vim-id;current-operation;instantiated-vnf-info(vnfc-resource-info(id;compute))');
  const ops = ui.watch('vnf.op-occs', 'config', '/sextant-vnflcm:vnflcm/vnf-lcm-op-occ=*', 'id;operation;operation-state;vnf-instance;start-time;state-entered-time');
  const panel = ui.panel('vnfs', 'VNFs and their operations', { order: 40 });
  ui.render(() => {
    const list = [...vnfs.values()].sort((a, b) => String(a.name ?? a.id).localeCompare(String(b.name ?? b.id)));
    const occs = [...ops.values()].sort((a, b) => String(b['start-time'] ?? '').localeCompare(String(a['start-time'] ?? '')));
    const names = new Map(list.map((v) => [v.id, v.name ?? v.id]));
    panel.count.textContent = `${list.length} VNF(s), ${occs.length} operation(s)`;
    panel.body.innerHTML = `<table><thead><tr><th>VNF</th><th>state</th><th>VIM</th><th>VNFCs</th><th>current operation</th></tr></thead><tbody>${
      list
        .map((v) => {
          const vnfcs = v['instantiated-vnf-info']?.['vnfc-resource-info'] ?? [];
          return `<tr data-vnf="${esc(v.id)}"><td>${esc(v.name ?? v.id)}</td><td>${esc(v['instantiation-state'] ?? '')}</td><td>${esc(v['vim-id'] ?? '')}</td><td title="${esc(vnfcs.map((r) => `${r.id} on ${r.compute ?? '?'}`).join('\n'))}">${vnfcs.length}</td><td>${esc(v['current-operation'] ?? '')}</td></tr>`;
        })
        .join('') || '<tr><td colspan="5" class="muted">no VNF</td></tr>'
    }</tbody></table>
    <h3>Operations <small class="muted">latest first</small></h3>
    <table><thead><tr><th>operation</th><th>state</th><th>VNF</th><th>started</th><th>state since</th></tr></thead><tbody>${
      occs
        .slice(0, 30)
        .map((o) => `<tr data-op="${esc(o.id)}"><td>${esc(o.operation)}</td><td>${esc(o['operation-state'])}</td><td>${esc(names.get(o['vnf-instance']) ?? o['vnf-instance'] ?? '')}</td><td>${esc(o['start-time'] ?? '')}</td><td>${esc(o['state-entered-time'] ?? '')}</td></tr>`)
        .join('') || '<tr><td colspan="5" class="muted">no operation</td></tr>'
    }</tbody></table>`;
  });
}
