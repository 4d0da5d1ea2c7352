// loa panel behaviour: uploads with progress, renaming and deleting clips, playlist
// reordering (pointer events: mouse, pen and touch), the schedule helper, the week's date
// picker, confirmations. Served as a file (the CSP forbids inline script); pages work without it
// where they can (forms post normally).
'use strict';
(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const meta = (name) => { const m = $('meta[name="' + name + '"]'); return m ? m.content : ''; };
  const csrf = meta('csrf');
  const lang = document.documentElement.lang || 'vi';
  const T = (vi, en) => (lang === 'en' ? en : vi);

  function api(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then((r) => r.json().catch(() => ({})).then((j) => ({ status: r.status, body: j })));
  }

  // Forms that ask first (emergency broadcast, deletes).
  $$('form[data-confirm]').forEach((f) => {
    f.addEventListener('submit', (e) => {
      if (!window.confirm(f.dataset.confirm)) e.preventDefault();
    });
  });

  // ---- Library: several uploads, each with its own progress bar and outcome. ----
  const drop = $('#drop');
  if (drop) {
    const input = $('#files');
    const list = $('#uploads');
    drop.addEventListener('click', () => input.click());
    drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.click(); } });
    drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('over');
      Array.from(e.dataTransfer.files).forEach(upload);
    });
    input.addEventListener('change', () => { Array.from(input.files).forEach(upload); input.value = ''; });

    function upload(file) {
      const li = document.createElement('li');
      const name = document.createElement('div');
      name.textContent = file.name;
      const bar = document.createElement('progress');
      bar.max = 100; bar.value = 0;
      const status = document.createElement('div');
      status.className = 'muted';
      status.textContent = T('Đang tải lên…', 'Uploading…');
      li.append(name, bar, status);
      list.append(li);
      const form = new FormData();
      form.append('file', file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/clips');
      xhr.setRequestHeader('X-CSRF-Token', csrf);
      xhr.upload.addEventListener('progress', (e) => {
        if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
      });
      xhr.addEventListener('load', () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
        if (xhr.status === 201) {
          bar.value = 100;
          status.className = 'ok';
          status.textContent = '✓ ' + body.title + ' — ' + duration(body.duration_ms);
          addClipRow(body);
        } else {
          status.className = 'alert';
          const msg = body.error ? body.error.message : 'HTTP ' + xhr.status;
          status.textContent = T('Không nhận tệp: ', 'Refused: ') + msg;
        }
      });
      xhr.addEventListener('error', () => {
        status.className = 'alert';
        status.textContent = T('Mất kết nối khi tải lên', 'The connection broke during the upload');
      });
      xhr.send(form);
    }

    function addClipRow(clip) {
      const tbody = $('#clips tbody');
      if (!tbody || $('tr[data-clip="' + clip.id + '"]', tbody)) return;
      const tr = document.createElement('tr');
      tr.dataset.clip = clip.id;
      const td = document.createElement('td');
      const title = document.createElement('strong');
      title.textContent = clip.title;
      const info = document.createElement('span');
      info.className = 'muted';
      info.textContent = duration(clip.duration_ms) + ' · '
        + (lang === 'en' ? clip.loudness.integrated_lufs.toFixed(1) + ' LUFS · ' : '') + clip.original_name;
      title.className = 'title';
      const audio = document.createElement('audio');
      audio.controls = true; audio.preload = 'none'; audio.src = '/api/clips/' + clip.id + '/audio';
      const actions = document.createElement('div');
      actions.className = 'row-actions';
      actions.append(textButton(T('Đổi tên', 'Rename'), 'rename'), ' ', textButton(T('Xoá', 'Delete'), 'delete'));
      td.append(title, document.createElement('br'), info, document.createElement('br'), audio, actions);
      tr.append(td);
      tbody.prepend(tr);
      recount();
    }
  }

  function textButton(text, action) {
    const b = document.createElement('button');
    b.type = 'button'; b.className = 'secondary'; b.textContent = text; b.dataset.action = action;
    return b;
  }

  // ---- Library: rename and delete a clip; the count follows. ----
  const clipTable = $('#clips');
  function recount() {
    const count = $('#clip-count');
    if (count && clipTable) count.textContent = $$('tr[data-clip]', clipTable).length;
  }
  if (clipTable && clipTable.dataset.editor === 'true') {
    const note = $('#clip-note');
    let noteTimer = null;
    // A short note at the bottom of the screen: the row it is about may be gone.
    const tell = (kind, text) => {
      note.className = 'toast ' + kind;
      note.textContent = text;
      note.hidden = false;
      clearTimeout(noteTimer);
      noteTimer = setTimeout(() => { note.hidden = true; }, 8000);
    };
    const problem = (r) => (r.body.error ? r.body.error.message : 'HTTP ' + r.status);
    const rowNote = (tr, text) => {
      let p = $('.row-note', tr);
      if (!p) { p = document.createElement('p'); p.className = 'alert row-note'; p.setAttribute('role', 'alert'); $('td', tr).append(p); }
      p.textContent = text;
      p.hidden = !text;
    };
    clipTable.addEventListener('click', (e) => {
      const b = e.target.closest('button[data-action]');
      if (!b) return;
      const tr = b.closest('tr');
      const id = tr.dataset.clip;
      const title = $('strong.title', tr);
      if (b.dataset.action === 'delete') {
        if (!window.confirm(T('Xoá bản tin «' + title.textContent + '» khỏi thư viện?',
          'Delete the clip "' + title.textContent + '" from the library?'))) return;
        api('DELETE', '/api/clips/' + id).then((r) => {
          if (r.status === 204) {
            tr.remove();
            recount();
            tell('ok', T('Đã xoá «', 'Deleted "') + title.textContent + T('»', '"'));
          } else {
            rowNote(tr, problem(r));
          }
        });
      } else if (b.dataset.action === 'rename') {
        if ($('form.rename', tr)) return;
        const form = document.createElement('form');
        form.className = 'rename';
        const label = document.createElement('label');
        label.textContent = T('Tên mới', 'New title');
        const input = document.createElement('input');
        input.value = title.textContent; input.required = true; input.maxLength = 200;
        input.id = 'rename-' + id; label.htmlFor = input.id;
        const cancel = textButton(T('Huỷ', 'Cancel'), 'cancel-rename');
        const save = document.createElement('button');
        save.type = 'submit'; save.textContent = T('Lưu tên', 'Save title');
        form.append(label, input, ' ', save, ' ', cancel);
        title.after(form);
        title.hidden = true;
        input.focus();
        input.select();
        const close = () => { form.remove(); title.hidden = false; };
        cancel.addEventListener('click', close);
        form.addEventListener('submit', (ev) => {
          ev.preventDefault();
          if (!input.value.trim()) { rowNote(tr, T('Hãy nhập tên mới cho bản tin', 'Type the new title')); return; }
          api('PATCH', '/api/clips/' + id, { title: input.value }).then((r) => {
            if (r.status === 200) {
              title.textContent = r.body.title;
              close();
              rowNote(tr, '');
              tell('ok', T('Đã đổi tên thành «', 'Renamed to "') + r.body.title + T('»', '"'));
            } else {
              rowNote(tr, problem(r));
            }
          });
        });
      }
    });
  }

  function duration(ms) {
    const s = Math.round(ms / 1000);
    return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  }

  // ---- Playlist: drag and drop, up/down buttons, versioned saves. ----
  const order = $('#order');
  if (order) {
    const id = order.dataset.playlist;
    const titles = {};
    $$('#add-clip option').forEach((o) => { titles[o.value] = o.textContent; });
    $$('li', order).forEach((li) => { titles[li.dataset.clip] = $('span.t', li).textContent; });
    const stale = $('#stale');
    const empty = $('#empty-note');

    function render(items) {
      order.innerHTML = '';
      items.forEach((clip) => order.append(row(String(clip))));
      shown();
    }
    function shown() { if (empty) empty.hidden = order.children.length > 0; }
    function row(clip) {
      const li = document.createElement('li');
      li.dataset.clip = clip;
      const grip = document.createElement('span');
      grip.className = 'grip'; grip.setAttribute('aria-hidden', 'true'); grip.textContent = '⠿';
      const t = document.createElement('span');
      t.className = 't';
      t.textContent = titles[clip] || ('#' + clip);
      li.append(grip, t, button('↑', T('Lên', 'Up'), 'up'), button('↓', T('Xuống', 'Down'), 'down'), button('✕', T('Bỏ', 'Remove'), 'remove'));
      return li;
    }
    function button(text, label, action) {
      const b = document.createElement('button');
      b.type = 'button'; b.className = 'secondary'; b.textContent = text;
      b.setAttribute('aria-label', label); b.dataset.action = action;
      return b;
    }
    function items() { return $$('li', order).map((li) => Number(li.dataset.clip)); }
    function save() {
      shown();
      api('PUT', '/api/playlists/' + id + '/order', { version: Number(order.dataset.version), items: items() })
        .then((r) => {
          if (r.status === 200) {
            order.dataset.version = r.body.version;
            stale.hidden = true;
            $('#saved').textContent = T('Đã lưu (phiên bản ', 'Saved (version ') + r.body.version + ')';
          } else if (r.status === 409) {
            $('#saved').textContent = '';
            order.dataset.version = r.body.current.version;
            render(r.body.current.items);
            stale.hidden = false;
            stale.scrollIntoView({ block: 'center' });
          } else {
            $('#saved').textContent = r.body.error ? r.body.error.message : 'HTTP ' + r.status;
          }
        });
    }
    // Existing rows get their buttons from the server; wire every click here.
    order.addEventListener('click', (e) => {
      const b = e.target.closest('button[data-action]');
      if (!b) return;
      const li = b.closest('li');
      if (b.dataset.action === 'up' && li.previousElementSibling) li.parentNode.insertBefore(li, li.previousElementSibling);
      else if (b.dataset.action === 'down' && li.nextElementSibling) li.parentNode.insertBefore(li.nextElementSibling, li);
      else if (b.dataset.action === 'remove') li.remove();
      else return;
      save();
      const again = $('li[data-clip="' + li.dataset.clip + '"] button[data-action="' + b.dataset.action + '"]', order);
      if (again) again.focus();
    });
    // Dragging, one code path for mouse, pen and touch (pointer events). A finger drags by
    // the grip only (it has touch-action: none), so a swipe elsewhere still scrolls the
    // page; a mouse drags the whole row. The row follows the pointer; the order is saved
    // once, when the pointer lets go, and only if it changed.
    let drag = null;
    order.addEventListener('pointerdown', (e) => {
      const li = e.target.closest('li');
      if (!li || !$('.grip', li) || e.target.closest('button')) return;
      if (e.pointerType === 'mouse' ? e.button !== 0 : !e.target.closest('.grip')) return;
      e.preventDefault();
      drag = { li: li, pointer: e.pointerId, before: items().join() };
      li.setPointerCapture(e.pointerId);
      li.classList.add('dragging');
    });
    order.addEventListener('pointermove', (e) => {
      if (!drag || e.pointerId !== drag.pointer) return;
      e.preventDefault();
      const next = $$('li', order).find((x) => {
        if (x === drag.li) return false;
        const box = x.getBoundingClientRect();
        return e.clientY < box.top + box.height / 2;
      });
      if (next && drag.li.nextElementSibling !== next) order.insertBefore(drag.li, next);
      else if (!next && order.lastElementChild !== drag.li) order.append(drag.li);
      // Near the screen's edge the page scrolls, so a long list can be crossed on a phone.
      if (e.clientY < 48) window.scrollBy(0, -12);
      else if (e.clientY > window.innerHeight - 48) window.scrollBy(0, 12);
    });
    const letGo = (e) => {
      if (!drag || e.pointerId !== drag.pointer) return;
      drag.li.classList.remove('dragging');
      const changed = items().join() !== drag.before;
      drag = null;
      if (changed) save();
    };
    order.addEventListener('pointerup', letGo);
    order.addEventListener('pointercancel', letGo);
    const add = $('#add-form');
    if (add) {
      add.addEventListener('submit', (e) => {
        e.preventDefault();
        order.append(row($('#add-clip').value));
        save();
      });
    }
  }

  // ---- Programme schedule helper: presets, weekday picker, raw cron, live preview. ----
  const cron = $('#cron');
  if (cron) {
    const preview = $('#preview');
    const problem = $('#cron-problem');
    const times = $('#times');
    const preset = $('#preset');
    const days = () => $$('.weekdays input:checked').map((c) => Number(c.value));
    const dayNames = lang === 'en'
      ? ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']
      : ['Chủ nhật', 'Thứ Hai', 'Thứ Ba', 'Thứ Tư', 'Thứ Năm', 'Thứ Sáu', 'Thứ Bảy'];
    let timer = null;

    function compose() {
      const parts = times.value.split(',').map((s) => s.trim()).filter(Boolean);
      const parsed = parts.map((p) => /^(\d{1,2})[:h](\d{2})$/.exec(p));
      if (!parts.length || parsed.some((m) => !m)) {
        problem.textContent = T('Giờ phát viết dạng 06:00, 17:30', 'Write times like 06:00, 17:30');
        return;
      }
      const minutes = new Set(parsed.map((m) => Number(m[2])));
      if (minutes.size > 1) {
        problem.textContent = T('Các giờ phát trong một chương trình phải cùng số phút (ví dụ 06:00 và 17:00); hãy tạo thêm một chương trình cho giờ khác.',
          'All times of one programme must share the minute (e.g. 06:00 and 17:00); make a second programme for the other time.');
        return;
      }
      problem.textContent = '';
      const hours = parsed.map((m) => Number(m[1])).join(',');
      const d = days();
      const dow = d.length === 0 || d.length === 7 ? '*' : d.join(',');
      cron.value = [...minutes][0] + ' ' + hours + ' * * ' + dow;
      refresh();
    }

    function refresh() {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const expr = cron.value.trim();
        if (!expr) return;
        const priority = $('#pr-priority') ? $('#pr-priority').value : 'normal';
        // The campaign's dates bound the firings, as they will once the programme is saved.
        const campaign = $('#pr-campaign') ? $('#pr-campaign').value : '';
        fetch('/api/programmes/preview?count=10&priority=' + priority + '&campaign=' + campaign
          + '&expr=' + encodeURIComponent(expr),
          { credentials: 'same-origin' })
          .then((r) => r.json().then((j) => ({ status: r.status, body: j })))
          .then((r) => {
            preview.innerHTML = '';
            skipped = 0;
            if (r.status !== 200) {
              problem.textContent = (r.body.error && r.body.error.message) || 'HTTP ' + r.status;
              warn();
              return;
            }
            problem.textContent = '';
            r.body.times.forEach((t) => {
              const li = document.createElement('li');
              const when = document.createElement('span');
              when.className = 'when';
              when.textContent = say(t.at);
              const verdict = document.createElement('span');
              verdict.className = 'verdict ' + t.verdict;
              verdict.textContent = t.verdict === 'air' ? preview.dataset.air
                : (t.verdict === 'skip' ? preview.dataset.skip : preview.dataset.breaks) + ': ' + t.reason;
              li.append(when, ' ', verdict);
              if (t.verdict === 'skip') li.className = 'skip';
              preview.append(li);
            });
            if (!r.body.times.length) {
              const li = document.createElement('li');
              li.className = 'skip none';
              li.textContent = T('Không còn lần phát nào trong thời gian của chiến dịch',
                'No more firings within the campaign\'s dates');
              preview.append(li);
            }
            skipped = r.body.skipped;
            warn();
          });
      }, 250);
    }

    // Times the station rules would skip: a visible warning, and saving takes a second press.
    const form = $('#programme-form');
    const warning = $('#rule-warning');
    const save = form ? $('button[type=submit]', form) : null;
    const saveWord = save ? save.textContent : '';
    let skipped = 0;
    let confirmed = null;
    function warn() {
      if (!warning) return;
      warning.hidden = skipped === 0;
      if (confirmed !== cron.value.trim()) { confirmed = null; save.textContent = saveWord; }
    }
    if (form && warning) {
      form.addEventListener('submit', (e) => {
        const expr = cron.value.trim();
        if (skipped > 0 && confirmed !== expr) {
          e.preventDefault();
          confirmed = expr;
          warning.hidden = false;
          warning.classList.add('asked');
          save.textContent = warning.dataset.again;
          warning.scrollIntoView({ block: 'center' });
        }
      });
    }

    // "2026-06-01T06:00:00+07:00" → "Thứ Hai, 01/06/2026 lúc 06:00" (station time as written).
    function say(rfc) {
      const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(rfc);
      if (!m) return rfc;
      const dow = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])).getUTCDay();
      return dayNames[dow] + ', ' + m[3] + '/' + m[2] + '/' + m[1] + T(' lúc ', ' at ') + m[4] + ':' + m[5];
    }

    if (preset) {
      preset.addEventListener('change', () => {
        if (!preset.value) return;
        const [t, d] = preset.value.split('|');
        times.value = t;
        $$('.weekdays input').forEach((c) => { c.checked = d === '*' || d.split(',').includes(c.value); });
        compose();
      });
    }
    if ($('#pr-priority')) $('#pr-priority').addEventListener('change', refresh);
    if ($('#pr-campaign')) $('#pr-campaign').addEventListener('change', refresh);
    times.addEventListener('input', compose);
    $$('.weekdays input').forEach((c) => c.addEventListener('change', compose));
    cron.addEventListener('input', refresh);
    refresh();
  }

  // ---- Dashboard: what is on air, its clip and progress, kept fresh from /api/status. ----
  const air = $('#on-air');
  if (air) {
    let last = null;
    let at = 0;
    const paint = () => {
      const a = last && last.on_air;
      if (!a) return;
      const length = a.length_ms || 0;
      const elapsed = Math.min(length, (a.elapsed_ms || 0) + (performance.now() - at));
      const bar = $('#oa-bar');
      if (bar) { bar.max = length; bar.value = elapsed; }
      const time = $('#oa-time');
      if (time) time.textContent = duration(elapsed) + ' / ' + duration(length);
      const clip = $('#oa-clip');
      if (clip) {
        clip.textContent = a.clip === 0 ? air.dataset.chimeWord
          : air.dataset.clipWord + ' ' + a.clip + '/' + a.clips + ': ' + (a.clip_title || '');
      }
    };
    const poll = () => {
      if (document.hidden) return;
      fetch('/api/status', { credentials: 'same-origin' })
        .then((r) => (r.ok ? r.json() : null))
        .then((s) => {
          if (!s) return;
          const key = s.on_air ? Date.parse(s.on_air.scheduled_at) + '|' + s.on_air.playlist : '';
          // Another broadcast started or this one ended: the page shows it afresh.
          if (key !== air.dataset.key) { window.location.reload(); return; }
          last = s;
          at = performance.now();
          paint();
        })
        .catch(() => {});
    };
    poll();
    setInterval(poll, 2000);
    setInterval(paint, 250);
  }
})();
