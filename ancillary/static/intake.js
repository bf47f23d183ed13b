/* /intake: parties row by row, ID numbers checked as typed, the case filed through the API. */
(function () {
  "use strict";
  var A = window.Ancillary, T = A.strings(), el = A.el;
  var form = document.getElementById("intake"), parties = document.getElementById("parties");
  var template = document.getElementById("party-template"), message = document.getElementById("form-message");

  var ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], ID_CHECK = "10X98765432";
  var USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  var USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

  /* The same rules as ancillary/cases/identity.py: "person", "company", "other" or null. */
  function classify(raw) {
    var v = raw.trim().toUpperCase(), i, total = 0;
    if (/^\d{17}[\dX]$/.test(v)) {
      for (i = 0; i < 17; i++) { total += Number(v[i]) * ID_WEIGHTS[i]; }
      if (ID_CHECK[total % 11] === v[17]) { return "person"; }
    }
    if (new RegExp("^[" + USCC + "]{18}$").test(v)) {
      for (i = 0, total = 0; i < 17; i++) { total += USCC.indexOf(v[i]) * USCC_WEIGHTS[i]; }
      if (USCC[(31 - total % 31) % 31] === v[17]) { return "company"; }
    }
    if (/^[A-Z0-9]{5,20}$/.test(v) && !/^[\dX]{18}$/.test(v)) { return "other"; }
    return null;
  }

  function checkId(input) {
    var box = input.closest(".field"), hint = box.querySelector(".id-hint");
    var slot = box.querySelector("[data-error-for]");
    var value = input.value.trim(), kind = value ? classify(value) : "";
    hint.textContent = kind ? T[{person: "idOk", company: "companyOk", other: "otherOk"}[kind]] : "";
    var bad = value.length >= 5 && kind === null;
    slot.textContent = bad ? T.idBad : "";
    box.classList.toggle("invalid", bad);
  }

  function renumber() {
    parties.querySelectorAll(".party").forEach(function (row, i) {
      row.querySelector(".party-title").textContent = T.party + " " + (i + 1);
      row.querySelectorAll("[data-name]").forEach(function (input) {
        input.id = "p" + i + "-" + input.dataset.name;
        input.name = "parties." + i + "." + input.dataset.name;
      });
      row.querySelectorAll("label[data-for]").forEach(function (lab) { lab.htmlFor = "p" + i + "-" + lab.dataset.for; });
      row.querySelectorAll("[data-error]").forEach(function (slot) {
        slot.setAttribute("data-error-for", "parties." + i + "." + slot.dataset.error);
      });
    });
  }

  function addParty(role) {
    var row = template.content.firstElementChild.cloneNode(true);
    row.querySelector("[data-name=role]").value = role;
    parties.appendChild(row);
    renumber();
    return row;
  }

  function lines(text) { return text.split(/[\n,，;；]/).map(function (s) { return s.trim(); }).filter(Boolean); }

  function partyBody(row) {
    var get = function (name) { return row.querySelector("[data-name=" + name + "]").value; };
    var party = {role: get("role"), name: get("name").trim(), phones: lines(get("phones")),
                 emails: lines(get("emails")), addresses: lines(get("addresses"))};
    if (get("id_number").trim()) { party.id_number = get("id_number").trim().toUpperCase(); }
    if (get("law_firm_id")) { party.law_firm_id = Number(get("law_firm_id")); }
    return party;
  }

  function caseBody() {
    var v = function (id) { return document.getElementById(id).value.trim(); };
    var body = {number: v("number"), kind: v("kind"), venue: v("venue"),
                filed_at: v("filed_at") ? v("filed_at") + ":00" + form.dataset.offset : "",
                volumes: Number(v("volumes") || "1"),
                parties: Array.prototype.map.call(parties.querySelectorAll(".party"), partyBody)};
    if (v("judge_id")) { body.judge_id = Number(v("judge_id")); }
    if (v("cause")) { body.cause = v("cause"); }
    return body;
  }

  function showFiled(filed) {
    form.hidden = true;
    document.getElementById("filed-number").textContent = filed.number;
    document.getElementById("filed-deadline").textContent = (filed.deadline || "").slice(0, 10);
    document.getElementById("label-sheet").href = "/api/v1/cases/" + filed.id + "/labels.pdf";
    var list = document.getElementById("dossiers");
    filed.dossiers.forEach(function (d) {
      list.appendChild(el("li", {"data-dossier": String(d.id)}, [
        el("div", {class: "title", text: T.volume + " " + d.volume + " · " + d.code}),
        el("a", {class: "button", href: "/api/v1/dossiers/" + d.id + "/label.png", target: "_blank",
                 rel: "noopener", text: T.label})]));
    });
    document.getElementById("filed").hidden = false;
    document.getElementById("filed").scrollIntoView();
  }

  parties.addEventListener("input", function (event) {
    if (event.target.dataset.name === "id_number") { checkId(event.target); }
  });
  parties.addEventListener("click", function (event) {
    var remove = event.target.closest(".remove-party");
    if (remove && parties.querySelectorAll(".party").length > 1) { remove.closest(".party").remove(); renumber(); }
  });
  document.getElementById("add-party").addEventListener("click", function () {
    addParty("defendant").querySelector("[data-name=name]").focus();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (form.dataset.busy) { return; }
    A.busy(form, true);
    message.textContent = "";
    A.api("POST", "/api/v1/cases", caseBody()).then(function (answer) {
      if (answer.ok) { showFiled(answer.body); return; }
      A.showErrors(form, answer.body, message);
      message.textContent = T.failed + (message.textContent ? " " + message.textContent : "");
      var first = form.querySelector(".field.invalid input, .field.invalid select, .field.invalid textarea");
      if (first) { first.focus(); }
    }, function () {
      message.textContent = T.network;
      message.className = "notice bad";
    }).then(function () { A.busy(form, false); });
  });

  addParty("plaintiff");
  addParty("defendant");
})();
