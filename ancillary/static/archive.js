/* /archive: the queue with days left (red at 3 or fewer), and each dossier's five steps. */
(function () {
  "use strict";
  var A = window.Ancillary, T = A.strings(), el = A.el;
  var queue = document.getElementById("queue"), me = Number(queue.dataset.me);
  var message = document.getElementById("message");
  var fill = function (text, values) {
    return Object.keys(values).reduce(function (t, k) { return t.replace("{" + k + "}", values[k]); }, text);
  };

  function say(text) { message.textContent = text; message.className = "notice bad"; }

  function caseItem(c) {
    var late = c.days_left <= 3;
    var days = c.days_left >= 0 ? fill(T.daysLeft, {n: c.days_left}) : fill(T.overdueBy, {n: -c.days_left});
    return el("li", {class: late ? "overdue" : "", "data-case": String(c.case_id)}, [
      el("div", {class: "title", text: c.case_number}),
      el("div", {class: "meta"}, [el("span", {class: "pill" + (late ? " bad" : ""), "data-days": String(c.days_left), text: days}),
                                 el("span", {class: "muted", text: fill(T.volumes, {done: c.volumes_archived, all: c.volumes})})]),
      el("div", {class: "actions"}, [el("button", {type: "button", class: "primary", "data-open": String(c.case_id),
                                                  "data-number": c.case_number, text: T.work})])]);
  }

  function loadQueue() {
    return A.api("GET", "/api/v1/archive/queue").then(function (answer) {
      if (!answer.ok) { say(answer.body && answer.body.message); return; }
      var cases = answer.body.cases;
      queue.replaceChildren.apply(queue, cases.map(caseItem));
      document.getElementById("queue-empty").hidden = cases.length > 0;
      document.getElementById("backlog").textContent = answer.body.backlog_total ? T.backlog + ": " + answer.body.backlog_total : "";
    }, function () { say(T.network); });
  }

  function stepForm(dossier, step, done, doneText, inputs, button) {
    var form = el("form", {class: "step", "data-step": step, "data-dossier": String(dossier.id), novalidate: "novalidate"}, [
      el("div", {class: "meta"}, [el("strong", {text: T.steps[step]}),
                                 done ? el("span", {class: "pill ok", text: T.done + (doneText ? " · " + doneText : "")}) : null])]);
    if (!done) {
      (inputs || []).forEach(function (input) { form.appendChild(input); });
      if (button) { form.appendChild(el("button", {type: "submit", class: "primary", text: button})); }
    }
    form.appendChild(el("p", {class: "error", "data-error-for": "step"}));
    return form;
  }

  function field(label, input, errorFor) {
    var id = "f" + Math.random().toString(36).slice(2);
    input.id = id;
    return el("div", {class: "field"}, [el("label", {for: id, text: label}), input,
                                        el("p", {class: "error", "data-error-for": errorFor})]);
  }

  function dossierCard(dossier, record) {
    var held = dossier.holder_id === me;
    var receive = stepForm(dossier, "receive", held, "", [], null);
    if (!held) {
      receive.insertBefore(el("p", {class: "muted", text: T.receiveHint}), receive.lastChild);
      receive.insertBefore(el("a", {class: "button", href: "/scan", text: T.toScan}), receive.lastChild);
    }
    var count = stepForm(dossier, "count", !!record.counted_at, record.material_count + " " + T.materials,
                         [field(T.count, el("input", {name: "material_count", type: "number", min: "1", inputmode: "numeric"}), "material_count")], T.record);
    var bind = stepForm(dossier, "bind", !!record.bound_at, "", [], T.record);
    var scan = stepForm(dossier, "digitise", !!record.digitised_at, "",
                        [field(T.pdf, el("input", {name: "file", type: "file", accept: "application/pdf"}), "file")], T.upload);
    if (record.digitised_at) {
      scan.insertBefore(el("a", {class: "button", href: "/api/v1/dossiers/" + dossier.id + "/archive/scan",
                                 target: "_blank", rel: "noopener", text: T.pdf}), scan.lastChild);
    }
    var shelve = stepForm(dossier, "archive", !!record.archived_at, record.archive_location || "",
                          [field(T.shelf, el("input", {name: "archive_location", maxlength: "200"}), "archive_location")], T.record);
    return el("li", {"data-dossier": String(dossier.id)}, [
      el("div", {class: "title", text: T.volume + " " + dossier.volume + " · " + dossier.code}),
      el("div", {class: "muted", text: T.holder + ": " + (held ? T.you : (dossier.holder_id ? T.other : T.nobody)) +
                                       (dossier.location ? " · " + T.location + ": " + dossier.location : "")}),
      receive, count, bind, scan, shelve]);
  }

  function loadCase(caseId, number) {
    var section = document.getElementById("case"), list = document.getElementById("dossiers");
    document.getElementById("case-title").textContent = number;
    return A.api("GET", "/api/v1/cases/" + caseId).then(function (answer) {
      if (!answer.ok) { say(answer.body && answer.body.message); return; }
      var dossiers = answer.body.dossiers || [];
      return Promise.all(dossiers.map(function (d) { return A.api("GET", "/api/v1/dossiers/" + d.id + "/archive"); }))
        .then(function (records) {
          list.replaceChildren.apply(list, dossiers.map(function (d, i) { return dossierCard(d, records[i].body || {}); }));
          section.hidden = false;
          section.dataset.case = String(caseId);
          section.dataset.number = number;
        });
    }, function () { say(T.network); });
  }

  queue.addEventListener("click", function (event) {
    var b = event.target.closest("button[data-open]");
    if (b) { loadCase(Number(b.dataset.open), b.dataset.number).then(function () {
      document.getElementById("case").scrollIntoView(); }); }
  });

  document.getElementById("dossiers").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target, step = form.dataset.step, id = form.dataset.dossier;
    if (form.dataset.busy) { return; }
    var body, path = "/api/v1/dossiers/" + id + "/archive";
    if (step === "digitise") {
      var file = form.querySelector("input[type=file]").files[0];
      body = new FormData();
      if (file) { body.append("file", file); }
      path += "/scan";
    } else {
      body = {step: step};
      var input = form.querySelector("input[name]");
      if (input && input.value.trim()) {
        body[input.name] = input.name === "material_count" ? Number(input.value) : input.value.trim();
      }
    }
    A.busy(form, true);
    A.api("POST", path, body).then(function (answer) {
      A.busy(form, false);
      if (!answer.ok) { A.showErrors(form, answer.body, form.querySelector("[data-error-for=step]")); return; }
      var section = document.getElementById("case");
      return Promise.all([loadCase(Number(section.dataset.case), section.dataset.number), loadQueue()]);
    }, function () { A.busy(form, false); say(T.network); });
  });

  loadQueue();
})();
