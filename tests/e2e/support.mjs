// Shared start-up for the browser tests: a real `loa serve` on a temporary data directory
// and a free port, Debian's chromium (headless) driven by playwright-core, and small helpers
// (the JSON API from inside a logged-in page, a WAV tone, phone-sized screenshots). Each
// test file starts its own daemon, so the files are independent of one another.
//
// API: startDaemon(extraToml) → {base, dir, port, config, stop(), logs};
//      launchBrowser(opts) → {browser, page} (browser is the persistent context);
//      api(page, method, url, body) → {status, body}; freePort(); tone(file, freq, secs);
//      and a few more below (shot, setupAdmin, login, sql, fixture).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const shots = path.join(repo, 'target', 'e2e-screenshots');
const binary = process.env.LOA_BIN || path.join(repo, 'target', 'debug', 'loa');

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** A mono 16-bit 48 kHz WAV sine tone. */
export function tone(file, freq, seconds) {
  const rate = 48000, n = Math.round(rate * seconds);
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + n * 2, 4); buf.write('WAVE', 8);
  buf.write('fmt ', 12); buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24); buf.writeUInt32LE(rate * 2, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34);
  buf.write('data', 36); buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(Math.sin((2 * Math.PI * freq * i) / rate) * 8000), 44 + i * 2);
  fs.writeFileSync(file, buf);
}

/** The path of a committed audio fixture (tests/fixtures). */
export const fixture = (name) => path.join(repo, 'tests', 'fixtures', name);

const pad = (n) => String(n).padStart(2, '0');
/** A quiet hour twelve hours from now in the station's zone (Asia/Ho_Chi_Minh, UTC+7, no
 * DST), so the rule never blocks what the tests play now. */
export const quietHour = (new Date().getUTCHours() + 7 + 12) % 24;

/** TOML text → [[section, [[key, line], …]], …] (top-level keys under section ''). */
function sections(text) {
  const out = [['', []]];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const head = /^\[([^\]]+)\]$/.exec(line);
    if (head) { out.push([head[1], []]); continue; }
    out[out.length - 1][1].push([line.split('=')[0].trim(), line]);
  }
  return out;
}

/** `extra`'s keys replace or join the base config's, section by section. */
function merge(base, extra) {
  const merged = sections(base);
  for (const [name, keys] of sections(extra)) {
    let target = merged.find(([n]) => n === name);
    if (!target) { target = [name, []]; merged.push(target); }
    for (const [key, line] of keys) {
      const i = target[1].findIndex(([k]) => k === key);
      if (i >= 0) target[1][i] = [key, line]; else target[1].push([key, line]);
    }
  }
  return merged.map(([n, keys]) => (n ? `[${n}]\n` : '') + keys.map(([, l]) => l).join('\n')).join('\n') + '\n';
}

/**
 * Starts `loa serve` on a fresh data directory (the demo station seeded, null output, no
 * hours rules but a quiet hour twelve hours away). `extraToml` adds or replaces keys, by
 * section (e.g. `[panel]\nlisten = "0.0.0.0:PORT"`). Resolves once /healthz answers.
 */
export async function startDaemon(extraToml = '') {
  fs.mkdirSync(shots, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-e2e-'));
  const port = await freePort();
  const text = merge([
    '[station]', `data_dir = "${path.join(dir, 'data')}"`, 'seed_demo = true',
    '[audio]', 'output = "null"', `chime = "${path.join(repo, 'media', 'chime.wav')}"`,
    '[schedule]', 'earliest = "00:00"', 'latest = "23:59"', 'require_clock_sync = false',
    `quiet_hours = ["${pad(quietHour)}:00-${pad((quietHour + 1) % 24)}:00"]`,
    '[panel]', `listen = "127.0.0.1:${port}"`, '',
  ].join('\n'), extraToml);
  const config = path.join(dir, 'loa.toml');
  fs.writeFileSync(config, text);
  const listen = /listen = "([^"]+)"/.exec(text)[1];
  const listenPort = Number(listen.slice(listen.lastIndexOf(':') + 1));
  const base = `http://127.0.0.1:${listenPort}`;
  const d = { base, dir, port: listenPort, config, logs: '' };
  const child = spawn(binary, ['serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (b) => { d.logs += b; });
  child.stderr.on('data', (b) => { d.logs += b; });
  let exited = false;
  child.on('exit', () => { exited = true; });
  d.stop = () => new Promise((resolve) => {
    if (exited) { resolve(); return; }
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  for (let i = 0; ; i++) {
    try { const r = await fetch(base + '/healthz'); if (r.status === 200 || r.status === 503) break; } catch { /* not yet */ }
    if (i > 300 || exited) throw new Error('loa serve did not start:\n' + d.logs);
    await new Promise((r) => setTimeout(r, 100));
  }
  return d;
}

/**
 * Debian's chromium, headless, with a fresh profile: a Vietnamese phone (390x844, vi-VN,
 * Asia/Ho_Chi_Minh) unless `opts` says otherwise (`viewport`, `hasTouch`, `isMobile`, …
 * are passed to playwright).
 */
export async function launchBrowser(opts = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-e2e-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--lang=vi-VN'],
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 1,
    locale: 'vi-VN', // as on the staff's phones: dates in date fields read dd/mm/yyyy
    timezoneId: 'Asia/Ho_Chi_Minh',
    ...opts,
  });
  const close = browser.close.bind(browser);
  browser.close = async () => { await close(); fs.rmSync(profile, { recursive: true, force: true }); };
  const page = browser.pages()[0] || await browser.newPage();
  return { browser, page };
}

/** The JSON API from inside the logged-in page (same cookie, CSRF header). */
export function api(page, method, url, body) {
  return page.evaluate(async ([method, url, body]) => {
    const csrf = document.querySelector('meta[name="csrf"]').content;
    const r = await fetch(url, { method, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: body === null ? undefined : JSON.stringify(body) });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, [method, url, body === undefined ? null : body]);
}

/** A full-page screenshot to target/e2e-screenshots/NAME.png. */
export async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });
}

/** Creates the first administrator from the box's own browser and stays logged in. */
export async function setupAdmin(page, base, name = 'lan', password = 'mật khẩu dài') {
  await page.goto(base + '/setup');
  await page.fill('#name', name);
  await page.fill('#password', password);
  await page.fill('#password2', password);
  await Promise.all([page.waitForURL(base + '/'), page.click('button[type=submit]')]);
}

/** Logs in on the login page. */
export async function login(page, base, name, password) {
  await page.goto(base + '/login');
  await page.fill('#name', name);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(base + '/'), page.click('button[type=submit]')]);
}

/** Runs SQL on the station's database with the sqlite3 shell (for seeding the past). */
export function sql(dir, statements) {
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', path.join(dir, 'data', 'loa.db'), statements],
    { encoding: 'utf8' });
}
