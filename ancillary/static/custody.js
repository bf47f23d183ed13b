/* /custody: run the whole-court verification and say what it found. */
(function () {
  "use strict";
  var A = window.Ancillary, text = A.strings();
  var button = document.getElementById("verify-all");
  var bar = document.getElementById("verify-progress");
  var result = document.getElementById("verify-result");
  if (!button) { return; }
  button.addEventListener("click", function () {
    button.disabled = true;
    bar.hidden = false;
    result.className = "notice";
    result.textContent = text.checking;
    A.api("GET", "/api/v1/custody/verify").then(function (answer) {
      bar.hidden = true;
      button.disabled = false;
      if (!answer.ok) { result.className = "notice bad"; result.textContent = text.failed; return; }
      var body = answer.body;
      result.className = body.ok ? "notice ok" : "notice bad";
      result.textContent = (body.ok ? text.ok : text.bad).replace("{n}", body.events_checked)
        .replace("{message}", body.message || "");
    }, function () {
      bar.hidden = true;
      button.disabled = false;
      result.className = "notice bad";
      result.textContent = text.failed;
    });
  });
})();
