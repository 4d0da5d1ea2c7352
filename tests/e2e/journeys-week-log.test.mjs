// Journeys J09 and J11 against a real `loa serve`, on a phone-sized screen: the week
// calendar at dates chosen directly (a week weeks ahead: what will air, what will be
// skipped and by which rule; a week weeks ago: what the log says aired, was missed or
// failed, and why; today: a real broadcast), and the broadcast log filtered by date,
// campaign and outcome, with outcomes, reasons and the CSV in Vietnamese. The past is
// seeded into the station's database (the sqlite3 shell) as the engine would have logged
// it; today's broadcast is a real one.
//
// journey: J09
// journey: J11
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startDaemon, launchBrowser, api, shot, setupAdmin, sql, quietHour } from './support.mjs';

let daemon, browser, page, programmes, past;
const pad = (n) => String(n).padStart(2, '0');
const HCM = 7 * 3600 * 1000; // the station's zone: Asia/Ho_Chi_Minh, UTC+7, no DST

/** The station's local date `days` from today, as YYYY-MM-DD. */
function localDate(days) {
  const d = new Date(Date.now() + HCM + days * 86400000);
  return d.toISOString().slice(0, 10);
}
/** The Monday of the week holding the local date `ymd`. */
function monday(ymd) {
  const d = new Date(ymd + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.toISOString().slice(0, 10);
}
const plusDays = (ymd, n) => new Date(Date.parse(ymd + 'T00:00:00Z') + n * 86400000).toISOString().slice(0, 10);
/** Epoch milliseconds of local `ymd` at `hh:mm` in the station's zone. */
const at = (ymd, hhmm) => Date.parse(`${ymd}T${hhmm}:00+07:00`);
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const dmy = (ymd) => ymd.slice(8, 10) + '/' + ymd.slice(5, 7);

// English the engine writes, which must not reach the Vietnamese pages.
const english = /\b(played|missed|failed|skipped|interrupted|partial|box down|min late|output|quiet hours|after latest|stopped by|session limit|scheduled|manual)\b/;

before(async () => {
  daemon = await startDaemon();
  ({ browser, page } = await launchBrowser());
  page.on('pageerror', (e) => { daemon.logs += '\npage error: ' + e.message; });
  await setupAdmin(page, daemon.base);
  programmes = (await api(page, 'GET', '/api/programmes')).body;
  // A programme every day at a quarter past the quiet hour: every occurrence is skipped.
  const playlist = (await api(page, 'GET', '/api/playlists')).body[0].id;
  const r = await api(page, 'POST', '/api/programmes',
    { name: 'Bản tin đêm', cron: `15 ${quietHour} * * *`, playlist });
  assert.equal(r.status, 201, JSON.stringify(r.body));

  // The past: a week about two months ago, as the engine logged it.
  const mon = monday(localDate(-60));
  const campaign = programmes.find((p) => p.campaign !== null && p.campaign !== undefined);
  const plain = programmes.find((p) => p.name === 'Phát thanh thường xuyên - Tổng đài 111');
  const clip = (await api(page, 'GET', '/api/clips')).body[0];
  const clips = JSON.stringify([{ clip: clip.id, title: clip.title, sha256: clip.sha256, gain_db: -3.5 }]).replaceAll("'", "''");
  const row = (origin, who, ymd, hhmm, outcome, detail, { secs = 0, rule = null, priority = 'normal' } = {}) => {
    const s = at(ymd, hhmm);
    const played = secs > 0;
    return `INSERT INTO broadcast_log (origin, programme, requested_by, priority, scheduled_at, started_at, ended_at,
      outcome, detail, rule_broken, clips) VALUES ('${origin}', ${origin === 'scheduled' ? who : 'NULL'},
      ${origin === 'manual' ? `'${who}'` : 'NULL'}, '${priority}', ${s}, ${played ? s + 2000 : 'NULL'},
      ${played ? s + 2000 + secs * 1000 : 'NULL'}, '${outcome}', '${detail}', ${rule ? `'${rule}'` : 'NULL'},
      '${played ? clips : '[]'}');`;
  };
  const tue = plusDays(mon, 1), wed = plusDays(mon, 2), thu = plusDays(mon, 3);
  sql(daemon.dir, [
    row('scheduled', campaign.id, mon, '06:00', 'played', '', { secs: 95 }),
    row('scheduled', plain.id, mon, '06:30', 'missed', 'box down or clock wrong (45 min late)'),
    row('scheduled', plain.id, mon, '17:30', 'failed', 'output unavailable: ALSA: no such device hw:1,0'),
    row('scheduled', campaign.id, tue, '06:00', 'skipped', 'after latest broadcast time 21:00'),
    row('scheduled', plain.id, tue, '06:30', 'partial', 'session limit of 30 min reached', { secs: 1800 }),
    row('manual', 'lan', wed, '22:10', 'played', '', { secs: 40, rule: 'quiet hours 21:00-05:00', priority: 'emergency' }),
    row('scheduled', plain.id, thu, '06:30', 'interrupted', 'stopped by lan', { secs: 12 }),
  ].join('\n'));
  past = { mon, tue, wed, thu, campaign, plain };
});

after(async () => {
  if (browser) await browser.close();
  if (daemon) {
    await daemon.stop();
    fs.rmSync(daemon.dir, { recursive: true, force: true });
  }
});

/** Chooses a date in the week page's date field and shows its week. */
async function chooseWeek(ymd) {
  await page.fill('#week-date', ymd);
  await Promise.all([page.waitForURL(/\/schedule\?week=/), page.click('.week-nav button[type=submit]')]);
}
const dayText = (ymd) => page.textContent(`section.day[data-date="${ymd}"]`);

test('J09: a week weeks ahead, chosen directly: what will air, and what will be skipped and why', async () => {
  await page.goto(daemon.base + '/schedule');
  const ahead = localDate(45);
  await chooseWeek(ahead);
  const mon = monday(ahead);
  assert.match(await page.textContent('main h2'), new RegExp(`^Tuần ${dmy(mon)}/\\d{4} – ${dmy(plusDays(mon, 6))}/\\d{4}$`));
  assert.equal(await page.inputValue('#week-date'), ahead, 'the chosen date stays in the field');
  for (let i = 0; i < 7; i++) {
    const day = plusDays(mon, i);
    const text = await dayText(day);
    const sunday = i === 6;
    // Mon–Sat at 06:30 and 17:30; not on Sundays.
    assert.equal(/06:30 Phát thanh thường xuyên - Tổng đài 111/.test(text), !sunday, `${day}: ${text}`);
    assert.equal(/17:30 Phát thanh thường xuyên - Tổng đài 111/.test(text), !sunday, `${day}: ${text}`);
    assert.match(text, new RegExp(`${pad(quietHour)}:15 Bản tin đêm\\s*sẽ bị bỏ qua: giờ yên tĩnh ${pad(quietHour)}:00-`), text);
  }
  assert.equal(await page.locator('.occ.skip').count(), 7);
  assert.doesNotMatch(await page.textContent('main'), english);
  await shot(page, 'j09-week-ahead');
  // Next and previous week move from the chosen date.
  await Promise.all([page.waitForURL(/week=/), page.click('text=Tuần sau →')]);
  assert.match(await page.textContent('main h2'), new RegExp(`^Tuần ${dmy(plusDays(mon, 7))}/`));
});

test('J09: a week weeks ago shows what the log says: aired, missed, failed, and why', async () => {
  await page.goto(daemon.base + '/schedule');
  await chooseWeek(past.wed);
  const mon = await dayText(past.mon);
  assert.match(mon, new RegExp(`06:00 ${escape(past.campaign.name)}\\s*đã phát`));
  assert.match(mon, /06:30 Phát thanh thường xuyên - Tổng đài 111\s*bị lỡ: máy tắt hoặc đồng hồ sai vào giờ phát \(trễ 45 phút\)/);
  assert.match(mon, /17:30 Phát thanh thường xuyên - Tổng đài 111\s*lỗi: không mở được thiết bị âm thanh \(card âm thanh\)/);
  assert.match(mon, /Chi tiết cho kỹ thuật viên/, 'the device error is kept for the technician');
  const tue = await dayText(past.tue);
  assert.match(tue, /bỏ qua: sau giờ phát muộn nhất 21:00/);
  assert.match(tue, /phát một phần: đã đến giới hạn 30 phút cho một lượt phát/);
  const wed = await dayText(past.wed);
  assert.match(wed, /22:10 Phát thủ công: lan\s*đã phát\s*phát dù vi phạm: giờ yên tĩnh 21:00-05:00/);
  assert.match(await dayText(past.thu), /bị ngắt: lan đã bấm dừng phát/);
  // The plan is not shown for the past: only what happened.
  assert.match(await dayText(plusDays(past.mon, 4)), /^\s*T6 \d\d\/\d\d\s*Không có lượt phát\s*$/);
  const main = await page.locator('main').evaluate((m) => {
    const c = m.cloneNode(true);
    c.querySelectorAll('details').forEach((d) => d.remove());
    return c.textContent;
  });
  assert.doesNotMatch(main, english, 'no English outside the technician\'s detail');
  assert.equal(await page.locator('.occ.skip, .occ.breaks').count(), 0, 'no plan verdicts in the past');
  await shot(page, 'j09-week-past');
});

test('J09: today, a real broadcast shows as aired in the calendar', async () => {
  const playlist = (await api(page, 'POST', '/api/playlists', { name: 'Phát ngay', items: [(await api(page, 'GET', '/api/clips')).body[0].id] })).body;
  const r = await api(page, 'POST', '/api/broadcasts', { playlist: playlist.id });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const today = localDate(0);
  let text = '';
  for (let i = 0; i < 60 && !/Phát thủ công: lan\s*đã phát/.test(text); i++) {
    await page.goto(daemon.base + '/schedule');
    text = await dayText(today);
    if (!/Phát thủ công: lan\s*đã phát/.test(text)) await new Promise((res) => setTimeout(res, 500));
  }
  assert.match(text, /Phát thủ công: lan\s*đã phát/, text + daemon.logs);
  assert.ok(await page.locator(`section.day.today[data-date="${today}"]`).count() === 1);
});

test('J11: the log filtered by date, campaign and outcome, in Vietnamese', async () => {
  const from = past.mon, to = localDate(0);
  await page.goto(`${daemon.base}/log`);
  await page.fill('#l-from', from);
  await page.fill('#l-to', to);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/log"] button[type=submit]')]);
  // The seven rows of the past week and today's broadcast (and anything the engine logged
  // meanwhile): the page shows what the API does.
  const expected = (await api(page, 'GET',
    `/api/log?from=${from}T00:00:00%2B07:00&to=${plusDays(to, 1)}T00:00:00%2B07:00`)).body.length;
  assert.ok(expected >= 8, String(expected));
  assert.equal(await page.locator('#log tbody tr').count(), expected, await page.textContent('#log'));
  past.expected = expected;
  const log = await page.textContent('#log');
  assert.match(log, /bị lỡ: máy tắt hoặc đồng hồ sai vào giờ phát \(trễ 45 phút\)/);
  assert.match(log, /bỏ qua: sau giờ phát muộn nhất 21:00/);
  assert.match(log, /đã phát\s*phát dù vi phạm: giờ yên tĩnh 21:00-05:00/);
  assert.match(log, /Phát thanh thường xuyên - Tổng đài 111/, 'scheduled rows name their programme');
  const outcomes = await page.$$eval('#l-outcome option', (o) => o.map((x) => x.textContent));
  assert.deepEqual(outcomes, ['Tất cả', 'đã phát', 'phát một phần', 'bị ngắt', 'bỏ qua', 'bị lỡ', 'lỗi']);
  const visible = await page.locator('main').evaluate((m) => {
    const c = m.cloneNode(true);
    c.querySelectorAll('details, option[value=""]').forEach((d) => d.remove());
    return c.textContent;
  });
  assert.doesNotMatch(visible, english);
  await shot(page, 'j11-log');
  // By outcome.
  await page.selectOption('#l-outcome', { label: 'bị lỡ' });
  await Promise.all([page.waitForNavigation(), page.click('form[action="/log"] button[type=submit]')]);
  assert.equal(await page.locator('#log tbody tr').count(), 1);
  assert.equal(await page.getAttribute('#log tbody tr', 'data-outcome'), 'missed');
  assert.equal(await page.inputValue('#l-from'), from, 'the filter keeps its values');
  // By campaign.
  await page.selectOption('#l-outcome', { label: 'Tất cả' });
  await page.selectOption('#l-campaign', String(past.campaign.campaign));
  await Promise.all([page.waitForNavigation(), page.click('form[action="/log"] button[type=submit]')]);
  const rows = await page.$$eval('#log tbody tr', (t) => t.map((r) => r.textContent));
  assert.equal(rows.length, 2, rows.join('\n'));
  assert.ok(rows.every((r) => r.includes(past.campaign.name)), rows.join('\n'));
  // Dates the wrong way round: said in Vietnamese, swapped, never an error page.
  await page.selectOption('#l-campaign', '');
  await page.fill('#l-from', to);
  await page.fill('#l-to', from);
  const [resp] = await Promise.all([page.waitForNavigation(), page.click('form[action="/log"] button[type=submit]')]);
  assert.equal(resp.status(), 200);
  assert.match(resp.headers()['content-type'], /text\/html/);
  assert.match(await page.textContent('main .warn'), /Ngày «Từ» đứng sau ngày «Đến»; đã đổi chỗ hai ngày/);
  assert.equal(await page.inputValue('#l-from'), from);
  assert.equal(await page.locator('#log tbody tr').count(), past.expected);
  await shot(page, 'j11-log-swapped');
});

test('J11: the CSV is in Vietnamese; the English one keeps the stable codes', async () => {
  const href = await page.getAttribute('a[href^="/api/log.csv"]', 'href');
  // The bytes, so the BOM a spreadsheet needs to read UTF-8 can be checked too.
  const bytes = Buffer.from(await page.evaluate(async (u) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer())), href));
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 with a BOM');
  const csv = bytes.subarray(3).toString('utf8');
  const lines = csv.trim().split(/\r\n/);
  assert.equal(lines[0], 'Mã,Giờ dự kiến,Bắt đầu,Kết thúc,Nguồn,Chương trình,Người yêu cầu,Mức ưu tiên,Kết quả,Lý do,Vi phạm quy định,Bản tin');
  assert.equal(lines.length, 1 + past.expected, csv);
  const missed = lines.find((l) => l.includes('bị lỡ'));
  assert.match(missed, new RegExp(`^\\d+,${past.mon.slice(8, 10)}/${past.mon.slice(5, 7)}/${past.mon.slice(0, 4)} 06:30:00,,,theo lịch,Phát thanh thường xuyên - Tổng đài 111,,Bình thường,bị lỡ,máy tắt hoặc đồng hồ sai vào giờ phát \\(trễ 45 phút\\),,$`), missed);
  assert.match(csv, /phát thủ công,,lan,Khẩn cấp,đã phát,,giờ yên tĩnh 21:00-05:00,/);
  const failed = 'lỗi,"không mở được thiết bị âm thanh (card âm thanh) (ALSA: no such device hw:1,0)"';
  assert.ok(csv.includes(failed), csv);
  assert.doesNotMatch(csv.replace(failed, ''), english);
  const en = await page.evaluate(async (u) => (await fetch(u)).text(), href.replace('lang=vi', 'lang=en'));
  assert.match(en, /^id,scheduled_at,started_at,ended_at,origin,programme,requested_by,priority,outcome,detail,rule_broken,clips\r\n/);
  assert.match(en, /,missed,box down or clock wrong \(45 min late\),/);
});
