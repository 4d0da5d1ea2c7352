// Journey J01 against a real `loa serve` listening on every address (0.0.0.0), as on a
// ward's network: nobody can log in before the first administrator exists (there is no
// default password), nobody off the box can create it — not from another address, not
// through a proxy, not with a page from another site whose name points at the box — and
// the person at the box does, in Vietnamese, on a phone-sized screen.
//
// journey: J01
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { startDaemon, launchBrowser, freePort, shot } from './support.mjs';

let daemon, browser, page;

/** The machine's first non-loopback IPv4 address, if it has one. */
const outside = Object.values(os.networkInterfaces()).flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

/** A raw HTTP request (node's fetch will not send a foreign Host header). */
function request(host, port, method, path, headers = {}, body = '') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path, headers: { 'Content-Length': Buffer.byteLength(body), ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
      });
    req.on('error', reject);
    req.end(body);
  });
}

const form = 'name=mallory&password=m%E1%BA%ADt+kh%E1%BA%A9u+d%C3%A0i&password2=m%E1%BA%ADt+kh%E1%BA%A9u+d%C3%A0i';
const formHeaders = { 'Content-Type': 'application/x-www-form-urlencoded' };

before(async () => {
  const port = await freePort();
  daemon = await startDaemon(`[panel]\nlisten = "0.0.0.0:${port}"`);
  ({ browser, page } = await launchBrowser());
  page.on('pageerror', (e) => { daemon.logs += '\npage error: ' + e.message; });
});

after(async () => {
  if (browser) await browser.close();
  if (daemon) {
    await daemon.stop();
    fs.rmSync(daemon.dir, { recursive: true, force: true });
  }
});

/** Whether the form to create the first administrator is still offered on the box. */
async function stillNoAdmin() {
  const r = await request('127.0.0.1', daemon.port, 'GET', '/setup', { Host: `127.0.0.1:${daemon.port}` });
  return r.status === 200 && r.text.includes('name="password2"');
}

test('J01: no default password: before the first administrator nobody can log in', async () => {
  for (const [name, password] of [['admin', 'admin'], ['loa', 'loa'], ['admin', 'password']]) {
    const body = `name=${name}&password=${password}`;
    const r = await request('127.0.0.1', daemon.port, 'POST', '/login', { ...formHeaders, Host: `127.0.0.1:${daemon.port}` }, body);
    assert.equal(r.status, 401, `${name}/${password}: ${r.text.slice(0, 200)}`);
    assert.match(r.text, /Sai tên đăng nhập hoặc mật khẩu/);
    assert.doesNotMatch(String(r.headers['set-cookie'] ?? ''), /loa_session=[^;]/, 'no session');
  }
  const r = await fetch(daemon.base + '/api/users', { headers: { Accept: 'application/json' } });
  assert.equal(r.status, 401, 'the API needs a login too');
});

test('J01: from another address on the network the box refuses, in Vietnamese', async () => {
  assert.ok(outside, 'this test needs a non-loopback IPv4 address on the machine (a box on a ward network has one)');
  const url = `http://${outside}:${daemon.port}`;
  await page.goto(url + '/');
  assert.equal(new URL(page.url()).pathname, '/setup', 'a fresh box sends everyone to the setup page');
  const main = await page.textContent('main');
  assert.match(main, /Chưa có tài khoản nào\. Hãy tạo tài khoản quản trị đầu tiên ngay trên máy/);
  assert.equal(await page.$('#password2'), null, 'no form off the box');
  await shot(page, 'j01-setup-from-network');
  const r = await request(outside, daemon.port, 'POST', '/setup', { ...formHeaders, Host: `${outside}:${daemon.port}` }, form);
  assert.equal(r.status, 403, r.text.slice(0, 300));
  // Even a request that claims, by its Host header, to be for 127.0.0.1.
  const lie = await request(outside, daemon.port, 'POST', '/setup', { ...formHeaders, Host: `127.0.0.1:${daemon.port}` }, form);
  assert.equal(lie.status, 403, lie.text.slice(0, 300));
  assert.ok(await stillNoAdmin(), 'nobody was created');
});

