// The demo store in English and Korean, on a desktop and a phone: its own campaign set is
// valid, the product page shows the modal on the third view and the time deal after 60 s.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  setup, open, campaigns, recordEvents, waitForEvent, waitForNudge, loaded, shot, byRole, PHONE,
} from './lib.mjs';
import { ROOT } from './server.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env.close(); });

const shopCampaigns = async () => JSON.parse(await readFile(join(ROOT, 'www/shop/campaigns.json'), 'utf8'));

test('the demo store campaign set is valid for the engine', async () => {
  const doc = await shopCampaigns();
  const page = await open(env);
  await page.goto(env.url('/www/shop/index.html'));
  await loaded(page);
  const result = await page.evaluate((d) => {
    try { window.nudge.setCampaigns(d); return 'ok'; } catch (e) { return String(e.message || e); }
  }, doc);
  assert.equal(result, 'ok');
  await page.done();
});

for (const [viewport, locale, suffix, headline] of [
  [undefined, 'en-US', 'desktop-en', /Still thinking about the Wool Cardigan\?/],
  [PHONE, 'ko-KR', 'phone-ko', /울 가디건, 아직 고민 중이신가요\?/],
]) {
  test(`store product page, third view: the modal (${suffix})`, async () => {
    // The store's campaign without the hold-out and the second arm, so the test is stable.
    const doc = await shopCampaigns();
    const third = { ...doc.campaigns[0], control: 0 };
    delete third.variants;
    await campaigns(env, 'demo', { schema: 1, campaigns: [third] });
    const page = await open(env, { viewport, locale });
    await recordEvents(page);
    await page.goto(env.url('/www/shop/product.html?id=wool-cardigan'));
    await loaded(page);
    await page.reload();
    await loaded(page);
    await page.reload();
    const [host] = await waitForNudge(page);
    assert.match(host.text, headline);
    assert.ok(host.find(byRole('dialog')));
    await page.waitForTimeout(400);
    await shot(page, 'shop-modal-' + suffix);
    await page.done();
  });

  test(`store cart: time deal bar after 60 s without checkout (${suffix})`, async () => {
    const doc = await shopCampaigns();
    await campaigns(env, 'demo', { schema: 1, campaigns: [doc.campaigns[1]] });
    const page = await open(env, { viewport, locale });
    await page.clock.install();
    await recordEvents(page);
    await page.goto(env.url('/www/shop/product.html?id=leather-tote'));
    await page.clock.runFor(500);
    await loaded(page);
    await page.click('#add');
    await waitForEvent(page, 'Product Added');
    await page.clock.runFor(61_000);
    const [host] = await waitForNudge(page);
    assert.ok(host.find(byRole('region')));
    await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000); // still for the screenshot
    await shot(page, 'shop-bar-' + suffix);
    await page.done();
  });
}
