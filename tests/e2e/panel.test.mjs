// End-to-end tests of the panel in a real browser: Debian's chromium, headless, driven by
// playwright-core, against a real `loa serve` on a temporary data directory. They walk
// what staff do: first admin, upload clips, reorder a playlist by drag and drop, create a
// programme and see its next times (and the warning when a station rule would skip them),
// watch the on-air progress on the dashboard, play now and find it in the log, manage
// users, and see a degraded state on the dashboard. Screenshots of the main pages
// (phone-sized; the newer ones also desktop-sized) go to target/e2e-screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, launchBrowser, api as apiIn, tone, repo } from './support.mjs';

const shots = path.join(repo, 'target', 'e2e-screenshots');
let loa, dir, base, browser, page, pageErrors = '';
const logs = () => loa.logs() + pageErrors;

async function shot(name) {
  await page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });
}

/** The page at phone size (NAME.png) and at desktop size (NAME-desktop.png). */
async function shots2(name) {
  await shot(name);
  await page.setViewportSize({ width: 1280, height: 800 });
  await shot(name + '-desktop');
  await page.setViewportSize({ width: 390, height: 844 });
}

const pad = (n) => String(n).padStart(2, '0');
// A quiet hour twelve hours from now in the station's zone (Asia/Ho_Chi_Minh, UTC+7, no
// DST), so the rule never blocks what the tests play now.
const quietHour = (new Date().getUTCHours() + 7 + 12) % 24;

/** The JSON API from inside the logged-in page. */
const api = (method, url, body) => apiIn(page, method, url, body);

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  loa = await startDaemon([
    'seed_demo = true',
    '[audio]', 'output = "null"', `chime = "${path.join(repo, 'media', 'chime.wav')}"`,
    '[schedule]', 'earliest = "00:00"', 'latest = "23:59"', 'require_clock_sync = false',
    `quiet_hours = ["${pad(quietHour)}:00-${pad((quietHour + 1) % 24)}:00"]`,
  ].join('\n'));
  ({ dir, base } = loa);
  tone(path.join(dir, 'tong-dai-111.wav'), 440, 2);
  tone(path.join(dir, 'tre-em-hanh-phuc.wav'), 660, 3);
  fs.writeFileSync(path.join(dir, 'ghi-chu.mp3'), 'this is a text file, not audio');
  ({ browser, page } = await launchBrowser());
  page.on('pageerror', (e) => { pageErrors += '\npage error: ' + e.message; });
});

after(async () => {
  if (browser) await browser.close();
  if (loa) await loa.stop();
});

test('first visit from the box creates the admin and logs in', async () => {
  await page.goto(base + '/');
  assert.equal(new URL(page.url()).pathname, '/setup');
  assert.match(await page.textContent('h2'), /Tạo tài khoản quản trị đầu tiên/);
  await page.fill('#name', 'lan');
  await page.fill('#password', 'mật khẩu dài');
  await page.fill('#password2', 'mật khẩu dài');
  await page.click('button[type=submit]');
  await page.waitForURL(base + '/');
  assert.match(await page.textContent('header'), /lan \(admin\)/);
  assert.match(await page.textContent('main'), /Rơ-le âm ly/);
  await shot('dashboard');
});

test('uploads show progress, the duration, and the reason for a refusal', async () => {
  await page.goto(base + '/library');
  await page.setInputFiles('#files', [path.join(dir, 'tong-dai-111.wav'), path.join(dir, 'tre-em-hanh-phuc.wav'),
    path.join(dir, 'ghi-chu.mp3')]);
  await page.waitForFunction(() => document.querySelectorAll('#uploads .ok, #uploads .alert').length === 3);
  const ok = await page.$$eval('#uploads .ok', (els) => els.map((e) => e.textContent));
  assert.equal(ok.length, 2, logs());
  assert.ok(ok.some((t) => t.includes('tong-dai-111') && t.includes('0:02')), ok.join('|'));
  const refused = await page.textContent('#uploads .alert');
  assert.match(refused, /Không nhận tệp: .*ghi-chu\.mp3/);
  await page.reload();
  assert.match(await page.textContent('#clips'), /tre-em-hanh-phuc.*0:03/s);
  await shot('library');
});

