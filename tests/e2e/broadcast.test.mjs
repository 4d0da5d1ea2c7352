// journey: J07
// Journey J07 in a real browser at phone size (390x844) against a real `loa serve`: play
// now, an emergency that cuts in, stop from the dashboard — Stop is on screen without
// scrolling there and at the top of the broadcast page —, a request for a time inside
// quiet hours refused in the page with the reason (what was typed kept), one broadcast at
// a later time accepted; then, once quiet hours have begun, a normal play-now refused and
// an emergency that breaks them, stopped, and the log rows saying so. The station's quiet
// hours start at the next minute boundary at least 40 s away, so the second part waits for
// it. (That the emergency's audio cuts in is checked on the captured wav by the Rust test
// `broadcast_journey`.) Screenshots go to target/e2e-screenshots/j07-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, launchBrowser, api as apiIn, repo } from './support.mjs';

const shots = path.join(repo, 'target', 'e2e-screenshots');
const PHONE = { width: 390, height: 844 };
const LONG = 'Bản tin buổi chiều - Bảo vệ trẻ em';
const SHORT = 'Khẩu hiệu Tháng hành động vì trẻ em 2026';
let loa, base, browser, page;

// Station time is Asia/Ho_Chi_Minh: UTC+7 all year.
const station = (ms) => new Date(ms + 7 * 3600e3);
const pad = (n) => String(n).padStart(2, '0');
const hhmm = (ms) => { const d = station(ms); return pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()); };
/** `YYYY-MM-DDTHH:MM` in station time, as a datetime-local input holds it. */
const typed = (ms) => { const d = station(ms); return d.toISOString().slice(0, 10) + 'T' + hhmm(ms); };
// Quiet hours begin at the next minute boundary at least 40 s away and last an hour.
const quietFrom = Math.ceil((Date.now() + 40e3) / 60e3) * 60e3;
const quietTo = quietFrom + 3600e3;

const api = (method, url, body) => apiIn(page, method, url, body);
const shot = (name) => page.screenshot({ path: path.join(shots, 'j07-' + name + '.png') });

/** Whether `selector` is visible inside the phone's screen without scrolling. */
async function onScreen(selector) {
  await page.evaluate(() => window.scrollTo(0, 0));
  const box = await page.locator(selector).first().boundingBox();
  return box !== null && box.y >= 0 && box.y + box.height <= PHONE.height;
}

/** Waits until `/api/status` satisfies `ok`; returns it. */
async function status(ok, what) {
  for (const until = Date.now() + 30e3; Date.now() < until;) {
    const s = (await api('GET', '/api/status')).body;
    if (ok(s)) return s;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('status never showed ' + what + '\n' + loa.logs);
}

async function emergency(label) {
  await page.selectOption('#e-playlist', { label });
  await page.check('input[name="confirm"]');
  page.once('dialog', (d) => d.accept());
  await Promise.all([page.waitForURL(/sent=1/), page.click('form[data-confirm] button.danger')]);
}

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  loa = await startDaemon([
    '[station]', 'seed_demo = true',
    '[audio]', 'output = "null"', `chime = "${path.join(repo, 'media', 'chime.wav')}"`,
    '[schedule]', 'earliest = "00:00"', 'latest = "23:59"', 'require_clock_sync = false',
    'warm_up_seconds = 0.5',
    `quiet_hours = ["${hhmm(quietFrom)}-${hhmm(quietTo)}"]`,
  ].join('\n'));
  base = loa.base;
  ({ browser, page } = await launchBrowser());
  await page.goto(base + '/');
  await page.fill('#name', 'lan');
  await page.fill('#password', 'mật khẩu dài');
  await page.fill('#password2', 'mật khẩu dài');
  await Promise.all([page.waitForURL(base + '/'), page.click('button[type=submit]')]);
});

after(async () => {
  if (browser) await browser.close();
  if (loa) {
    await loa.stop();
    fs.rmSync(loa.dir, { recursive: true, force: true });
  }
});

