// The autoscaling console view: clusters with their sizes, status and last actions.
export function mount(ui) {
  const { esc } = ui;
  const specs = ui.watch('autoscaling.clusters', 'config', '/sextant-clustering:clustering/cluster=*', 'id;name;min-size;max-size;desired-capacity');
  const states = ui.watch('autoscaling.cluster-states', 'operational', '/sextant-clustering:clustering-state/cluster=*', 'id;status;status-reason;running-action;node(id;status;compute)');
  const actions = ui.watch('autoscaling.actions', 'operational', '/sextant-clustering:clustering-state/action=*', 'id;name;target;action;status;created-at;end-time');
  const panel = ui.panel('clusters', 'Clusters', { order: 50 });
  ui.render(() => {
    const stateOf = new Map([...states.values()].map((s) => [s.id, s]));
    const lastActions = new Map();
    for (const a of [...actions.values()].sort((x, y) => String(y['created-at'] ?? '').localeCompare(String(x['created-at'] ?? '')))) {
      const list = lastActions.get(a.target) ?? [];
      if (list.length < 3) list.push(a);
      lastActions.set(a.target, list);
    }
    const list = [...specs.values()].sort((a, b) => String(a.name ?? a.id).localeCompare(String(b.name ?? b.id)));
    panel.count.textContent = `${list.length}`;
    panel.body.innerHTML = `<table><thead><tr><th>cluster</th><th>status</th><th>nodes</th><th>desired (min..max)</th><th>last actions</th></tr></thead><tbody>${
      list
        .map((c) => {
          const s = stateOf.get(c.id);
          const nodes = s?.node ?? [];
          const acts = lastActions.get(c.id) ?? [];
          return `<tr data-cluster="${esc(c.id)}"><td>${esc(c.name ?? c.id)}</td><td title="${esc(s?.['status-reason'] ?? '')}">${esc(s?.status ?? '')}</td><td>${nodes.length}</td><td>${esc(c['desired-capacity'])} (${esc(c['min-size'])}..${esc(c['max-size'])})</td><td>${acts.map((a) => `<span class="badge">${esc(a.action.replace(/^.*:/, ''))} ${esc(a.status)}</span>`).join('')}</td></tr>`;
        })
        .join('') || '<tr><td colspan="5" class="muted">no cluster</td></tr>'
    }</tbody></table>`;
  });
}