test('a playlist is reordered by drag and drop, and a stale edit says so', async () => {
  await page.goto(base + '/playlists');
  await page.fill('#pname', 'Khẩu hiệu tháng 6');
  await page.click('form[action="/playlists"] button');
  await page.waitForURL(/\/playlists\/\d+$/);
  const id = page.url().split('/').pop();
  for (const title of ['tong-dai-111', 'tre-em-hanh-phuc']) {
    await page.selectOption('#add-clip', { label: title });
    await page.click('#add-form button');
    await page.waitForFunction((n) => document.querySelector('#saved').textContent.includes('(phiên bản ' + n + ')'),
      title === 'tong-dai-111' ? 2 : 3);
  }
  const before = (await api('GET', `/api/playlists/${id}`)).body.items;
  assert.equal(before.length, 2);
  await page.dragAndDrop('#order li:nth-child(2)', '#order li:nth-child(1)', { targetPosition: { x: 20, y: 2 } });
  await page.waitForFunction(() => document.querySelector('#saved').textContent.includes('4'));
  const after = (await api('GET', `/api/playlists/${id}`)).body;
  assert.deepEqual(after.items, [before[1], before[0]], 'dragged to the top');
  await page.click('#order li:nth-child(1) button[data-action="down"]');
  await page.waitForFunction(() => document.querySelector('#saved').textContent.includes('5'));
  assert.deepEqual((await api('GET', `/api/playlists/${id}`)).body.items, before, 'moved down by button');
  // Someone else changes it meanwhile; our next edit must not overwrite theirs.
  const other = await api('PUT', `/api/playlists/${id}/order`, { version: 5, items: [before[0]] });
  assert.equal(other.status, 200);
  await page.click('#order li:nth-child(1) button[data-action="down"]');
  await page.waitForSelector('#stale:not([hidden])');
  assert.equal(await page.$$eval('#order li', (l) => l.length), 1, 'the current order is shown');
  await shot('playlist');
});

test('the schedule helper previews the next ten times and names a bad field', async () => {
  await page.goto(base + '/programmes');
  await page.fill('#pr-name', 'Bản tin sáng');
  await page.selectOption('#pr-playlist', { label: 'Khẩu hiệu tháng 6' });
  await page.selectOption('#preset', { index: 2 });
  await page.waitForFunction(() => document.querySelectorAll('#preview li').length === 10);
  assert.equal(await page.inputValue('#cron'), '30 6 * * 1,2,3,4,5');
  const first = await page.textContent('#preview li .when');
  assert.match(await page.textContent('#preview li .verdict'), /^sẽ phát$/);
  assert.match(first, /^Thứ (Hai|Ba|Tư|Năm|Sáu), \d\d\/\d\d\/\d{4} lúc 06:30$/);
  await page.fill('#cron', '0 25 * * *');
  await page.waitForFunction(() => /hour/.test(document.querySelector('#cron-problem').textContent));
  await page.fill('#cron', '0 6,17 * * *');
  await page.waitForFunction(() => document.querySelectorAll('#preview li').length === 10
    && /17:00/.test(document.querySelector('#preview').textContent));
  await shot('programme-form');
  await page.click('#programme-form button[type=submit]');
  await page.waitForURL(base + '/programmes');
  assert.match(await page.textContent('main'), /Bản tin sáng/);
  await page.goto(base + '/schedule');
  assert.match(await page.textContent('.week'), /Bản tin sáng/);
  await shot('schedule');
});

test('the programme form warns before saving times that quiet hours would skip', async () => {
  await page.goto(base + '/programmes');
  await page.fill('#pr-name', 'Bản tin đêm');
  await page.selectOption('#pr-playlist', { label: 'Khẩu hiệu tháng 6' });
  await page.fill('#times', pad(quietHour) + ':15');
  await page.waitForFunction(() => document.querySelectorAll('#preview li.skip').length === 10);
  assert.match(await page.textContent('#preview li .verdict'),
    new RegExp('^sẽ bị bỏ qua: giờ yên tĩnh ' + pad(quietHour) + ':00-'));
  assert.ok(await page.isVisible('#rule-warning'), 'the warning shows before saving');
  await page.click('#programme-form button[type=submit]');
  assert.equal(new URL(page.url()).pathname, '/programmes');
  assert.equal(await page.textContent('#programme-form button[type=submit]'), 'Vẫn lưu');
  assert.doesNotMatch(await page.textContent('main table'), /Bản tin đêm/, 'not saved by the first press');
  await shots2('programme-warning');
  await Promise.all([page.waitForNavigation(), page.click('#programme-form button[type=submit]')]);
  assert.match(await page.textContent('main table'), /Bản tin đêm/, 'saved by the second press');
  // A time the rules allow saves at the first press.
  await page.fill('#pr-name', 'Bản tin trưa');
  await page.selectOption('#pr-playlist', { label: 'Khẩu hiệu tháng 6' });
  await page.fill('#times', pad((quietHour + 3) % 24) + ':00');
  await page.waitForFunction(() => document.querySelectorAll('#preview li').length === 10
    && !document.querySelector('#preview li.skip'));
  assert.ok(!(await page.isVisible('#rule-warning')));
  await Promise.all([page.waitForNavigation(), page.click('#programme-form button[type=submit]')]);
  assert.match(await page.textContent('main table'), /Bản tin trưa/);
});

