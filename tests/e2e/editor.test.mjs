// The campaign editor: the preview is drawn by the real wasm renderer inside the frame,
// follows the form, switches language and width, and shows the engine's findings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, open, nudgeNodes, shot } from './lib.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env.close(); });

const previewText = async (page) => {
  const hosts = await nudgeNodes(page);
  return hosts.map((h) => h.text).join(' | ');
};

test('the editor previews the campaign live and reports invalid input', async () => {
  const page = await open(env, { viewport: { width: 1280, height: 800 } });
  await page.goto(env.url('/www/editor/index.html'));
  await page.waitForFunction(() => document.getElementById('status').textContent === 'Valid campaign');
  await page.waitForFunction(() => document.getElementById('preview').contentDocument.querySelector('nudge-root'));
  assert.match(await previewText(page), /Spring sale: 15% off everything/);
  assert.match(await previewText(page), /SPRING15/);
  await page.fill('input[name=headline_en]', 'Hello <b>friends</b>');
  await page.waitForFunction(async () => true);
  await page.waitForTimeout(400);
  assert.match(await previewText(page), /Hello <b>friends<\/b>/, 'markup stays text');
  await shot(page, 'editor-desktop-en');
  // Korean preview in the phone frame.
  await page.click('[data-lang=ko]');
  await page.click('[data-view=phone]');
  await page.waitForFunction(() => document.getElementById('preview').contentDocument.querySelector('nudge-root'));
  await page.waitForTimeout(400);
  assert.match(await previewText(page), /봄맞이 세일/);
  // A bad link is refused by the engine, with its path.
  await page.fill('input[name=url]', 'javascript:alert(1)');
  await page.waitForFunction(() => document.getElementById('status').className === 'error');
  assert.match(await page.textContent('#status'), /campaigns\[0\]\.content\.cta\.url/);
  await page.done();
});
