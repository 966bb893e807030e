// The tunnels' console view: the VXLAN mesh per transport zone (every vtep of a zone has a
// tunnel to every other), drawn as an SVG; zones too big to draw legibly are counted instead.
const DRAW_MAX = 40;

export function mount(ui) {
  const { esc } = ui;
  const zones = ui.watch('tunnels.transport-zones', 'config', '/itm:transport-zones/transport-zone=*');
  const computes = ui.watch('tunnels.computes', 'config', '/cloudscaler-rpc:compute-nodes/compute-node=*', 'compute-name;dpnid;tombstoned');
  const panel = ui.panel('topology', 'Tunnel mesh', { order: 15 });
  ui.render(() => {
    const byDpn = new Map([...computes.values()].map((c) => [String(c.dpnid), c]));
    const list = [...zones.values()];
    let tunnels = 0;
    const parts = list.map((z) => {
      const vteps = z.vteps ?? [];
      const n = vteps.length;
      tunnels += n * (n - 1);
      const title = `<h3>${esc(z['zone-name'])} <small class="muted">${n} vteps, ${n * (n - 1)} tunnels</small></h3>`;
      if (n > DRAW_MAX || n === 0) return title;
      const r = 140;
      const at = vteps.map((v, i) => ({ v, x: 200 + r * Math.cos((2 * Math.PI * i) / n), y: 170 + r * Math.sin((2 * Math.PI * i) / n) }));
      const lines = [];
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) lines.push(`<line x1="${at[i].x.toFixed(1)}" y1="${at[i].y.toFixed(1)}" x2="${at[j].x.toFixed(1)}" y2="${at[j].y.toFixed(1)}"/>`);
      const nodes = at.map(({ v, x, y }) => {
        const c = byDpn.get(String(v['dpn-id']));
        const label = c?.['compute-name'] ?? `DPN ${v['dpn-id']}`;
        return `<g data-dpn="${esc(v['dpn-id'])}"><circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="7" class="${c?.tombstoned ? 'tombstoned' : ''}"><title>${esc(label)} ${esc(v['ip-address'])}</title></circle><text x="${(x + 9).toFixed(1)}" y="${(y + 3).toFixed(1)}">${esc(label)}</text></g>`;
      });
      return `${title}<svg class="mesh" viewBox="0 0 420 340" role="img" aria-label="tunnel mesh of ${esc(z['zone-name'])}">${lines.join('')}${nodes.join('')}</svg>`;
    });
    panel.count.textContent = `${list.length} zone(s), ${tunnels} tunnels`;
    panel.body.innerHTML = parts.join('') || '<p class="muted">no transport zone</p>';
  });
}
