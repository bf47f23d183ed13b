/* /custody: run the whole-court verification, draw its progress as it streams, and say what it found.
   GET /api/v1/custody/verify/stream answers one JSON object per line: {done, total} as the walk goes,
   then {done, total, result} (or {error, message}). */
(function () {
  "use strict";
  var A = window.Ancillary, text = A.strings();
  var button = document.getElementById("verify-all");
  var bar = document.getElementById("verify-progress");
  var count = document.getElementById("verify-count");
  var result = document.getElementById("verify-result");
  if (!button) { return; }

  function say(kind, message) {
    result.className = "notice" + (kind ? " " + kind : "");
    result.textContent = message;
  }

  function draw(line) {
    bar.max = Math.max(line.total, 1);
    bar.value = Math.min(line.done, bar.max);
    count.textContent = text.counted.replace("{done}", line.done).replace("{total}", line.total);
  }

  function finish(line) {
    button.disabled = false;
    if (line.error) { say("bad", line.message || text.failed); return; }
    draw({done: line.total, total: line.total});  /* the walk is over: the bar stands at its end */
    var body = line.result;
    say(body.ok ? "ok" : "bad", (body.ok ? text.ok : text.bad).replace("{n}", body.events_checked)
      .replace("{message}", body.message || ""));
  }

  /* Hand each complete line to onLine as it arrives; resolve when the answer ends. */
  function readLines(response, onLine) {
    var reader = response.body.getReader(), decoder = new TextDecoder(), kept = "";
    function pump() {
      return reader.read().then(function (chunk) {
        kept += decoder.decode(chunk.value || new Uint8Array(0), {stream: !chunk.done});
        var lines = kept.split("\n");
        kept = lines.pop();
        lines.forEach(function (line) { if (line.trim()) { onLine(JSON.parse(line)); } });
        if (!chunk.done) { return pump(); }
        if (kept.trim()) { onLine(JSON.parse(kept)); }
      });
    }
    return pump();
  }

  button.addEventListener("click", function () {
    var last = null;
    button.disabled = true;
    bar.hidden = false;
    bar.removeAttribute("value");
    count.textContent = "";
    say("", text.checking);
    fetch("/api/v1/custody/verify/stream", {credentials: "same-origin", headers: {"Accept": "application/x-ndjson"}})
      .then(function (response) {
        if (!response.ok || !response.body) { return Promise.reject(response.status); }
        return readLines(response, function (line) {
          last = line;
          if (line.result || line.error) { finish(line); } else { draw(line); }
        });
      })
      .then(function () {
        if (!last || !(last.result || last.error)) { return Promise.reject("cut short"); }
      })
      .catch(function () {
        button.disabled = false;
        say("bad", text.failed);
      });
  });
})();
