// assetkit review: keyboard-first gallery and full-size view. Plain JS, no build step, no network
// beyond the review server itself. Focus time per asset/master is measured here and sent with
// every decision (time the item was selected while the page was visible and focused).
(function () {
  "use strict";
  const body = document.body;
  const TOKEN = body.dataset.token || "";
  const STATIC = body.dataset.static === "1";
  const PAGE = body.dataset.page;
  const $ = (s, el) => (el || document).querySelector(s);
  const $$ = (s, el) => Array.from((el || document).querySelectorAll(s));
  const q = (path) => path + (path.includes("?") ? "&" : "?") + "t=" + encodeURIComponent(TOKEN);

  // ---- messages ------------------------------------------------------------------------------
  let msgTimer = null;
  function show(text, error) {
    const m = $("#msg");
    if (!m) return;
    m.textContent = text;
    m.className = error ? "error" : "";
    m.style.display = "block";
    clearTimeout(msgTimer);
    msgTimer = setTimeout(() => { m.style.display = "none"; }, error ? 9000 : 2500);
  }

  // ---- focus time ----------------------------------------------------------------------------
  const KEY = "assetkit-focus-" + (body.dataset.campaign || "");
  let spent = {};
  try { spent = JSON.parse(sessionStorage.getItem(KEY) || "{}"); } catch (e) { spent = {}; }
  let cur = null, since = null;
  const active = () => document.visibilityState === "visible" && document.hasFocus();
  function addTime(el, ms) {
    if (!el || ms <= 0) return;
    spent[el.dataset.id] = (spent[el.dataset.id] || 0) + ms;
    if (el.dataset.kind === "asset" && el.dataset.master) {
      spent[el.dataset.master] = (spent[el.dataset.master] || 0) + ms;
    }
  }
  function flush() {
    const now = performance.now();
    if (cur && since !== null) addTime(cur, now - since);
    since = active() ? now : null;
  }
  function save() { flush(); try { sessionStorage.setItem(KEY, JSON.stringify(spent)); } catch (e) { /* private mode */ } }
  window.addEventListener("focus", flush);
  window.addEventListener("blur", flush);
  document.addEventListener("visibilitychange", flush);
  window.addEventListener("pagehide", save);
  function takeTime(scope, id, masterEl) {
    flush();
    let ms = Math.round(spent[id] || 0);
    spent[id] = 0;
    if (scope === "asset") {
      const m = masterEl && masterEl.dataset.id;
      if (m) spent[m] = Math.max(0, (spent[m] || 0) - ms);
    } else {
      for (const aid of Object.keys(JSON.parse(masterEl.dataset.assets || "{}"))) spent[aid] = 0;
    }
    return ms;
  }

  // ---- selection and navigation ---------------------------------------------------------------
  const visible = (el) => el.offsetParent !== null;
  const items = () => $$("[data-nav]").filter(visible);
  function select(el, scroll) {
    if (!el) return;
    flush();
    if (cur) cur.classList.remove("selected");
    cur = el;
    el.classList.add("selected");
    if (scroll !== false) el.scrollIntoView({ block: "nearest", inline: "nearest" });
    since = active() ? performance.now() : null;
    if (PAGE === "gallery") history.replaceState(null, "", "#" + el.dataset.id);
  }
  function step(delta) {
    const list = items();
    const i = list.indexOf(cur);
    select(list[Math.max(0, Math.min(list.length - 1, (i < 0 ? 0 : i + delta)))]);
  }
  function vertical(dir) {
    if (!cur) return step(0);
    const r = cur.getBoundingClientRect();
    const cx = r.left + r.width / 2;
    let best = null, bestScore = Infinity;
    for (const el of items()) {
      if (el === cur) continue;
      const b = el.getBoundingClientRect();
      const dy = dir > 0 ? b.top - r.bottom + 1 : r.top - b.bottom + 1;
      if (dy <= 0) continue;
      const score = dy * 4 + Math.abs(b.left + b.width / 2 - cx);
      if (score < bestScore) { best = el; bestScore = score; }
    }
    if (best) select(best);
  }
  const masterOf = (el) => {
    if (!el) return null;
    if (el.dataset.kind === "master") return el;
    return document.getElementById(el.dataset.master) || $("#master-info");
  };

  // ---- decisions ------------------------------------------------------------------------------
  async function decide(scope, action, comment) {
    if (STATIC || !cur) return;
    const target = scope === "master" ? masterOf(cur) : cur;
    if (!target || (scope === "asset" && target.dataset.kind !== "asset")) return;
    const masterEl = masterOf(cur);
    const id = target.dataset.id;
    const req = { scope: scope, id: id, action: action, reviewer: reviewerName(), focus_ms: takeTime(scope, id, masterEl) };
    if (comment) req.comment = comment;
    if (scope === "asset") req.sha256 = target.dataset.sha;
    else req.assets = JSON.parse(masterEl.dataset.assets);
    let res, data;
    try {
      res = await fetch(q("/api/decisions"), { method: "POST", headers: { "Content-Type": "application/json", "X-Assetkit-Token": TOKEN }, body: JSON.stringify(req) });
      data = await res.json();
    } catch (e) {
      spent[id] = (spent[id] || 0) + req.focus_ms;
      return show("The review server did not answer; nothing was recorded (" + e + ")", true);
    }
    if (!res.ok) {
      spent[id] = (spent[id] || 0) + req.focus_ms;
      return show(data.error || ("refused: HTTP " + res.status), true);
    }
    const verb = { approve: "approved", reject: "rejected", change: "change requested" }[action];
    show((target.dataset.label || id) + ": " + verb + (scope === "master" ? " (" + Object.keys(req.assets).length + " assets)" : ""));
    applyStates(data.states);
    refresh();
  }
  function reviewerName() {
    const inp = $("#reviewer");
    return (inp && inp.value.trim()) || body.dataset.reviewer;
  }
  const LABELS = { approved: "approved", rejected: "rejected", changes: "changes requested", pending: "pending", changed: "changed since approval" };
  function applyStates(states) {
    for (const [id, st] of Object.entries(states)) {
      for (const el of $$('[data-id="' + id + '"][data-kind="asset"]')) {
        el.className = el.className.replace(/\bst-\w+/, "st-" + st.state);
        el.dataset.state = st.state;
        const b = $(".badge.state", el);
        if (b) b.textContent = LABELS[st.state];
        const c = $(".comment", el);
        if (c) {
          const d = st.decision;
          c.textContent = d && d.comment ? "“" + d.comment + "” — " + d.reviewer : (d ? d.reviewer : "");
        }
      }
    }
    applyFilters();
  }
  async function refresh() {
    if (STATIC) return;
    try {
      const res = await fetch(q("/api/state"), { headers: { "X-Assetkit-Token": TOKEN } });
      if (!res.ok) return;
      const data = await res.json();
      applyStates(data.states);
      for (const [k, v] of Object.entries(data.total)) {
        const el = $('[data-count="' + k + '"]');
        if (el) el.textContent = v;
      }
      for (const [mid, sum] of Object.entries(data.masters)) {
        const el = $("#m-sum-" + mid);
        if (el) el.textContent = sum;
      }
    } catch (e) { /* server gone: keep the page */ }
  }

  // ---- comment dialog -------------------------------------------------------------------------
  function ask(title, required) {
    const dlg = $("#dlg");
    return new Promise((resolve) => {
      $("#dlg-title").textContent = title;
      const ta = $("#dlg-text");
      ta.value = "";
      dlg.showModal();
      ta.focus();
      const done = (value) => { dlg.close(); ta.onkeydown = null; dlg.onclose = null; resolve(value); };
      ta.onkeydown = (ev) => {
        if (ev.key === "Enter" && !ev.shiftKey) {
          ev.preventDefault();
          if (required && !ta.value.trim()) return show("A change request needs a comment", true);
          done(ta.value.trim());
        } else if (ev.key === "Escape") { ev.preventDefault(); done(null); }
      };
      $("#dlg-ok").onclick = (ev) => { ev.preventDefault(); if (!(required && !ta.value.trim())) done(ta.value.trim()); };
      $("#dlg-cancel").onclick = (ev) => { ev.preventDefault(); done(null); };
      dlg.onclose = () => resolve(null);
    });
  }

  // ---- filters --------------------------------------------------------------------------------
  function applyFilters() {
    const f = {};
    for (const sel of $$("form.filters select")) f[sel.name] = sel.value;
    for (const td of $$("td[data-cell]")) {
      const el = $("figure", td);
      const ok = (!f.status || (f.status === "open" ? ["pending", "changed", "changes"].includes(el.dataset.state) : el.dataset.state === f.status))
        && (!f.locale || el.dataset.locale === f.locale) && (!f.format || el.dataset.format === f.format)
        && (!f.severity || (f.severity === "any" ? el.dataset.sev !== "ok" : el.dataset.sev === f.severity));
      td.hidden = !ok;
      td.classList.toggle("off", !ok);
    }
    for (const th of $$("th[data-locale-head]")) th.hidden = !!f.locale && th.dataset.localeHead !== f.locale;
    for (const td of $$("td[data-cell]")) if (f.locale && td.dataset.cell !== f.locale) td.hidden = true;
    for (const tr of $$("tr[data-row]")) tr.hidden = !$$("td[data-cell]", tr).some((td) => !td.hidden);
    for (const t of $$("[data-platform]")) t.hidden = !$$("tr[data-row]", t).some((tr) => !tr.hidden);
    for (const s of $$("section.master")) s.hidden = !$$("tr[data-row]", s).some((tr) => !tr.hidden);
    const none = $("#nothing");
    if (none) none.hidden = $$("section.master").some((s) => !s.hidden);
    if (cur && !visible(cur)) select(items()[0], false);
  }
  for (const form of $$("form.filters")) form.addEventListener("submit", (ev) => ev.preventDefault());
  for (const sel of $$("form.filters select")) {
    sel.addEventListener("change", () => {
      applyFilters();
      const params = new URLSearchParams();
      if (!STATIC) params.set("t", TOKEN);
      for (const s of $$("form.filters select")) if (s.value) params.set(s.name, s.value);
      history.replaceState(null, "", "?" + params.toString() + location.hash);
      sel.blur();
    });
  }

  // ---- static gallery: a larger preview in a dialog -------------------------------------------
  function preview(el) {
    const dlg = $("#preview");
    if (!dlg) return;
    $("#preview-img").src = el.dataset.full;
    $("#preview-cap").textContent = el.dataset.label;
    dlg.showModal();
  }

  // ---- keys -----------------------------------------------------------------------------------
  document.addEventListener("keydown", async (ev) => {
    const t = ev.target;
    if ($("dialog[open]") || (t && /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName))) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const k = ev.key;
    const master = ev.shiftKey && /^[ARC]$/.test(k);
    const scope = master || (cur && cur.dataset.kind === "master") ? "master" : "asset";
    if (k === "ArrowRight" || k === "ArrowLeft") {
      ev.preventDefault();
      if (PAGE === "view") { const a = $(k === "ArrowRight" ? "#next" : "#prev"); if (a) { save(); location.href = a.href; } }
      else step(k === "ArrowRight" ? 1 : -1);
    } else if (k === "ArrowDown" || k === "ArrowUp") {
      if (PAGE !== "gallery") return;
      ev.preventDefault();
      vertical(k === "ArrowDown" ? 1 : -1);
    } else if (k === "Enter") {
      if (PAGE === "gallery" && cur && cur.dataset.kind === "asset") {
        ev.preventDefault();
        if (STATIC) preview(cur); else { save(); location.href = q("/asset/" + cur.dataset.id); }
      }
    } else if (k === "Escape" && PAGE === "view") {
      save();
      location.href = $("#back").href;
    } else if (k === "o" || k === "O") {
      const stage = $(".stage");
      if (stage) { stage.classList.toggle("overlay"); ev.preventDefault(); }
    } else if (k === "a" || k === "A") {
      ev.preventDefault();
      await decide(scope, "approve");
    } else if (k === "r" || k === "R") {
      ev.preventDefault();
      if (STATIC) return;
      const c = await ask("Reject " + (scope === "master" ? "the whole master" : "this asset") + " — comment (optional), Enter to send, Esc to cancel", false);
      if (c !== null) await decide(scope, "reject", c);
    } else if (k === "c" || k === "C") {
      ev.preventDefault();
      if (STATIC) return;
      const c = await ask("Request a change" + (scope === "master" ? " to the whole master" : "") + " — what should change? Enter to send", true);
      if (c) await decide(scope, "change", c);
    }
  });
  document.addEventListener("click", (ev) => {
    const el = ev.target.closest && ev.target.closest("[data-nav]");
    if (el) select(el, false);
    const btn = ev.target.closest && ev.target.closest("button[data-action]");
    if (btn) {
      ev.preventDefault();
      const scope = btn.dataset.scope || "asset";
      if (btn.dataset.action === "approve") decide(scope, "approve");
      else ask(btn.dataset.action === "change" ? "Request a change — what should change?" : "Reject — comment (optional)", btn.dataset.action === "change")
        .then((c) => { if (c !== null && (c || btn.dataset.action === "reject")) decide(scope, btn.dataset.action, c); });
    }
    if (STATIC && el && el.dataset.kind === "asset" && ev.target.tagName === "IMG") { ev.preventDefault(); preview(el); }
  });

  // ---- start ----------------------------------------------------------------------------------
  applyFilters();
  const start = (location.hash && document.getElementById(location.hash.slice(1))) || items()[0];
  if (start) select(start, PAGE === "gallery" && !!location.hash);
  if (!STATIC) setInterval(() => { if (document.visibilityState === "visible") refresh(); }, 5000);
  window.assetkitReview = { spent: () => { flush(); return Object.assign({}, spent); } };
})();
