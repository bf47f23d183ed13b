/* The scan station: each scan (typed by a handheld scanner, a photo, or a torn label's code
   typed by hand) goes to the API with the browser's session; the answer shows in large type.
   "Look up only" asks where the dossier is and records nothing. */
(function () {
  "use strict";
  var A = window.Ancillary, Q = window.OfflineQueue, T = A.strings("messages"), el = A.el;
  var $ = function (id) { return document.getElementById(id); };
  var codeInput = $("code");

  function scanId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function beep(ok) {
    try {
      var ctx = new (window.AudioContext || window.webkitAudioContext)(), osc = ctx.createOscillator();
      osc.frequency.value = ok ? 880 : 220;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + (ok ? 0.12 : 0.4));
    } catch (e) { /* no audio: the colour is the cue */ }
  }

  function facts(rows) {
    var dl = el("dl");
    rows.forEach(function (r) { dl.appendChild(el("dt", {text: r[0]})); dl.appendChild(el("dd", {class: r[2], text: r[1]})); });
    return dl;
  }

  function holderName(body) { return body.holder ? (body.holder.display_name || body.holder.username) : "—"; }

  function showResult(answer, lookup) {
    var box = $("result"), body = answer ? answer.body : null;
    box.replaceChildren();
    if (answer && answer.ok) {
      var state = lookup ? "lookup" : answer.status === 200 ? "replay" : "ok";
      box.className = "result " + state;
      box.dataset.state = state;
      var headline = lookup ? T.lookedUp : state === "replay" ? T.replayed : body.action === "store" ? T.stored : T.received;
      box.appendChild(el("div", {class: "headline", text: headline}));
      if (body.conflict) { box.appendChild(el("div", {class: "conflict", text: T.conflict})); }
      if (body.typed) { box.appendChild(el("div", {class: "typed", text: T.typed})); }
      box.appendChild(facts([[T.holder, holderName(body), "holder"], [T.location, body.location || "—", "location"],
                             [T.case_number, body.case_number, "case-number"], [T.volume, String(body.volume), "volume"],
                             [T.chain_length, String(lookup ? body.chain_length : body.seq), "chain-length"]]));
      beep(true);
    } else {
      box.className = "result error";
      box.dataset.state = "error";
      box.appendChild(el("div", {class: "headline", text: answer && answer.status === 404 ? T.notFound : T.error}));
      box.appendChild(el("div", {class: "reason", text: (body && body.message) || T.network}));
      beep(false);
    }
  }

  function loadRecent() {
    return A.api("GET", "/api/v1/scans/mine?limit=20").then(function (answer) {
      var list = $("recent");
      if (!answer.ok) { return; }
      if (!answer.body.length) { list.replaceChildren(el("li", {text: T.no_scans})); return; }
      list.replaceChildren.apply(list, answer.body.map(function (scan) {
        var when = (scan.recorded_at || "").replace("T", " ").slice(5, 16);
        return el("li", {"data-action": scan.action}, [
          el("div", {class: "title", text: (T.actions[scan.action] || "") + " · " + scan.case_number + " · " + T.volume + " " + scan.volume}),
          el("div", {class: "muted", text: when + " · " + holderName(scan) + (scan.location ? " · " + scan.location : "") +
                                          (scan.typed ? " · " + T.typed : "")})]);
      }));
    }, function () { /* no network: the list refreshes after the next scan goes through */ });
  }

  function mode() { return $("action").value; }

  function lookup(code, typed) {
    var query = "?code=" + encodeURIComponent(code) + (typed ? "&typed=true" : "");
    return A.api("GET", "/api/v1/dossiers/lookup" + query).then(function (a) { showResult(a, true); },
                                                              function () { showResult(null, true); });
  }

  /* Every scan goes through the device's queue (offline_queue.js) under its client_scan_id:
     without signal it waits and is sent when the network returns; a lost answer is resent
     and the server answers the first recording (200) instead of recording it twice. */
  var form = $("scan-form"), skew = Date.parse(form.dataset.now) - Date.now();
  var retryIn = 2000, retryTimer = null;

  function sendScan(entry) {
    var body = entry.body;
    if (entry.photo) {
      body = new FormData();
      Object.keys(entry.body).forEach(function (k) {
        if (entry.body[k] !== null && entry.body[k] !== undefined) { body.append(k, String(entry.body[k])); }
      });
      body.append("image", entry.photo, entry.photo.name || "label.jpg");
    }
    return A.api("POST", "/api/v1/scans", body);
  }

  function reported(entry, answer) { showResult(answer, false); }

  function flush() {
    return Q.drain("scan", sendScan, reported).then(function () {
      retryIn = 2000;
      return Promise.all([loadRecent(), showQueued()]);
    }, function () {
      clearTimeout(retryTimer);
      retryTimer = setTimeout(flush, retryIn);
      retryIn = Math.min(retryIn * 2, 30000);
      return showQueued().then(function (count) {
        if (count) { var box = $("result"); box.className = "result replay"; box.dataset.state = "queued"; box.textContent = T.queued; }
      });
    });
  }

  function showQueued() {
    return Q.all().then(function (entries) {
      var count = entries.filter(function (e) { return e.kind === "scan"; }).length;
      $("queued").hidden = count === 0;
      $("queued-count").textContent = String(count);
      return count;
    });
  }

  function enqueue(body, photo) {
    var id = scanId();
    body.client_scan_id = id;
    body.scanned_at = new Date(Date.now() + skew).toISOString();
    return Q.put({client_id: id, kind: "scan", queued_at: body.scanned_at, body: body, photo: photo || null}).then(flush);
  }

  function record(code, typed) {
    var location = $("location").value.trim();
    return enqueue({code: code, action: mode(), location: location || null, typed: !!typed}, null);
  }

  function handle(code, typed) { return mode() === "lookup" ? lookup(code, typed) : record(code, typed); }

  function sendPhoto(file) {
    var box = $("result");
    box.className = "result idle";
    box.textContent = T.decoding;
    if (mode() === "lookup") {
      var picture = new FormData();
      picture.append("image", file);
      return A.api("POST", "/api/v1/scans/decode", picture).then(function (answer) {
        if (!answer.ok || !answer.body.codes.length) { showResult(answer.ok ? {ok: false, status: 422, body: null} : answer, true); return; }
        return lookup(answer.body.codes[0], false);
      }, function () { showResult(null, true); });
    }
    var location = $("location").value.trim();
    return enqueue({action: mode(), location: location || null}, file);
  }

  codeInput.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") { return; }
    event.preventDefault();
    var code = codeInput.value;
    codeInput.value = "";
    if (code.trim()) { handle(code, false); }
  });
  $("typed").addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); $("send-typed").click(); }
  });
  $("send-typed").addEventListener("click", function () {
    var code = $("typed").value.trim();
    if (code) { handle(code, true).then(function () { $("typed").value = ""; codeInput.focus(); }); }
  });
  $("location").addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); codeInput.focus(); }
  });
  $("action").addEventListener("change", function () { codeInput.focus(); });
  $("scan-form").addEventListener("submit", function (event) { event.preventDefault(); });
  $("photo").addEventListener("change", function () {
    var file = $("photo").files[0];
    if (file) { sendPhoto(file); }
    $("photo").value = "";
    codeInput.focus();
  });
  // A handheld scanner types into whatever has focus: keep it on the code field.
  document.addEventListener("click", function (event) {
    if (!event.target.closest("input, select, button, label, a")) { codeInput.focus(); }
  });
  window.addEventListener("online", flush);
  flush();
})();
