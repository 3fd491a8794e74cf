// Shared end-to-end helpers: the browser, a page that fails on any console error, and
// eyes inside nudge's closed shadow root (CDP with `pierce: true`, real mouse clicks on
// the boxes it reports), plus layout-shift measurement and screenshots.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { start } from './server.mjs';

export const SHOTS = join(dirname(fileURLToPath(import.meta.url)), 'screenshots');
export const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** One browser and one server for a test file; closed by the returned `close`. */
export async function setup() {
  const server = await start();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ARGS,
  });
  return {
    server,
    browser,
    url: (p) => server.url + p,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}

/**
 * A fresh context and page. Every console error and page error is recorded; `done()`
 * asserts there were none (except messages matching `allow`) and closes the context.
 */
export async function open(env, { viewport = DESKTOP, locale = 'en-US', allow = [], context } = {}) {
  const ctx = context || (await env.browser.newContext({ viewport, locale, reducedMotion: 'reduce' }));
  const page = await ctx.newPage();
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !allow.some((re) => re.test(m.text()))) errors.push('console: ' + m.text());
    // The loader's one warning when the wasm cannot start: every later wait would only time out.
    if (/^nudge: not started/.test(m.text())) errors.push('console: ' + m.text());
  });
  page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
  page.errors = errors;
  page.done = async () => {
    const left = [...errors];
    if (!context) await ctx.close();
    else await page.close();
    assert.deepEqual(left, [], 'no console errors or page errors');
  };
  return page;
}

/** Resets what the fake collector holds for `site` and sets its live campaign set. */
export async function campaigns(env, site, doc, status = 200) {
  const body = typeof doc === 'string' ? doc : JSON.stringify(doc);
  const r = await fetch(env.url(`/__campaigns/${site}?status=${status}`), { method: 'PUT', body });
  assert.equal(r.status, 204);
}

/** Events the fake collector received, flattened, optionally only those named `name`. */
export async function sent(env, name) {
  const batches = await (await fetch(env.url('/__batches'))).json();
  const events = batches.flatMap((b) => b.events);
  return name ? events.filter((e) => e.name === name) : events;
}

export async function clearSent(env) {
  await fetch(env.url('/__batches'), { method: 'DELETE' });
}

/** A flat view of every node inside nudge hosts (through closed shadow roots). */
export async function nudgeNodes(page) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { root } = await cdp.send('DOM.getDocument', { depth: -1, pierce: true });
    const hosts = [];
    const walk = (n, host, inShadow) => {
      if (n.nodeName === 'NUDGE-ROOT') {
        host = { attrs: attrs(n), nodes: [] };
        hosts.push(host);
      }
      if (host && inShadow) {
        host.nodes.push({ backendNodeId: n.backendNodeId, name: n.nodeName, type: n.nodeType, value: n.nodeValue, attrs: attrs(n) });
      }
      for (const s of n.shadowRoots || []) walk(s, host, true);
      for (const c of n.children || []) walk(c, host, inShadow);
      if (n.contentDocument) walk(n.contentDocument, host, inShadow);
    };
    walk(root, null, false);
    for (const h of hosts) {
      h.text = h.nodes.filter((n) => n.type === 3).map((n) => n.value).join(' ').replace(/\s+/g, ' ').trim();
      h.find = (pred) => h.nodes.find((n) => n.type === 1 && pred(n));
    }
    return hosts;
  } finally {
    await cdp.detach();
  }
}

function attrs(n) {
  const a = {};
  for (let i = 0; i + 1 < (n.attributes || []).length; i += 2) a[n.attributes[i]] = n.attributes[i + 1];
  return a;
}

/** Waits until a nudge host is on the page (or `count` of them); returns the hosts. */
export async function waitForNudge(page, { count = 1, timeout = 5000 } = {}) {
  await page.waitForFunction((n) => document.querySelectorAll('nudge-root').length >= n, count, { timeout });
  return nudgeNodes(page);
}

/** Clicks, with the real mouse, the first element inside a nudge host matching `pred`. */
export async function clickInside(page, pred) {
  const [host] = await nudgeNodes(page);
  assert.ok(host, 'a nudge is on screen');
  const node = host.find(pred);
  assert.ok(node, 'the element is inside the nudge');
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('DOM.scrollIntoViewIfNeeded', { backendNodeId: node.backendNodeId });
    const { model } = await cdp.send('DOM.getBoxModel', { backendNodeId: node.backendNodeId });
    const q = model.border;
    const x = (q[0] + q[2] + q[4] + q[6]) / 4;
    const y = (q[1] + q[3] + q[5] + q[7]) / 4;
    await page.mouse.click(x, y);
  } finally {
    await cdp.detach();
  }
}

/** Box of the first element inside a nudge host matching `pred`, in CSS pixels. */
export async function boxInside(page, pred) {
  const [host] = await nudgeNodes(page);
  const node = host && host.find(pred);
  if (!node) return null;
  const cdp = await page.context().newCDPSession(page);
  try {
    const { model } = await cdp.send('DOM.getBoxModel', { backendNodeId: node.backendNodeId });
    const q = model.border;
    return { x: q[0], y: q[1], width: model.width, height: model.height };
  } finally {
    await cdp.detach();
  }
}

export const byClass = (c) => (n) => (n.attrs.class || '').split(' ').includes(c);
export const byRole = (r) => (n) => n.attrs.role === r;

/** Installs a layout-shift observer before any page script; read it with `cls(page)`. */
export async function watchLayoutShift(page) {
  await page.addInitScript({ path: join(dirname(fileURLToPath(import.meta.url)), 'pages', 'cls.js') });
}

export async function cls(page) {
  return page.evaluate(() => window.__cls);
}

export async function shot(page, name) {
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, name + '.png') });
}

/** Records every nudge event (`nudge.on('event')`) into window.__nudge from page start. */
export async function recordEvents(page) {
  await page.addInitScript(() => {
    window.__nudge = [];
    window.nudge = window.nudge || [];
    window.nudge.push(['on', 'event', (e) => window.__nudge.push(e)]);
  });
}

/** Names of the events nudge reported to the page so far. */
export async function eventNames(page) {
  return page.evaluate(() => (window.__nudge || []).map((e) => e.name));
}

/** Waits until nudge reported an event named `name`; returns it. */
export async function waitForEvent(page, name, timeout = 5000) {
  const h = await page.waitForFunction(
    (n) => (window.__nudge || []).find((e) => e.name === n),
    name,
    { timeout },
  );
  return h.jsonValue();
}

/** `nudge.explain(id)` once the SDK has loaded. */
export async function explain(page, id) {
  await page.waitForFunction(() => window.nudge && typeof window.nudge.explain === 'function');
  return page.evaluate((i) => window.nudge.explain(i), id);
}

/** Waits until the SDK has loaded and handled the page's first events. */
export async function loaded(page) {
  await page.waitForFunction(
    () => (window.nudge && typeof window.nudge.explain === 'function') || window.__nudgeFailed,
  ).catch((e) => { throw new Error(e.message + (page.errors.length ? '\n' + page.errors.join('\n') : '')); });
  assert.deepEqual(page.errors.filter((e) => /not started/.test(e)), [], 'nudge started');
  await page.waitForTimeout(150);
}
