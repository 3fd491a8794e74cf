// nudge in unfriendly places: a strict Content-Security-Policy, a hostile store
// stylesheet, consent not yet given, blocked localStorage, a broken campaign document,
// and a collector that is down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, open, campaigns, recordEvents, eventNames, waitForEvent, waitForNudge, explain, loaded,
  sent, clearSent, byRole, boxInside, shot, PHONE,
} from './lib.mjs';
import { welcome, thirdView } from './fixtures.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env.close(); });

const PRODUCT = '/examples/plain-html/index.html';

test('a strict CSP page (script-src self + wasm-unsafe-eval, style-src self) has no violation', async () => {
  await campaigns(env, 'plain', welcome());
  env.server.state.cspViolations.length = 0;
  const page = await open(env);
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
  });
  await recordEvents(page);
  const res = await page.goto(env.url('/csp' + PRODUCT));
  assert.match(res.headers()['content-security-policy'], /script-src 'self' 'wasm-unsafe-eval'; style-src 'self'/);
  const [host] = await waitForNudge(page);
  assert.match(host.text, /Welcome! 10% off today/);
  const box = await boxInside(page, byRole('dialog'));
  assert.ok(box.width > 200 && box.height > 100, 'styled by its adopted stylesheet');
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  assert.deepEqual(env.server.state.cspViolations, []);
  await page.done();
});

test('a hostile store stylesheet cannot hide or restyle it', async () => {
  await campaigns(env, 'hostile', welcome());
  const page = await open(env);
  await page.goto(env.url('/tests/e2e/pages/hostile.html'));
  await waitForNudge(page);
  await page.waitForTimeout(300);
  const box = await boxInside(page, byRole('dialog'));
  assert.ok(box, 'the dialog is laid out');
  assert.ok(box.width >= 400 && box.height > 100, `visible at full size: ${JSON.stringify(box)}`);
  assert.ok(box.y + box.height <= 800 && box.y > 400, 'at the bottom of the viewport');
  await shot(page, 'hostile-desktop-en');
  await page.done();
});

test('consent pending: nothing stored or sent until granted', async () => {
  await campaigns(env, 'plain', welcome());
  await clearSent(env);
  const page = await open(env);
  await page.addInitScript(() => {
    window.nudge = window.nudge || [];
    window.nudge.push(['init', { consent: 'pending' }]);
  });
  await recordEvents(page);
  await page.goto(env.url(PRODUCT));
  await loaded(page);
  await waitForEvent(page, 'Product Viewed');
  const stored = () => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('nudge')));
  assert.deepEqual(await stored(), [], 'nothing stored');
  await page.waitForTimeout(300);
  assert.deepEqual(await sent(env), [], 'nothing sent');
  await page.evaluate(() => window.nudge.setConsent('granted'));
  await page.goto(env.url('/examples/plain-html/cart.html')); // page hide flushes the outbox
  await loaded(page);
  assert.ok((await stored()).length > 0, 'stored after consent');
  const names = (await sent(env)).map((e) => e.name);
  assert.ok(names.includes('Product Viewed'), `what waited was sent: ${names}`);
  await page.done();
});

test('blocked localStorage: it still works, and caps still hold across reloads', async () => {
  await campaigns(env, 'plain', thirdView(true));
  const page = await open(env);
  await page.addInitScript(() => {
    Object.defineProperty(window, 'localStorage', {
      get() { throw new DOMException('The operation is insecure.', 'SecurityError'); },
    });
  });
  await recordEvents(page);
  await page.goto(env.url(PRODUCT));
  await loaded(page);
  await page.reload();
  await loaded(page);
  await page.reload();
  await waitForNudge(page);
  await page.keyboard.press('Escape');
  await waitForEvent(page, 'Campaign Dismissed');
  await page.reload();
  await loaded(page);
  assert.equal(await page.locator('nudge-root').count(), 0, 'the dismissal was remembered');
  assert.equal((await explain(page, 'third-view'))[0].result, 'cap');
  await page.done();
});

