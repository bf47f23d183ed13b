/* /schedule: the slots the scheduling sweep proposes for new cases. Accept books the hearing through
   the normal booking path (a slot taken meanwhile is refused by name); reject leaves the case to a
   person. Everything goes through /api/v1/scheduling/proposals with the session cookie. */
(function () {
  "use strict";
  var A = window.Ancillary, T = A.strings("proposal-strings"), el = A.el;
  var list = document.getElementById("proposal-list");
  var empty = document.getElementById("proposal-empty");
  var message = document.getElementById("message");
  if (!list) { return; }

  function say(text, bad) { message.textContent = text; message.className = "notice" + (bad ? " bad" : " ok"); }
  function when(starts, ends) { return starts.slice(0, 10) + " " + starts.slice(11, 16) + "–" + ends.slice(11, 16); }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) { return values[name] !== undefined ? values[name] : all; });
  }

  function item(p) {
    var venue = p.venue === "main" ? T.mainCourt : p.venue;
    var accept = el("button", {type: "button", "class": "primary", "data-action": "accept", text: T.accept});
    var reject = el("button", {type: "button", "data-action": "reject", text: T.reject});
    accept.addEventListener("click", function () { decide(p, "accept", [accept, reject]); });
    reject.addEventListener("click", function () { decide(p, "reject", [accept, reject]); });
    var taken = p.taken_by ? el("p", {"class": "notice bad taken", text: fill(T.taken, {
      number: p.taken_by.case_number, time: when(p.taken_by.starts_at, p.taken_by.ends_at)})}) : null;
    return el("li", {"class": "proposal", "data-proposal": String(p.id), "data-case": String(p.case_id)}, [
      el("p", {"class": "what", text: p.case_number + " · " + (T.kinds[p.kind] || p.kind)}),
      el("p", {"class": "slot", text: when(p.starts_at, p.ends_at) + " · " + p.courtroom_name + " · " + venue}),
      taken,
      el("div", {"class": "actions"}, [accept, reject])
    ]);
  }

  function load() {
    return A.api("GET", "/api/v1/scheduling/proposals?limit=50").then(function (res) {
      if (!res.ok) { say(T.failed, true); return; }
      list.replaceChildren.apply(list, res.body.items.map(item));
      empty.hidden = res.body.items.length > 0;
    });
  }

  function decide(p, action, buttons) {
    buttons.forEach(function (b) { b.disabled = true; });
    A.api("POST", "/api/v1/scheduling/proposals/" + p.id + "/" + action, {}).then(function (res) {
      if (res.ok) {
        say(fill(action === "accept" ? T.accepted : T.rejected, {number: p.case_number}), false);
        document.dispatchEvent(new CustomEvent("schedule:changed"));
      } else {
        say((res.body && res.body.message) || T.failed, true);
      }
      return load();
    }, function () { say(T.failed, true); buttons.forEach(function (b) { b.disabled = false; }); });
  }

  load();
})();
