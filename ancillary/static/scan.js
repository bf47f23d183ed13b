// The scan station: sign in, then send each scan (typed by a handheld scanner or a photo)
// to the API and show the answer in large type. The token lives in sessionStorage only.
(function () {
  "use strict";
  const T = JSON.parse(document.getElementById("messages").textContent);
  const KEY = "ancillary.token";
  const $ = (id) => document.getElementById(id);
  const codeInput = $("code");

  function token() { return sessionStorage.getItem(KEY); }

  function scanId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  async function api(path, options) {
    options = options || {};
    options.headers = Object.assign({ "Authorization": "Bearer " + token() }, options.headers || {});
    const response = await fetch(path, options);
    if (response.status === 401) { signOut(); }
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    return { status: response.status, body: body };
  }

  function show(which) {
    $("login").hidden = which !== "login";
    $("station").hidden = which !== "station";
    $("logout").hidden = which !== "station";
    $("whoami").hidden = which !== "station";
    if (which === "station") { codeInput.focus(); }
  }

  function signOut() {
    sessionStorage.removeItem(KEY);
    show("login");
  }

  function beep(ok) {
    try {
      const ctx = new (window.AudioContext || window.webkitAudioContext)();
      const osc = ctx.createOscillator();
      osc.frequency.value = ok ? 880 : 220;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + (ok ? 0.12 : 0.4));
    } catch (e) { /* no audio: the colour is the cue */ }
  }

  function text(tag, value, cls) {
    const el = document.createElement(tag);
    el.textContent = value;
    if (cls) el.className = cls;
    return el;
  }

  function showResult(status, body) {
    const box = $("result");
    box.replaceChildren();
    if (status === 200 || status === 201) {
      const replay = status === 200;
      box.className = "result " + (replay ? "replay" : "ok");
      box.dataset.state = replay ? "replay" : "ok";
      let headline = body.action === "store" ? T.stored : T.received;
      if (replay) headline = T.replayed;
      box.appendChild(text("div", headline, "headline"));
      if (body.conflict) box.appendChild(text("div", T.conflict, "conflict"));
      const dl = document.createElement("dl");
      const holder = body.holder ? (body.holder.display_name || body.holder.username) : "—";
      [[T.holder, holder, "holder"], [T.location, body.location || "—", "location"],
       [T.case_number, body.case_number, "case-number"], [T.volume, String(body.volume), "volume"],
       [T.chain_length, String(body.seq), "chain-length"]].forEach(function (pair) {
        dl.appendChild(text("dt", pair[0]));
        dl.appendChild(text("dd", pair[1], pair[2]));
      });
      box.appendChild(dl);
      beep(true);
    } else {
      box.className = "result error";
      box.dataset.state = "error";
      box.appendChild(text("div", T.error, "headline"));
      box.appendChild(text("div", (body && body.message) || T.network, "reason"));
      beep(false);
    }
  }

  async function loadRecent() {
    const answer = await api("/api/v1/scans/mine?limit=20");
    const list = $("recent");
    list.replaceChildren();
    if (answer.status !== 200) return;
    if (!answer.body.length) { list.appendChild(text("li", T.no_scans)); return; }
    answer.body.forEach(function (scan) {
      const when = (scan.recorded_at || "").replace("T", " ").slice(0, 19);
      const holder = scan.holder ? (scan.holder.display_name || scan.holder.username) : "—";
      list.appendChild(text("li", when + "  " + scan.case_number + " / " + scan.volume + "  " + holder +
                                  "  " + (scan.location || "")));
    });
  }

  function fields() {
    const location = $("location").value.trim();
    return { action: $("action").value, location: location || null, client_scan_id: scanId() };
  }

  async function sendCode(code) {
    const body = JSON.stringify(Object.assign(fields(), { code: code }));
    // A lost answer is retried with the same client_scan_id: the server answers the first
    // recording (200) instead of recording the scan twice.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const answer = await api("/api/v1/scans", {
          method: "POST", headers: { "Content-Type": "application/json" }, body: body,
        });
        showResult(answer.status, answer.body);
        loadRecent();
        return;
      } catch (e) {
        await new Promise(function (resolve) { setTimeout(resolve, 300 * (attempt + 1)); });
      }
    }
    showResult(0, null);
  }

  async function sendPhoto(file) {
    const form = new FormData();
    const f = fields();
    form.append("image", file);
    form.append("action", f.action);
    form.append("client_scan_id", f.client_scan_id);
    if (f.location) form.append("location", f.location);
    const box = $("result");
    box.className = "result idle";
    box.textContent = T.decoding;
    try {
      const answer = await api("/api/v1/scans", { method: "POST", body: form });
      showResult(answer.status, answer.body);
    } catch (e) {
      showResult(0, null);
    }
    loadRecent();
  }

  codeInput.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const code = codeInput.value;
    codeInput.value = "";
    if (code.trim()) sendCode(code);
  });
  $("location").addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); codeInput.focus(); }
  });
  $("action").addEventListener("change", function () { codeInput.focus(); });
  $("scan-form").addEventListener("submit", function (event) { event.preventDefault(); });
  $("photo").addEventListener("change", function () {
    const file = $("photo").files[0];
    if (file) sendPhoto(file);
    $("photo").value = "";
    codeInput.focus();
  });
  // A handheld scanner types into whatever has focus: keep it on the code field.
  document.addEventListener("click", function (event) {
    if (!$("station").hidden && !event.target.closest("input, select, button, label")) codeInput.focus();
  });

  $("login").addEventListener("submit", async function (event) {
    event.preventDefault();
    const data = new FormData($("login"));
    $("login-error").textContent = "";
    try {
      const response = await fetch("/api/v1/auth/tokens", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: data.get("username"), password: data.get("password") }),
      });
      const body = await response.json();
      if (response.status !== 201) {
        $("login-error").textContent = T.login_failed + ": " + (body.message || response.status);
        return;
      }
      sessionStorage.setItem(KEY, body.token);
      start();
    } catch (e) {
      $("login-error").textContent = T.network;
    }
  });
  $("logout").addEventListener("click", async function () {
    await api("/api/v1/auth/tokens/current", { method: "DELETE" });
    signOut();
  });

  async function start() {
    if (!token()) { show("login"); return; }
    const me = await api("/api/v1/me");
    if (me.status !== 200) { signOut(); return; }
    $("whoami").textContent = me.body.username + " (" + me.body.role + ")";
    show("station");
    loadRecent();
  }
  start();
})();
