// Journeys J03 and J04 against a real `loa serve`, in a phone-sized browser with a touch
// screen: several recordings uploaded at once as staff bring them (each with its progress,
// then its length or the reason in plain Vietnamese), clips renamed and deleted from the
// library page (a clip a playlist uses is not deleted, and the page says which playlists),
// then a playlist built and reordered by dragging with a finger and by the buttons, while
// someone else edits the same playlist on a PC.
//
// journey: J03
// journey: J04
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, launchBrowser, api, shot, setupAdmin, login, fixture } from './support.mjs';

let daemon, phone, page;

// What staff bring, under the names their phones and e-mails give them.
const files = {
  'ghi-am-dien-thoai.m4a': 'speech-48k-stereo.m4a', // a phone's voice recorder
  'tin-nhan-thoai-zalo.opus': 'speech-48k-mono.opus', // a voice note (Opus)
  'voice-note.webm': 'speech-48k-mono.webm', // a voice note from a browser messenger
  'ban-tin-quan.mp3': 'speech-44k-stereo.mp3', // the district's MP3
  'thong-bao-phuong.wav': 'speech-22k-mono-s16.wav', // a WAV from the ward's PC
  'ghi-am-bi-ngat.m4a': 'truncated-moov-last.m4a', // a recording cut short
  'anh-chup.mp3': 'random.mp3', // not audio at all
};
const accepted = ['ghi-am-dien-thoai', 'ban-tin-quan', 'thong-bao-phuong'];

before(async () => {
  daemon = await startDaemon();
  for (const [name, source] of Object.entries(files)) fs.copyFileSync(fixture(source), path.join(daemon.dir, name));
  ({ browser: phone, page } = await launchBrowser({ hasTouch: true, isMobile: true }));
  page.on('pageerror', (e) => { daemon.logs += '\npage error: ' + e.message; });
  page.on('dialog', (d) => d.accept());
  await setupAdmin(page, daemon.base);
});

after(async () => {
  if (phone) await phone.close();
  if (daemon) {
    await daemon.stop();
    fs.rmSync(daemon.dir, { recursive: true, force: true });
  }
});

const count = async () => Number(await page.textContent('#clip-count'));
const row = (title) => page.locator('#clips tr', { has: page.locator('strong.title', { hasText: title }) });

