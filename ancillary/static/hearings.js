/* /hearings: acknowledge a reminder with one tap, through the same API as every client. */
(function () {
  "use strict";
  var A = window.Ancillary, text = A.strings();
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.ack");
    if (!button) { return; }
    button.disabled = true;
    A.api("POST", "/api/v1/notifications/" + button.dataset.id + "/ack").then(function (answer) {
      var slot = document.querySelector("[data-error-for='ack-" + button.dataset.id + "']");
      if (!answer.ok) {
        button.disabled = false;
        if (slot) { slot.textContent = (answer.body && answer.body.message) || text.failed; }
        return;
      }
      var done = A.el("span", {"class": "pill ok", text: text.acked});
      var item = button.closest("li");
      if (item) { item.classList.remove("overdue"); }
      button.replaceWith(done);
    }, function () { button.disabled = false; });
  });
})();
