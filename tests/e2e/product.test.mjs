// The plain-HTML shop: the third view of a product opens a bottom modal, which causes no
// layout shift, takes and returns focus, closes with Escape, and respects its caps across
// reloads and across two tabs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, open, campaigns, recordEvents, waitForEvent, waitForNudge, nudgeNodes, explain,
  clickInside, byClass, byRole, loaded, boxInside, watchLayoutShift, cls, shot, eventNames, PHONE, DESKTOP, sent,
} from './lib.mjs';
import { thirdView } from './fixtures.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env.close(); });

const PRODUCT = '/examples/plain-html/index.html';

async function viewThreeTimes(page) {
  await page.goto(env.url(PRODUCT));
  await loaded(page);
  await page.reload();
  await loaded(page);
  await page.reload();
  return waitForNudge(page);
}

test('the third view of the same product opens the modal, with no layout shift', async () => {
  await campaigns(env, 'plain', thirdView(true));
  const page = await open(env);
  await recordEvents(page);
  await watchLayoutShift(page);
  const [host] = await viewThreeTimes(page);
  const shown = await waitForEvent(page, 'Campaign Shown');
  assert.equal(shown.props.campaign_id, 'third-view');
  const dialog = host.find(byRole('dialog'));
  assert.ok(dialog, 'a dialog');
  assert.equal(dialog.attrs['aria-modal'], 'true');
  assert.equal(dialog.attrs['aria-labelledby'], 'h');
  assert.match(host.text, /Still thinking about Linen Shirt\?/);
  assert.match(host.text, /STILL10/);
  const [reason] = await explain(page, 'third-view');
  assert.equal(reason.result, 'shown');
  // Focus moved into the dialog (the host is what the page sees as focused).
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'NUDGE-ROOT');
  for (const c of ['x', 'cp', 'cta']) {
    const b = await boxInside(page, byClass(c));
    assert.ok(b.width >= 44 && b.height >= 44, `.${c} is a 44 px target: ${b.width}x${b.height}`);
  }
  await page.waitForTimeout(400);
  await shot(page, 'modal-desktop-en');
  assert.equal(await cls(page), 0, 'the bottom modal shifts nothing');
  await page.keyboard.press('Escape');
  await waitForEvent(page, 'Campaign Dismissed');
  assert.equal(await page.locator('nudge-root').count(), 0);
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'BODY');
  await page.done();
});

test('on a phone in Korean the modal is a bottom sheet with Korean text', async () => {
  await campaigns(env, 'plain', thirdView(false));
  const page = await open(env, { viewport: PHONE, locale: 'ko-KR' });
  await watchLayoutShift(page);
  const [host] = await viewThreeTimes(page);
  assert.match(host.text, /Linen Shirt, 아직 고민 중이신가요\?/);
  assert.match(host.text, /복사/);
  const dialog = host.find(byRole('dialog'));
  assert.equal(dialog.attrs.lang, 'ko');
  assert.equal(dialog.attrs['aria-modal'], undefined, 'no aria-modal without an overlay');
  await page.waitForTimeout(400);
  await shot(page, 'modal-phone-ko');
  const { width, bottom } = await page.evaluate(() => ({ width: innerWidth, bottom: innerHeight }));
  const box = await boxInside(page, byRole('dialog'));
  assert.equal(Math.round(box.width), width, 'full width on a phone');
  assert.equal(Math.round(box.y + box.height), bottom, 'sits on the bottom edge');
  assert.equal(await cls(page), 0);
  await page.done();
});

test('copying the coupon shows a copied state and is reported', async () => {
  await campaigns(env, 'plain', thirdView(true));
  const page = await open(env);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.url('') });
  await recordEvents(page);
  await viewThreeTimes(page);
  await clickInside(page, byClass('cp'));
  await page.waitForFunction(() => navigator.clipboard.readText().then((t) => t === 'STILL10'));
  const [host] = await nudgeNodes(page);
  assert.match(host.text, /Copied/);
  const clicked = await waitForEvent(page, 'Campaign Clicked');
  assert.equal(clicked.props.action, 'copy');
  await page.done();
});

test('caps hold across reloads and across two tabs', async () => {
  await campaigns(env, 'plain', thirdView(true));
  const context = await env.browser.newContext({ viewport: DESKTOP });
  const a = await open(env, { context });
  await recordEvents(a);
  await viewThreeTimes(a);
  await clickInside(a, byClass('x'));
  await waitForEvent(a, 'Campaign Dismissed');
  // The same tab again: dismissed, so suppressed.
  await a.reload();
  await loaded(a);
  await a.reload();
  await loaded(a);
  assert.equal(await a.locator('nudge-root').count(), 0);
  assert.equal((await explain(a, 'third-view'))[0].result, 'cap');
  // A second tab of the same visitor: the cap is shared through storage.
  const b = await open(env, { context });
  await b.goto(env.url(PRODUCT));
  await loaded(b);
  assert.equal(await b.locator('nudge-root').count(), 0);
  assert.equal((await explain(b, 'third-view'))[0].result, 'cap');
  await a.done();
  await b.done();
  await context.close();
});
