/* One service order on a phone: who and where, the attempts, and the attempt form.
   Attempts go through the phone's queue (offline_queue.js) with a client id. */
(function () {
  "use strict";
  var A = window.Ancillary, Q = window.OfflineQueue, S = A.strings(), el = A.el;
  var W = S.words, T = S.texts, R = S.rules;
  var form = document.getElementById("attempt"), orderId = Number(form.dataset.order);
  var skew = Date.parse(form.dataset.now) - Date.now();  /* the phone's clock may be wrong: use the server's */
  var message = document.getElementById("message"), order = null, currentId = Q.newId(), position = null;
  var $ = function (id) { return document.getElementById(id); };

  function when(iso) { return iso ? iso.slice(0, 10) + " " + iso.slice(11, 16) : ""; }
  function say(text, kind) { message.textContent = text; message.className = "notice " + (kind || ""); }
  function text(id, value) { $(id).textContent = value || "—"; }

  function renderAttempt(a) {
    var parts = [el("div", {class: "title", text: (W.channels[a.channel] || W.layers[String(a.layer)] || "") +
                                                  " · " + (W.outcomes[a.outcome] || "")}),
                 el("div", {class: "muted", text: when(a.attempted_at) + (a.address ? " · " + a.address : "")})];
    if (a.received_by) { parts.push(el("div", {text: a.received_by})); }
    if (a.notes) { parts.push(el("div", {text: a.notes})); }
    if (a.latitude !== null && a.latitude !== undefined) {
      var where = T.position + " " + a.latitude.toFixed(5) + ", " + a.longitude.toFixed(5);
      if (a.distance_m !== null && a.distance_m !== undefined) { where += " · " + Math.round(a.distance_m) + " " + T.distance; }
      parts.push(el("div", {class: "muted", text: where}));
    }
    var flags = (a.flags || []).map(function (f) { return el("span", {class: "pill warn", text: W.flags[f] || ""}); });
    if (flags.length) { parts.push(el("div", {class: "meta"}, flags)); }
    return el("li", {"data-seq": String(a.seq)}, parts);
  }

  function render(data) {
    order = data;
    var r = data.recipient || {};
    $("title").textContent = data.case_number + " · " + (r.name || "");
    text("recipient", r.name);
    text("phones", (r.phones || []).join("、"));
    text("emails", (r.emails || []).join("、"));
    text("law-firm", r.law_firm ? r.law_firm.name : "");
    text("status", (W.statuses[data.status] || "") + " · " + W.layers[String(data.layer)]);
    text("next-step", data.next_step ? (W.channels[data.next_step.channel] || "") + " · " + when(data.next_step.due_at) : T.none);
    var addresses = $("addresses"), list = $("address-list");
    addresses.replaceChildren.apply(addresses, (data.addresses || []).map(function (a) {
      return el("li", {class: a.failed ? "overdue" : ""}, [el("div", {class: "title", text: a.text}),
                                                          el("div", {class: "muted", text: a.source_text})]);
    }));
    list.replaceChildren.apply(list, (data.addresses || []).filter(function (a) { return !a.failed; })
      .map(function (a) { return el("option", {value: a.text}); }));
    var attempts = $("attempts");
    attempts.replaceChildren.apply(attempts, (data.attempts || []).map(renderAttempt));
    if (data.next_step && R.layer[data.next_step.channel] !== undefined && !form.dataset.touched) {
      $("channel").value = data.next_step.channel;
    }
    form.hidden = data.status === "served" || data.status === "withdrawn";
    update();
  }

  function show(name, on) {
    form.querySelectorAll("[data-when=" + name + "]").forEach(function (box) { box.hidden = !on; });
  }

  function update() {
    var channel = $("channel").value, outcomes = R.outcomes[channel] || [], select = $("outcome");
    if (select.dataset.channel !== channel) {
      select.replaceChildren.apply(select, outcomes.map(function (o) { return el("option", {value: o, text: W.outcomes[o]}); }));
      select.dataset.channel = channel;
    }
    var outcome = select.value;
    show("outcome", outcomes.length > 1);
    show("address", R.address.indexOf(channel) >= 0);
    show("received_by", channel === "personal" && outcome === "served");
    show("witness", channel === "personal" && outcome === "refused");
    show("mail", channel === "mail");
    show("photo", R.photo.indexOf(channel) >= 0);
    show("skip_reason", order !== null && R.layer[channel] > order.layer);
  }

  function locate() {
    if (position || !navigator.geolocation) { return Promise.resolve(position); }
    return new Promise(function (resolve) {
      navigator.geolocation.getCurrentPosition(function (p) {
        position = {latitude: p.coords.latitude, longitude: p.coords.longitude};
        resolve(position);
      }, function () { resolve(null); }, {enableHighAccuracy: true, timeout: 8000, maximumAge: 60000});
    });
  }

  function fields() {
    var data = {channel: $("channel").value, attempted_at: new Date(Date.now() + skew).toISOString()};
    form.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (input) {
      var box = input.closest("[data-when]");
      if (input.type === "file" || input.name === "channel" || (box && box.hidden)) { return; }
      if (input.value.trim()) { data[input.name] = input.value.trim(); }
    });
    return data;
  }

  function send(entry) {
    var body = Object.assign({client_id: entry.client_id}, entry.fields);
    if (entry.photo) {
      var multipart = new FormData();
      Object.keys(body).forEach(function (k) { multipart.append(k, String(body[k])); });
      multipart.append("photo", entry.photo, entry.photo.name || "photo.jpg");
      body = multipart;
    }
    return A.api("POST", "/api/v1/service-orders/" + entry.order_id + "/attempts", body);
  }

  function report(entry, answer) {
    var mine = entry.client_id === currentId;
    if (answer.ok) {
      if (mine) { clearForm(); A.clearErrors(form); }
      if (entry.order_id === orderId) { render(answer.body); }
      say(T.sent, "ok");
    } else if (answer.status === 401 || answer.status === 403) {
      say(T.signIn, "bad");
    } else if (mine) {
      A.showErrors(form, answer.body, message);
      say(T.refused + " " + (message.textContent || ""), "bad");
    } else {
      say(T.refused + " " + ((answer.body && answer.body.message) || answer.status), "bad");
    }
  }

  function clearForm() {
    form.reset();
    delete form.dataset.touched;
    currentId = Q.newId();
    position = null;
    $("photo-hint").textContent = "";
    if (order && order.next_step && R.layer[order.next_step.channel] !== undefined) { $("channel").value = order.next_step.channel; }
    update();
  }

  function showPending() {
    return Q.all().then(function (entries) {
      entries = entries.filter(function (e) { return e.kind === "attempt"; });
      $("pending-card").hidden = entries.length === 0;
      $("pending-count").textContent = String(entries.length);
      var list = $("pending");
      list.replaceChildren.apply(list, entries.map(function (e) {
        return el("li", {"data-client": e.client_id}, [el("div", {text: (W.channels[e.fields.channel] || "") + " · " +
                                                                  when(e.fields.attempted_at.replace("Z", ""))})]);
      }));
    });
  }

  /* Retry soon after a failure, then less often (2 s doubling to 30 s); the 'online' event retries at once. */
  var retryIn = 2000, retryTimer = null;
  function retryLater() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, retryIn);
    retryIn = Math.min(retryIn * 2, 30000);
  }

  function flush() {
    return Q.drain("attempt", send, report).then(function () { retryIn = 2000; return showPending(); }, function () {
      retryLater();
      return showPending().then(function () { say(T.queued, ""); });
    });
  }

  form.addEventListener("change", function (event) {
    form.dataset.touched = "1";
    if (event.target.id === "photo" && event.target.files.length) {
      $("photo-hint").textContent = T.photoTaken + " · " + T.locating;
      locate().then(function () { $("photo-hint").textContent = T.photoTaken; });
    }
    update();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (form.dataset.busy) { return; }
    A.busy(form, true);
    var photo = $("photo").files[0] || null;
    var withPhoto = photo && !$("photo").closest("[data-when]").hidden;
    (withPhoto ? locate() : Promise.resolve(null)).then(function (where) {
      var data = fields();
      if (where) { data.device_latitude = where.latitude; data.device_longitude = where.longitude; }
      return Q.put({client_id: currentId, kind: "attempt", order_id: orderId, queued_at: data.attempted_at,
                    fields: data, photo: withPhoto ? photo : null});
    }).then(function () {
      return Q.drain("attempt", send, report).then(showPending, function () {
        clearForm();
        retryLater();
        return showPending().then(function () { say(T.queued, ""); });
      });
    }).then(function () { A.busy(form, false); }, function () { A.busy(form, false); });
  });

  window.addEventListener("online", flush);
  setInterval(flush, 30000);
  A.api("GET", "/api/v1/service-orders/" + orderId).then(function (answer) {
    if (answer.ok) { render(answer.body); } else { say((answer.body && answer.body.message) || "", "bad"); }
  }, function () { say(T.network, "bad"); update(); });
  flush();
})();