test('J01: through a proxy, or from a page of another site, the box refuses', async () => {
  const host = `127.0.0.1:${daemon.port}`;
  // A reverse proxy on the box connects from loopback for every visitor.
  for (const proxy of [{ 'X-Forwarded-For': '203.0.113.7' }, { Forwarded: 'for=203.0.113.7' }, { 'X-Real-IP': '203.0.113.7' }]) {
    const get = await request('127.0.0.1', daemon.port, 'GET', '/setup', { ...proxy, Host: host });
    assert.ok(get.text.includes('loa passwd') && !get.text.includes('password2'), JSON.stringify(proxy));
    const post = await request('127.0.0.1', daemon.port, 'POST', '/setup', { ...formHeaders, ...proxy, Host: host }, form);
    assert.equal(post.status, 403, JSON.stringify(proxy));
  }
  // A page on another site whose name was pointed at 127.0.0.1 (DNS rebinding): the box's
  // own browser connects from loopback, but the Host and Origin are the other site's.
  const evil = `evil.example:${daemon.port}`;
  const get = await request('127.0.0.1', daemon.port, 'GET', '/setup', { Host: evil });
  assert.ok(!get.text.includes('password2'), 'no form for a foreign Host');
  const rebind = await request('127.0.0.1', daemon.port, 'POST', '/setup',
    { ...formHeaders, Host: evil, Origin: `http://${evil}` }, form);
  assert.equal(rebind.status, 403, rebind.text.slice(0, 300));
  // A form on another site posting to the box's real address.
  const csrf = await request('127.0.0.1', daemon.port, 'POST', '/setup',
    { ...formHeaders, Host: host, Origin: 'http://evil.example' }, form);
  assert.equal(csrf.status, 403, csrf.text.slice(0, 300));
  assert.ok(await stillNoAdmin(), 'nobody was created');
});

test('J01: at the box, staff create the first administrator in Vietnamese', async () => {
  await page.goto(daemon.base + '/');
  assert.equal(new URL(page.url()).pathname, '/setup');
  assert.equal(await page.getAttribute('html', 'lang'), 'vi');
  assert.match(await page.textContent('h2'), /Tạo tài khoản quản trị đầu tiên/);
  await shot(page, 'j01-setup');
  // Two different passwords: said in Vietnamese.
  await page.fill('#name', 'lan');
  await page.fill('#password', 'mật khẩu dài');
  await page.fill('#password2', 'mật khẩu khác');
  await page.click('button[type=submit]');
  assert.match(await page.textContent('.alert'), /Hai mật khẩu không khớp/);
  await page.fill('#name', 'lan');
  await page.fill('#password', 'mật khẩu dài');
  await page.fill('#password2', 'mật khẩu dài');
  await Promise.all([page.waitForURL(daemon.base + '/'), page.click('button[type=submit]')]);
  assert.match(await page.textContent('header'), /lan \(Quản trị\)/);
  assert.match(await page.textContent('main'), /Rơ-le âm ly/);
  await shot(page, 'j01-dashboard');
  // There is one first administrator: the page is gone, for everyone.
  const again = await request('127.0.0.1', daemon.port, 'GET', '/setup', { Host: `127.0.0.1:${daemon.port}` });
  assert.equal(again.status, 303);
  assert.equal(again.headers.location, '/login');
  const late = await request('127.0.0.1', daemon.port, 'POST', '/setup', { ...formHeaders, Host: `127.0.0.1:${daemon.port}` }, form);
  assert.equal(late.status, 303, 'a second "first" administrator is not made');
  // The administrator logs in again with the password chosen, and only with it (four
  // failures from this address so far: the fifth would block it for fifteen minutes).
  const wrong = await request('127.0.0.1', daemon.port, 'POST', '/login', { ...formHeaders, Host: `127.0.0.1:${daemon.port}` },
    'name=mallory&password=m%E1%BA%ADt+kh%E1%BA%A9u+d%C3%A0i');
  assert.equal(wrong.status, 401, 'the refused requests made no account');
  const right = await request('127.0.0.1', daemon.port, 'POST', '/login', { ...formHeaders, Host: `127.0.0.1:${daemon.port}` },
    'name=lan&password=m%E1%BA%ADt+kh%E1%BA%A9u+d%C3%A0i');
  assert.equal(right.status, 303);
  assert.match(String(right.headers['set-cookie']), /loa_session=[^;]+;/);
});
