/* /dashboard: fetch the week-by-week charts (server-rendered SVG) after the table is on screen. */
(function () {
  "use strict";
  var slot = document.getElementById("trend");
  if (!slot) { return; }
  var text = window.Ancillary.strings();
  fetch(slot.dataset.src, {credentials: "same-origin", headers: {"Accept": "text/html"}})
    .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
    .then(function (html) {
      /* The fragment is our own server's template output (escaped by Jinja): safe to place as HTML. */
      slot.innerHTML = html;
      slot.removeAttribute("aria-busy");
    }, function () {
      slot.textContent = text.failed;
      slot.className = "notice bad";
      slot.removeAttribute("aria-busy");
    });
})();