test('a broken campaign document gives a clear error and breaks nothing', async () => {
  await campaigns(env, 'plain', '{"schema": 1, "campaigns": [{"id": "x", ');
  const page = await open(env);
  const warnings = [];
  page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
  await page.goto(env.url(PRODUCT));
  await loaded(page);
  assert.ok(warnings.some((w) => /nudge: .*campaigns/.test(w)), `warned: ${warnings}`);
  // The same document given inline throws the engine's message with its position.
  const message = await page.evaluate(() => {
    try {
      window.nudge.setCampaigns('{"schema": 1, "campaigns": [{"id": "x", ');
      return 'no error';
    } catch (e) {
      return String(e.message || e);
    }
  });
  assert.match(message, /JSON|end of input|unexpected/i);
  // A misspelt field names its path and suggests the right one.
  const typo = await page.evaluate(() => {
    try {
      window.nudge.setCampaigns({ schema: 1, campaigns: [{ id: 'a', placement: { type: 'bar' }, content: { headline: 'Hi' }, trigger: { count: { event: 'Product Viewed', at_least: 3, wihtin: '7d' } } }] });
      return 'no error';
    } catch (e) {
      return String(e.message || e);
    }
  });
  assert.match(typo, /campaigns\[0\]\.trigger\.count\.wihtin/);
  assert.match(typo, /within/);
  await page.done();
});

test('the deepest documents the engine accepts run on the shipped build\'s small stack', async () => {
  // `cargo xtask dist` links the wasm with a 64 KiB stack (heap_kib): the deepest campaign
  // rules, event properties and stored state the engine accepts must load, decide, explain
  // and be saved within it; one level deeper is refused with its reason, never a trap.
  await campaigns(env, 'plain', welcome());
  const page = await open(env);
  const warnings = [];
  page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
  await recordEvents(page);
  await page.goto(env.url(PRODUCT));
  await loaded(page);
  const out = await page.evaluate(() => {
    const MAX = 64; // engine::json::MAX_DEPTH
    const nest = (open, close, n, inner) => open.repeat(n) + inner + close.repeat(n);
    // Root object, campaigns array, campaign, trigger: four levels before the rule.
    const doc = (open, close, levels) => '{"schema":1,"campaigns":[{"id":"deep","placement":{"type":"bar"},' +
      '"content":{"headline":"Hi"},"trigger":' + nest(open, close, levels, '{"event":"Deep"}') + '}]}';
    const results = [];
    for (const [open, close, per] of [['{"not":', '}', 1], ['{"all":[', ']}', 2]]) {
      const levels = Math.floor((MAX - 4) / per);
      window.nudge.setCampaigns(doc(open, close, levels));
      window.nudge.track('Deep', {});
      window.nudge.track('Deep', {});
      results.push(window.nudge.explain('deep').length);
      try {
        window.nudge.setCampaigns(doc(open, close, levels + 1));
        results.push('accepted');
      } catch (e) {
        results.push(/deeper than 64/.test(e.message) ? 'refused' : e.message);
      }
    }
    // Properties as deep as a batch on the wire allows (engine::event::MAX_PROPS_DEPTH: the
    // batch object, its array and the event sit above them), then one level deeper.
    const props = (levels) => JSON.parse(nest('{"a":', '}', levels, '1'));
    window.nudge.track('Deep Props', props(MAX - 3));
    window.nudge.track('Too Deep Props', props(MAX - 2));
    window.nudge.page();
    return results;
  });
  assert.deepEqual(out, [1, 'refused', 1, 'refused']);
  const names = await eventNames(page);
  assert.ok(names.includes('Deep Props'), `the deepest properties were tracked: ${names}`);
  assert.ok(!names.includes('Too Deep Props'), 'deeper ones were not');
  assert.ok(warnings.some((w) => /nest too deeply/.test(w)), `warned: ${warnings}`);
  // What was saved (state and outbox with the deep properties) restores on the next page.
  await page.reload();
  await loaded(page);
  assert.equal((await explain(page, 'welcome')).length, 1);
  await page.done();
});

test('collector down: the page is unaffected and the events arrive once it is back', async () => {
  await campaigns(env, 'plain', welcome({ type: 'bar', position: 'bottom', mode: 'overlay' }));
  await clearSent(env);
  const page = await open(env, { allow: [/Failed to load resource|ERR_CONNECTION|ERR_EMPTY_RESPONSE/] });
  await page.clock.install();
  await recordEvents(page);
  await page.goto(env.url(PRODUCT));
  await page.clock.runFor(500);
  await waitForNudge(page);
  env.server.state.collectorDown = true;
  await page.click('#add');
  await waitForEvent(page, 'Product Added');
  // The outbox sends after 5 s; that attempt fails and is retried with back-off.
  await page.clock.runFor(6_000);
  await page.waitForTimeout(500);
  assert.equal(await page.locator('nudge-root').count(), 1, 'the campaign is still on screen');
  env.server.state.collectorDown = false;
  let names = [];
  for (let i = 0; i < 40 && !names.includes('Product Added'); i++) {
    await page.clock.runFor(2_000);
    await page.waitForTimeout(100);
    names = (await sent(env)).map((e) => e.name);
  }
  assert.ok(names.includes('Product Added'), `queued events were delivered: ${names}`);
  await page.done();
});