test('J07 from a phone: play now, an emergency cuts in, stop from the dashboard, a later time', async () => {
  await page.goto(base + '/broadcast');
  assert.ok(await onScreen('form.stop button'), 'Stop is on screen at the top of the broadcast page');
  await shot('broadcast');

  await page.selectOption('#b-playlist', { label: LONG });
  await Promise.all([page.waitForURL(/sent=1/), page.click('#play-form button')]);
  assert.match(await page.textContent('main'), /Đã gửi lệnh/);
  await status((s) => s.on_air && s.on_air.clip >= 1, 'the play-now on air');

  await emergency(SHORT);
  await status((s) => s.on_air && s.on_air.priority === 'emergency', 'the emergency on air');
  await page.goto(base + '/');
  assert.ok(await onScreen('#on-air form.stop button'), 'Stop is on screen on the dashboard while on air');
  await shot('dashboard-stop');
  await Promise.all([page.waitForURL(/stopped=1/), page.click('#on-air form.stop button')]);
  assert.match(await page.textContent('main'), /Đã dừng phát/);
  await status((s) => !s.on_air, 'nothing on air after stop');

  // A time inside quiet hours is refused in the page, with the reason; what was typed stays.
  const inQuiet = typed(quietFrom + 10 * 60e3);
  await page.selectOption('#b-playlist', { label: SHORT });
  await page.fill('#b-at', inQuiet);
  await page.click('#play-form button');
  await page.waitForSelector('#refusal');
  const refusal = await page.textContent('#refusal');
  assert.match(refusal, /Không phát được/);
  assert.match(refusal, new RegExp('giờ yên tĩnh ' + hhmm(quietFrom) + '-' + hhmm(quietTo)));
  assert.doesNotMatch(await page.textContent('body'), /Đã gửi lệnh|"error"/);
  assert.equal(await page.inputValue('#b-at'), inQuiet);
  assert.equal(await page.$eval('#b-playlist', (s) => s.selectedOptions[0].textContent), SHORT);
  assert.ok(await onScreen('#refusal'), 'the reason is on screen');
  await shot('refused');
  assert.equal((await api('GET', '/api/status')).body.one_shots_waiting, 0, 'nothing was sent');

  // One broadcast at a later time (after quiet hours) is accepted and waits.
  await page.fill('#b-at', typed(quietTo + 5 * 60e3));
  await Promise.all([page.waitForURL(/sent_at=1/), page.click('#play-form button')]);
  assert.match(await page.textContent('main'), /sẽ phát vào giờ đã hẹn/);
  await status((s) => s.one_shots_waiting === 1, 'the one-shot waiting');
});

test('J07 in quiet hours: play now is refused, an emergency breaks them and the log says so', async () => {
  await new Promise((r) => setTimeout(r, Math.max(0, quietFrom + 1000 - Date.now())));
  await page.goto(base + '/broadcast');
  await page.selectOption('#b-playlist', { label: SHORT });
  await page.click('#play-form button');
  await page.waitForSelector('#refusal');
  assert.match(await page.textContent('#refusal'), /Không thể phát lúc .*giờ yên tĩnh/s);

  await emergency(LONG);
  await status((s) => s.on_air && s.on_air.priority === 'emergency' && s.on_air.clip >= 1, 'the emergency on air');
  await page.goto(base + '/broadcast');
  assert.ok(await onScreen('form.stop button'), 'Stop is on screen');
  await Promise.all([page.waitForURL(/stopped=1/), page.click('form.stop button')]);
  await status((s) => !s.on_air, 'nothing on air after stop');

  // The log: the three broadcasts that aired (all cut short), the last one breaking quiet
  // hours; nothing refused left a row, nothing was skipped.
  let rows = [];
  for (const until = Date.now() + 20e3; Date.now() < until;) {
    await page.goto(base + '/log');
    rows = await page.$$eval('#log tbody tr', (trs) => trs.map((t) => t.textContent));
    if (rows.length >= 3 && !rows.some((r) => /đang phát/.test(r))) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.equal(rows.length, 3, rows.join('\n') + loa.logs);
  assert.ok(rows.every((r) => /bị ngắt/.test(r) && /lan/.test(r)), rows.join('\n'));
  assert.match(rows[0], new RegExp('phát dù vi phạm: giờ yên tĩnh ' + hhmm(quietFrom)));
  assert.ok(!rows.slice(1).some((r) => /vi phạm/.test(r)), 'the first two broke nothing');
  await page.screenshot({ path: path.join(shots, 'j07-log.png'), fullPage: true });
});
