// nudge campaign editor: turns the form into a campaign document, has the engine inside
// the preview frame validate it (`nudge.setCampaigns` throws the findings with their JSON
// paths), shows it with the real renderer (`nudge.show`), and saves it to the collector's
// admin API (PUT the draft, then publish).
const form = document.getElementById('form');
const frame = document.getElementById('preview');
const status = document.getElementById('status');
const json = document.getElementById('json');
let view = { size: 'desktop', lang: 'en' };
let shownSlot = null;

const TRIGGERS = {
  view3: { count: { event: 'Product Viewed', at_least: 3, within: 'session', same: 'product_id' } },
  cart60: { sequence: { first: 'Product Added', then_not: 'Checkout Started', within: '60s' } },
  exit: { exit_intent: true },
  page: { event: 'Page Viewed' },
};

/** The campaign set described by the form. */
export function documentFromForm() {
  const f = Object.fromEntries(new FormData(form));
  const text = (en, ko) => (ko ? { en, ko } : en);
  const placement = f.type === 'bar'
    ? { type: 'bar', position: f.position, mode: f.mode }
    : { type: 'modal', overlay: form.elements.overlay.checked };
  const content = { headline: text(f.headline_en, f.headline_ko) };
  if (f.body_en) content.body = text(f.body_en, f.body_ko);
  if (f.coupon) content.coupon = f.coupon;
  if (f.minutes) content.countdown = { minutes: Number(f.minutes) };
  if (f.cta_en) content.cta = { label: text(f.cta_en, f.cta_ko), url: f.url || '/' };
  content.theme = {
    background: f.background, text: f.text, accent: f.accent, accent_text: f.accent_text, radius: Number(f.radius),
  };
  const campaign = {
    id: f.id, name: f.name, placement, trigger: TRIGGERS[f.trigger], content,
    caps: { per_session: Number(f.per_session) || 1 },
  };
  return { schema: 1, campaigns: [campaign] };
}

function setStatus(text, kind) {
  status.textContent = text;
  status.className = kind;
}

function nudgeIn() {
  const n = frame.contentWindow && frame.contentWindow.nudge;
  return n && typeof n.show === 'function' ? n : null;
}

function reloadPreview() {
  shownSlot = null;
  frame.src = 'preview.html?lang=' + view.lang;
}

/** Validates and redraws; reloads the frame when the slot changes (a bar and a modal may
 *  otherwise both stay on screen). */
function update() {
  form.className = form.elements.type.value === 'bar' ? 'is-bar' : 'is-modal';
  const doc = documentFromForm();
  json.textContent = JSON.stringify(doc, null, 2);
  const nudge = nudgeIn();
  if (!nudge) return;
  const slot = doc.campaigns[0].placement.type;
  if (shownSlot && shownSlot !== slot) return reloadPreview();
  try {
    nudge.setCampaigns(doc);
    setStatus('Valid campaign', 'ok');
  } catch (e) {
    setStatus(String(e.message || e), 'error');
    return;
  }
  if (nudge.show(doc.campaigns[0].id)) shownSlot = slot;
}

let pending;
form.addEventListener('input', () => { clearTimeout(pending); pending = setTimeout(update, 120); });
form.addEventListener('submit', (e) => e.preventDefault());

// The frame's nudge loads asynchronously: poll briefly after each (re)load.
frame.addEventListener('load', () => {
  let tries = 0;
  const wait = () => (nudgeIn() ? update() : ++tries < 100 && setTimeout(wait, 50));
  wait();
});

for (const b of document.querySelectorAll('.toolbar button')) {
  b.addEventListener('click', () => {
    if (b.dataset.view) {
      view.size = b.dataset.view;
      frame.parentElement.className = 'frame ' + view.size;
      for (const o of document.querySelectorAll('[data-view]')) o.setAttribute('aria-pressed', String(o === b));
      // The renderer picks sheet or card by the frame's width; a new frame re-measures.
      reloadPreview();
    } else {
      view.lang = b.dataset.lang;
      for (const o of document.querySelectorAll('[data-lang]')) o.setAttribute('aria-pressed', String(o === b));
      reloadPreview();
    }
  });
}

document.getElementById('publish').addEventListener('click', async () => {
  const base = document.getElementById('collector').value.replace(/\/$/, '');
  const site = encodeURIComponent(document.getElementById('site').value);
  const headers = { authorization: 'Bearer ' + document.getElementById('token').value, 'content-type': 'application/json' };
  try {
    const put = await fetch(`${base}/v1/admin/sites/${site}/campaigns`, { method: 'PUT', headers, body: JSON.stringify(documentFromForm()) });
    if (!put.ok) throw new Error((await put.json().catch(() => ({}))).error || put.statusText);
    const pub = await fetch(`${base}/v1/admin/sites/${site}/publish`, { method: 'POST', headers });
    if (!pub.ok) throw new Error((await pub.json().catch(() => ({}))).error || pub.statusText);
    setStatus('Published to ' + (base || location.origin), 'ok');
  } catch (e) {
    setStatus('Could not publish: ' + e.message, 'error');
  }
});

update();
