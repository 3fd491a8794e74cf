// nudge dashboard: fetches a report from the collector and draws a table and a bar per
// arm (conversion rate), with lift over the control and its confidence. No libraries:
// bars are SVG built with the DOM (no innerHTML).
const form = document.getElementById('query');
const status = document.getElementById('status');
const out = document.getElementById('report');
const SVG = 'http://www.w3.org/2000/svg';

const pct = (x, digits = 1) => (x == null ? '—' : (x * 100).toFixed(digits) + '%');
const h = (tag, props = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) e.setAttribute(k, v);
  e.append(...kids);
  return e;
};

function bar(rate, max, colour, label) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.setAttribute('viewBox', '0 0 100 10');
  svg.setAttribute('preserveAspectRatio', 'none');
  const r = document.createElementNS(SVG, 'rect');
  r.setAttribute('width', String(max > 0 ? Math.max(0.5, (rate / max) * 100) : 0.5));
  r.setAttribute('height', '10');
  r.setAttribute('fill', colour);
  svg.append(r);
  return svg;
}

function lift(arm) {
  const c = arm.vs_control;
  if (!c) return h('span', { class: 'muted' }, arm.variant === 'control' ? 'hold-out' : '—');
  const sure = c.confidence != null && c.confidence >= 0.95;
  const cls = !sure ? 'muted' : c.difference > 0 ? 'win' : 'lose';
  const text = (c.lift == null ? '—' : (c.lift > 0 ? '+' : '') + pct(c.lift)) + ` (${pct(c.confidence, 0)} sure)`;
  return h('span', { class: cls }, text);
}

export function render(report) {
  out.replaceChildren();
  if (!report.campaigns.length) {
    out.append(h('p', { class: 'muted' }, 'No campaign events in this window yet.'));
    return;
  }
  for (const c of report.campaigns) {
    const max = Math.max(...c.arms.map((a) => a.conversion_rate || 0));
    const rows = c.arms.map((a) => h('tr', {},
      h('td', {}, a.variant || '(none)'),
      h('td', {}, String(a.visitors)),
      h('td', {}, a.variant === 'control' ? `${a.holdouts} held out` : String(a.impressions)),
      h('td', {}, String(a.clicks)),
      h('td', {}, pct(a.impressions ? a.clicks / a.impressions : null)),
      h('td', {}, String(a.conversions)),
      h('td', {}, pct(a.conversion_rate)),
      h('td', {}, lift(a))));
    const bars = h('div', { class: 'bars' }, ...c.arms.map((a) =>
      h('div', {}, h('span', {}, `${a.variant || '(none)'} — ${pct(a.conversion_rate)}`),
        bar(a.conversion_rate || 0, max, a.variant === 'control' ? '#a8a29e' : '#15803d', `${a.variant} conversion rate ${pct(a.conversion_rate)}`))));
    out.append(h('section', { class: 'campaign' },
      h('h2', {}, c.campaign_id),
      h('table', {},
        h('thead', {}, h('tr', {}, ...['Arm', 'Visitors', 'Impressions', 'Clicks', 'CTR', 'Conversions', 'Conv. rate', 'Lift vs control'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ...rows)),
      bars));
  }
}

async function load(e) {
  if (e) e.preventDefault();
  const f = Object.fromEntries(new FormData(form));
  const base = (f.collector || '').replace(/\/$/, '');
  const to = Date.now();
  const from = to - Number(f.days) * 86_400_000;
  status.textContent = 'Loading…';
  status.className = '';
  try {
    const r = await fetch(`${base}/v1/admin/sites/${encodeURIComponent(f.site)}/report?from=${from}&to=${to}`, {
      headers: { authorization: 'Bearer ' + f.token },
    });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.error || r.statusText);
    render(body);
    status.textContent = `${body.site}: ${new Date(body.from).toLocaleString()} – ${new Date(body.to).toLocaleString()}`;
  } catch (err) {
    out.replaceChildren();
    status.textContent = 'Could not load the report: ' + err.message;
    status.className = 'error';
  }
}

form.addEventListener('submit', load);
const q = new URLSearchParams(location.search);
for (const k of ['collector', 'site', 'token']) if (q.has(k)) form.elements[k].value = q.get(k);
if (q.has('site')) load();
