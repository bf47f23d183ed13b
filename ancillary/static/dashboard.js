/* /dashboard: fetch the parts that take longer (the week-by-week charts, server-rendered SVG, and the
   service clerks' release patterns) after the table is on screen, each into its slot. */
(function () {
  "use strict";
  var text = window.Ancillary.strings();
  ["trend", "releases"].forEach(function (id) {
    var slot = document.getElementById(id);
    if (!slot) { return; }
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
  });
})();