test('the dashboard shows the broadcast on air with a moving progress bar', async () => {
  await page.goto(base + '/broadcast');
  await page.selectOption('#b-playlist', { label: 'Bản tin buổi chiều - Bảo vệ trẻ em' });
  await page.click('form[action="/broadcast/play"] button');
  await page.waitForURL(/sent=1/);
  await page.goto(base + '/');
  // The page reloads itself when the broadcast starts; then the script moves the bar.
  await page.waitForSelector('#oa-bar', { timeout: 20000 });
  await page.waitForFunction(() => Number(document.querySelector('#oa-bar').value) > 0);
  const first = Number(await page.getAttribute('#oa-bar', 'max'));
  assert.ok(first > 4000, 'the whole broadcast length is known: ' + first);
  assert.match(await page.textContent('#oa-title'), /Phát thủ công: Bản tin buổi chiều/);
  await page.waitForFunction(() => /^Bản tin [1-4]\/4: /.test(document.querySelector('#oa-clip').textContent));
  const v1 = await page.$eval('#oa-bar', (b) => b.value);
  await page.waitForFunction((v) => document.querySelector('#oa-bar').value > v, v1);
  assert.match(await page.textContent('#oa-time'), /^\d+:\d\d \/ \d+:\d\d$/);
  // Its log row is claimed but not finished: on air, not an alert.
  assert.doesNotMatch(await page.textContent('main'), /loa stopped before the broadcast finished/);
  assert.match(await page.textContent('main'), /đang phát/);
  await shots2('dashboard-on-air');
  const stop = await api('POST', '/api/broadcasts/stop');
  assert.equal(stop.status, 202);
  // The script notices the end and shows the page afresh.
  await page.waitForFunction(() => !document.querySelector('#oa-bar'), null, { timeout: 20000 });
});

test('the admin creates a user on the users page', async () => {
  await page.goto(base + '/');
  await page.click('nav a[href="/users"]');
  assert.match(await page.textContent('main'), /lan \(bạn\)/);
  await page.fill('#u-name', 'hoa');
  await page.selectOption('#u-role', 'viewer');
  await page.fill('#u-password', 'bản tin sáng');
  await Promise.all([page.waitForNavigation(), page.click('#new-user button[type=submit]')]);
  assert.match(await page.textContent('#users-note'), /Đã lưu/);
  assert.match(await page.textContent('[data-user="hoa"]'), /Chỉ xem/);
  await page.selectOption('#role-' + (await api('GET', '/api/users')).body.find((u) => u.name === 'hoa').id, 'editor');
  await Promise.all([page.waitForNavigation(), page.click('[data-user="hoa"] form[action$="/role"] button')]);
  assert.match(await page.textContent('[data-user="hoa"]'), /Biên tập/);
  await shots2('users');
});

test('play now reaches the broadcast log', async () => {
  await page.goto(base + '/broadcast');
  await page.selectOption('#b-playlist', { label: 'Khẩu hiệu tháng 6' });
  await page.click('form[action="/broadcast/play"] button');
  await page.waitForURL(/sent=1/);
  assert.match(await page.textContent('main'), /Đã gửi lệnh/);
  await shot('broadcast');
  let text = '';
  // The clips play in real time through the null output; wait for the finished row.
  for (let i = 0; i < 60 && !/đã phát/.test(text); i++) {
    await page.goto(base + '/log');
    text = await page.textContent('#log');
    if (!/đã phát/.test(text)) await new Promise((r) => setTimeout(r, 500));
  }
  assert.match(text, /đã phát.*tong-dai-111.*lan/s, 'the manual broadcast is in the log\n' + text + logs());
  await shot('log');
  await page.goto(base + '/campaigns');
  await shot('campaigns');
  await page.click('a[href^="/report/"]');
  assert.match(await page.textContent('main'), /Số lần phát/);
  await shot('report');
  await page.goto(base + '/?lang=en');
  assert.match(await page.textContent('main'), /Amplifier relay/);
  await shot('dashboard-en');
});

test('a degraded state shows on the dashboard as an alert with the fix', async () => {
  // A clip's file disappears from the card (the SD card was swapped, a restore was partial).
  const clips = (await api('GET', '/api/clips')).body;
  const media = path.join(dir, 'data', 'media');
  const victim = fs.readdirSync(media).find((f) => f.startsWith(clips[0].sha256));
  fs.rmSync(path.join(media, victim));
  // The database and media checks are shared between requests for a second at most.
  let health;
  for (const until = Date.now() + 5000; Date.now() < until; ) {
    health = await (await fetch(base + '/healthz')).json();
    if (health.checks.media.level === 'problem') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(health.checks.media.level, 'problem');
  await page.goto(base + '/?lang=vi');
  assert.match(await page.textContent('#health [data-check="media"]'), /Thiếu tệp âm thanh.*Cách khắc phục/s);
  await shots2('dashboard-alert');
});
