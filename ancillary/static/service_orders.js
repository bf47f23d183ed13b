/* /service: my orders with the next step and its deadline, most urgent first. */
(function () {
  "use strict";
  var A = window.Ancillary, S = A.strings(), W = S.words, T = S.texts, el = A.el;
  var list = document.getElementById("orders");

  function when(iso) { return iso ? iso.slice(5, 10).replace("-", "/") + " " + iso.slice(11, 16) : ""; }

  function item(order) {
    var step = order.next_step;
    var lines = [el("div", {class: "title", text: order.case_number + " · " + (order.recipient ? order.recipient.name : "")}),
                 el("div", {class: "meta muted"}, [
                   el("span", {class: "pill" + (order.status === "served" ? " ok" : ""), text: W.statuses[order.status] || ""}),
                   el("span", {text: T.layer.replace("{n}", order.layer) + " · " + (W.layers[String(order.layer)] || "")})])];
    if (step) {
      lines.push(el("div", {class: "meta"}, [el("span", {text: T.next + ": " + (W.channels[step.channel] || "")}),
                                              el("span", {text: T.due + " " + when(step.due_at)})]));
    }
    lines.push(el("div", {class: "actions"}, [el("a", {class: "button primary", href: "/service/orders/" + order.id,
                                                      text: T.open})]));
    var late = step && step.due_at && new Date(step.due_at) < new Date();
    return el("li", {class: late ? "overdue" : "", "data-order": String(order.id)}, lines);
  }

  A.api("GET", "/api/v1/service-orders?limit=500").then(function (answer) {
    if (!answer.ok) { return; }
    var items = answer.body.items.slice().sort(function (a, b) {
      var x = a.next_step ? a.next_step.due_at : "9", y = b.next_step ? b.next_step.due_at : "9";
      return x < y ? -1 : x > y ? 1 : a.id - b.id;
    });
    list.replaceChildren.apply(list, items.map(item));
    document.getElementById("orders-empty").hidden = items.length > 0;
  }, function () {
    var m = document.getElementById("message"); m.textContent = T.network; m.className = "notice bad";
  });
})();
