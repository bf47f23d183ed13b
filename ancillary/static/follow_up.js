/* /follow-up: "remind now" sends the officer their due and overdue nodes through the outbox. */
(function () {
  "use strict";
  var A = window.Ancillary, T = A.strings(), list = document.getElementById("nodes");
  var message = document.getElementById("message");
  if (!list) { return; }

  list.addEventListener("click", function (event) {
    var b = event.target.closest("button[data-officer]");
    if (!b || b.disabled) { return; }
    b.disabled = true;
    var body = {officer_id: Number(b.dataset.officer), case_id: Number(b.dataset.case)};
    A.api("POST", "/api/v1/follow-up-posts/" + list.dataset.post + "/remind", body).then(function (answer) {
      b.disabled = false;
      message.className = "notice " + (answer.ok ? "ok" : "bad");
      message.textContent = answer.ok ? T.reminded.replace("{name}", b.dataset.name)
                                      : T.failed + " " + ((answer.body && answer.body.message) || answer.status);
    }, function () { b.disabled = false; message.className = "notice bad"; message.textContent = T.network; });
  });
})();