test('J03: several recordings at once, each with its progress, then its length or the reason in Vietnamese', async () => {
  await page.goto(daemon.base + '/library');
  const before = await count();
  assert.equal(before, (await api(page, 'GET', '/api/clips')).body.length);
  // A slow mobile connection, so the progress can be seen moving.
  const cdp = await phone.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions',
    { offline: false, latency: 50, downloadThroughput: 500 * 1024, uploadThroughput: 24 * 1024 });
  await page.setInputFiles('#files', Object.keys(files).map((f) => path.join(daemon.dir, f)));
  await page.waitForFunction((n) => document.querySelectorAll('#uploads li progress').length === n, Object.keys(files).length);
  await page.waitForFunction(() => Array.from(document.querySelectorAll('#uploads progress')).some((p) => p.value > 0 && p.value < 100),
    null, { timeout: 20000, polling: 50 });
  await shot(page, 'j03-uploading');
  await page.waitForFunction((n) => document.querySelectorAll('#uploads .ok, #uploads .alert').length === n,
    Object.keys(files).length, { timeout: 60000 });
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  const results = await page.$$eval('#uploads li', (lis) => lis.map((li) => ({
    name: li.firstChild.textContent, bar: li.querySelector('progress').value,
    ok: !!li.querySelector('.ok'), text: li.querySelector('.ok, .alert').textContent,
  })));
  const by = Object.fromEntries(results.map((r) => [r.name, r]));
  for (const name of accepted) {
    const r = by[Object.keys(files).find((f) => f.startsWith(name))];
    assert.ok(r.ok, `${name} accepted: ${r.text}\n${daemon.logs}`);
    assert.equal(r.bar, 100);
    assert.match(r.text, new RegExp(`^✓ ${name} — 0:0[12]$`), r.text);
  }
  const reason = (f) => by[f].text;
  assert.match(reason('tin-nhan-thoai-zalo.opus'), /^Không nhận tệp: tệp «tin-nhan-thoai-zalo\.opus» ghi bằng định dạng Opus .*tin nhắn thoại.*ghi âm lại bằng ứng dụng Ghi âm/);
  assert.match(reason('voice-note.webm'), /Không nhận tệp: tệp «voice-note\.webm» ghi bằng định dạng .*Opus/);
  assert.match(reason('ghi-am-bi-ngat.m4a'), /bị cắt cụt: âm thanh dừng ở 0:0\d .*hãy gửi lại tệp đầy đủ/);
  assert.match(reason('anh-chup.mp3'), /không phải tệp âm thanh mà loa đọc được/);
  for (const r of results.filter((r) => !r.ok)) {
    // Plain Vietnamese: no command line, no decoder or HTTP words.
    assert.doesNotMatch(r.text, /ffmpeg|`|codec|libmp3lame|HTTP|error|decode/i, r.text);
  }
  // The library's count follows without a reload, and agrees with the page after one.
  assert.equal(await count(), before + accepted.length);
  await shot(page, 'j03-uploaded');
  await page.reload();
  assert.equal(await count(), before + accepted.length);
  assert.equal(await page.locator('#clips tr').count(), before + accepted.length);
});

test('J03: a clip is renamed and deleted from the library page; one in a playlist is kept, with the reason', async () => {
  await page.goto(daemon.base + '/library');
  const before = await count();
  // Rename: an empty title is refused in Vietnamese; a real one is kept.
  await row('ghi-am-dien-thoai').locator('button[data-action="rename"]').tap();
  const input = row('ghi-am-dien-thoai').locator('form.rename input');
  await input.fill('   ');
  await row('ghi-am-dien-thoai').locator('form.rename button[type=submit]').tap();
  await page.waitForSelector('#clips .row-note:not([hidden])');
  assert.match(await page.textContent('#clips .row-note'), /Hãy nhập tên mới cho bản tin/);
  await input.fill('Thông báo tiêm chủng đợt 2');
  await shot(page, 'j03-rename');
  await row('ghi-am-dien-thoai').locator('form.rename button[type=submit]').tap();
  await row('Thông báo tiêm chủng đợt 2').waitFor();
  assert.match(await page.textContent('#clip-note'), /Đã đổi tên thành «Thông báo tiêm chủng đợt 2»/);
  await page.reload();
  assert.equal(await row('Thông báo tiêm chủng đợt 2').count(), 1, 'the new title is stored');
  assert.equal(await row('ghi-am-dien-thoai').count(), 0);

  // A clip that a playlist holds is not deleted; the page names the playlists.
  const clips = (await api(page, 'GET', '/api/clips')).body;
  const held = clips.find((c) => c.title === 'ban-tin-quan');
  for (const name of ['Bản tin sáng', 'Bản tin chiều']) {
    const r = await api(page, 'POST', '/api/playlists', { name, items: [held.id] });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  await row('ban-tin-quan').locator('button[data-action="delete"]').tap();
  await row('ban-tin-quan').locator('.row-note').waitFor();
  assert.match(await row('ban-tin-quan').locator('.row-note').textContent(),
    /^Không xoá được bản tin «ban-tin-quan» vì nó đang nằm trong danh sách phát «Bản tin sáng», «Bản tin chiều»\. Hãy bỏ bản tin khỏi các danh sách đó trước, rồi xoá lại$/);
  assert.equal(await count(), before, 'nothing was deleted');
  await shot(page, 'j03-delete-in-use');

  // A clip nobody uses goes, and the count follows.
  await row('thong-bao-phuong').locator('button[data-action="delete"]').tap();
  await page.waitForFunction(() => !Array.from(document.querySelectorAll('#clips strong.title')).some((t) => t.textContent === 'thong-bao-phuong'));
  assert.match(await page.textContent('#clip-note'), /Đã xoá «thong-bao-phuong»/);
  assert.equal(await count(), before - 1);
  await page.reload();
  assert.equal(await count(), before - 1);
  assert.ok(!(await api(page, 'GET', '/api/clips')).body.some((c) => c.title === 'thong-bao-phuong'));
  await shot(page, 'j03-library');
});

/** A finger's drag from the centre of `from` to a point `dy` pixels from the top of `to`,
 * as real touch input (CDP touch events, which the page sees as touch pointer events). */
async function fingerDrag(from, to, dy) {
  const a = await from.boundingBox();
  const b = await to.boundingBox();
  const cdp = await phone.newCDPSession(page);
  const x = a.x + a.width / 2, y0 = a.y + a.height / 2, y1 = b.y + dy;
  const touch = (type, y) => cdp.send('Input.dispatchTouchEvent',
    { type, touchPoints: type === 'touchEnd' ? [] : [{ x, y, id: 1, radiusX: 8, radiusY: 8, force: 1 }] });
  await touch('touchStart', y0);
  for (let i = 1; i <= 10; i++) {
    await touch('touchMove', y0 + ((y1 - y0) * i) / 10);
    await new Promise((r) => setTimeout(r, 16));
  }
  await touch('touchEnd', y1);
  await cdp.detach();
}

/** The playlist's clip titles as the server has them. */
async function storedTitles(id) {
  const clips = (await api(page, 'GET', '/api/clips')).body;
  const items = (await api(page, 'GET', `/api/playlists/${id}`)).body.items;
  return items.map((c) => clips.find((x) => x.id === c).title);
}
const titles = () => page.$$eval('#order li span.t', (s) => s.map((x) => x.textContent));
const savedVersion = (v) => page.waitForFunction((v) => document.querySelector('#saved').textContent.includes('(phiên bản ' + v + ')'), v);

test('J04: a playlist is built on a phone and reordered by touch drag and by buttons', async () => {
  await page.goto(daemon.base + '/playlists');
  await page.fill('#pname', 'Tuyên truyền tiêm chủng');
  await Promise.all([page.waitForURL(/\/playlists\/\d+$/), page.tap('form[action="/playlists"] button')]);
  assert.match(await page.textContent('#empty-note'), /Trống/);
  const picks = ['Thông báo tiêm chủng đợt 2', 'ban-tin-quan', 'Tổng đài 111 - Luôn lắng nghe và bảo vệ trẻ em'];
  for (const [i, title] of picks.entries()) {
    await page.selectOption('#add-clip', { label: title });
    await page.tap('#add-form button');
    await savedVersion(i + 2);
  }
  assert.ok(await page.isHidden('#empty-note'), 'no "empty" note over a list with clips');
  assert.deepEqual(await titles(), picks);
  await shot(page, 'j04-built');
  const id = page.url().split('/').pop();
  // The third clip dragged by its grip, with a finger, to the top.
  await fingerDrag(page.locator('#order li:nth-child(3) .grip'), page.locator('#order li:nth-child(1)'), 4);
  await savedVersion(5);
  const dragged = [picks[2], picks[0], picks[1]];
  assert.deepEqual(await titles(), dragged);
  assert.deepEqual(await storedTitles(id), dragged, 'the dragged order is stored');
  // And to the bottom.
  await fingerDrag(page.locator('#order li:nth-child(1) .grip'), page.locator('#order li:nth-child(3)'), 40);
  await savedVersion(6);
  assert.deepEqual(await titles(), [picks[0], picks[1], picks[2]]);
  // A swipe on a clip's title scrolls the page; it does not move the clip.
  await fingerDrag(page.locator('#order li:nth-child(1) span.t'), page.locator('#order li:nth-child(3)'), 40);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(await titles(), [picks[0], picks[1], picks[2]]);
  assert.match(await page.textContent('#saved'), /phiên bản 6\)/);
  // The buttons, by touch.
  await page.tap('#order li:nth-child(1) button[data-action="down"]');
  await savedVersion(7);
  assert.deepEqual(await titles(), [picks[1], picks[0], picks[2]]);
  await page.tap('#order li:nth-child(3) button[data-action="up"]');
  await savedVersion(8);
  assert.deepEqual(await titles(), [picks[1], picks[2], picks[0]]);
  assert.deepEqual(await storedTitles(id), [picks[1], picks[2], picks[0]]);
  await shot(page, 'j04-reordered');
});

test('J04: someone else edits the same playlist meanwhile: explained, and their change is not lost', async () => {
  const id = page.url().split('/').pop();
  const r = await api(page, 'POST', '/api/users', { name: 'hoa', role: 'editor', password: 'bản tin buổi sáng' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  // Hoa, at the ward's PC, removes a clip and moves another.
  const { browser: pc, page: hoa } = await launchBrowser({ viewport: { width: 1280, height: 800 } });
  try {
    await login(hoa, daemon.base, 'hoa', 'bản tin buổi sáng');
    await hoa.goto(`${daemon.base}/playlists/${id}`);
    await hoa.click('#order li:nth-child(1) button[data-action="remove"]');
    await hoa.waitForFunction(() => document.querySelector('#saved').textContent.includes('(phiên bản 9)'));
    const theirs = await hoa.$$eval('#order li span.t', (s) => s.map((x) => x.textContent));
    assert.equal(theirs.length, 2);
    // Lan, on the phone with the old order still on screen, moves a clip.
    assert.equal((await titles()).length, 3);
    await page.tap('#order li:nth-child(1) button[data-action="down"]');
    await page.waitForSelector('#stale:not([hidden])');
    assert.match(await page.textContent('#stale'),
      /^Danh sách này vừa được người khác thay đổi\. Thứ tự hiện tại đã được tải lại; hãy kiểm tra rồi sửa lại\.$/);
    assert.deepEqual(await titles(), theirs, 'the phone shows the current order');
    const stored = (await api(page, 'GET', `/api/playlists/${id}`)).body;
    assert.equal(stored.version, 9, 'the stale edit was not saved over hers');
    assert.equal(stored.items.length, 2);
    await shot(page, 'j04-stale');
    // Lan makes her change again, on the current order: it is saved.
    await page.tap('#order li:nth-child(1) button[data-action="down"]');
    await savedVersion(10);
    assert.ok(await page.isHidden('#stale'));
    assert.deepEqual(await titles(), [theirs[1], theirs[0]]);
  } finally {
    await pc.close();
  }
});
