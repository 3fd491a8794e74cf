// Triggers that depend on time and on the pointer: the time deal after 60 s without
// checkout (on Playwright's fake clock), exit intent, and an SPA route change that cancels
// a delayed show.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, open, campaigns, recordEvents, waitForEvent, waitForNudge, explain, loaded,
  byRole, byClass, boxInside, nudgeNodes, watchLayoutShift, shot, PHONE,
} from './lib.mjs';
import { timeDeal, exitIntent, delayed } from './fixtures.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env.close(); });

const PRODUCT = '/examples/plain-html/index.html';

for (const [viewport, locale, name] of [[undefined, 'en-US', 'bar-desktop-en'], [PHONE, 'ko-KR', 'bar-phone-ko']]) {
  test(`added to cart, 60 s without checkout: the time-deal bar (${name})`, async () => {
    await campaigns(env, 'plain', timeDeal);
    const page = await open(env, { viewport, locale });
    await page.clock.install();
    await recordEvents(page);
    await page.goto(env.url(PRODUCT));
    await page.clock.runFor(500);
    await loaded(page);
    await page.click('#add');
    await waitForEvent(page, 'Product Added');
    await page.clock.runFor(30_000);
    assert.equal(await page.locator('nudge-root').count(), 0, 'not before 60 s');
    await page.clock.runFor(31_000);
    const [host] = await waitForNudge(page);
    const bar = host.find(byRole('region'));
    assert.ok(bar, 'a labelled region');
    assert.match(bar.attrs['aria-label'], locale === 'ko-KR' ? /타임딜/ : /Time deal/);
    assert.match(host.text, /15:00|14:5\d/, 'the countdown runs from 15 minutes');
    // Push mode: the page starts below the bar, whose space was reserved with it.
    const barBox = await boxInside(page, byRole('region'));
    const header = await page.locator('header.top').boundingBox();
    assert.ok(Math.abs(header.y - barBox.height) <= 1, `page pushed by ${barBox.height}px, header at ${header.y}`);
    await page.clock.runFor(62_000);
    const [later] = await nudgeNodes(page);
    assert.match(later.text, /1[34]:\d\d/, 'the countdown went down');
    await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000); // still for the screenshot
    await shot(page, name);
    await page.done();
  });
}

test('checkout within 60 s: no time deal', async () => {
  await campaigns(env, 'plain', timeDeal);
  const page = await open(env);
  await page.clock.install();
  await recordEvents(page);
  await page.goto(env.url(PRODUCT));
  await page.clock.runFor(500);
  await loaded(page);
  await page.click('#add');
  await page.goto(env.url('/examples/plain-html/cart.html'));
  await page.clock.runFor(500);
  await loaded(page);
  await page.click('#checkout');
  await waitForEvent(page, 'Checkout Started');
  await page.clock.runFor(90_000);
  assert.equal(await page.locator('nudge-root').count(), 0);
  assert.equal((await explain(page, 'time-deal'))[0].result, 'trigger');
  await page.done();
});

test('exit intent: the pointer leaving through the top edge opens the modal', async () => {
  await campaigns(env, 'plain', exitIntent);
  const page = await open(env);
  await recordEvents(page);
  await page.goto(env.url(PRODUCT));
  await loaded(page);
  assert.equal(await page.locator('nudge-root').count(), 0);
  await page.mouse.move(640, 300);
  await page.mouse.move(640, 5, { steps: 5 });
  await page.mouse.move(640, -40);
  const [host] = await waitForNudge(page);
  assert.match(host.text, /Wait! Free shipping ends tonight/);
  await waitForEvent(page, 'Exit Intent');
  await page.done();
});

test('an SPA route change cancels a delayed show', async () => {
  await campaigns(env, 'spa', delayed);
  const page = await open(env);
  await page.clock.install();
  await recordEvents(page);
  await page.goto(env.url('/examples/spa/product/mug'));
  await page.clock.runFor(500);
  await loaded(page);
  await page.clock.runFor(2_000);
  await page.click('a[href="/examples/spa/cart"]');
  await waitForEvent(page, 'Cart Viewed');
  await page.clock.runFor(10_000);
  assert.equal(await page.locator('nudge-root').count(), 0, 'left the product page before 5 s');
  assert.notEqual((await explain(page, 'delayed'))[0].result, 'shown');
  // Control: staying on a product page for 5 s does show it.
  await page.click('a[href="/examples/spa/product/tote"]');
  await page.clock.runFor(6_000);
  const [host] = await waitForNudge(page);
  assert.match(host.text, /Chat with us/);
  assert.ok(host.find(byClass('bot')), 'a bottom bar');
  await page.done();
});
