// Shared start-up of the browser tests: a real `loa serve` on a temporary data directory
// and a free port, Debian's chromium (headless, phone-sized) through playwright-core, the
// JSON API called from inside the logged-in page, and generated test tones.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
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

/**
 * Starts `loa serve` with a config in a new temporary directory: `[panel] listen` on a free
 * port, `[station] data_dir` inside it, then `extraToml` (lines before its first section
 * header belong to `[station]`). Resolves when /healthz answers. Returns
 * `{ dir, base, logs(), stop() }`; `stop()` ends the daemon and removes the directory.
 */
export async function startDaemon(extraToml = '') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-e2e-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = path.join(dir, 'loa.toml');
  fs.writeFileSync(config, [
    '[panel]', `listen = "127.0.0.1:${port}"`,
    '[station]', `data_dir = "${path.join(dir, 'data')}"`, extraToml, '',
  ].join('\n'));
  let logs = '';
  const daemon = spawn(binary, ['serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  daemon.stdout.on('data', (d) => { logs += d; });
  daemon.stderr.on('data', (d) => { logs += d; });
  for (let i = 0; ; i++) {
    try { const r = await fetch(base + '/healthz'); if (r.status === 200 || r.status === 503) break; } catch { /* not yet */ }
    if (i > 300) throw new Error('loa serve did not start:\n' + logs);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    dir,
    base,
    logs: () => logs,
    async stop() {
      daemon.kill('SIGTERM');
      await new Promise((r) => (daemon.exitCode === null ? daemon.once('exit', r) : r()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Debian's chromium, headless, with a fresh profile and a phone-sized (390x844) page.
 * Returns `{ browser, page }`; `browser.close()` ends it and removes the profile.
 */
export async function launchBrowser() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-chromium-'));
  // playwright passes the profile directory as --user-data-dir.
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 1,
  });
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close();
    // Chromium's last writes may still land: retry, and leave the directory rather than fail.
    try { fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10 }); } catch { /* a temp dir */ }
  };
  const page = browser.pages()[0] || await browser.newPage();
  return { browser, page };
}

/** The JSON API from inside the logged-in `page` (same cookie, CSRF header). */
export function api(page, method, url, body) {
  return page.evaluate(async ([method, url, body]) => {
    const csrf = document.querySelector('meta[name="csrf"]').content;
    const r = await fetch(url, { method, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: body === null ? undefined : JSON.stringify(body) });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, [method, url, body === undefined ? null : body]);
}
