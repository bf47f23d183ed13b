/* "My work": the tasks in my hands and the queue, in working order; claim, give back, done in one tap. */
(function () {
  "use strict";
  var A = window.Ancillary, T = A.strings(), el = A.el;
  var mine = document.getElementById("mine"), open = document.getElementById("open");
  var me = Number(mine.dataset.me), claims = mine.dataset.claims === "1";
  var message = document.getElementById("message");

  function when(iso) { return iso ? iso.slice(5, 10).replace("-", "/") + " " + iso.slice(11, 16) : ""; }

  function say(text, bad) { message.textContent = text; message.className = "notice" + (bad ? " bad" : " ok"); }

  function button(text, action, task, primary) {
    var b = el("button", {type: "button", class: primary ? "primary" : "", "data-action": action,
                          "data-task": String(task.id), text: text});
    return b;
  }

  function item(task, held) {
    var title = (T.kinds[task.kind] || task.kind) + " · " + (task.case_number || "");
    var facts = [el("span", {text: T.due + " " + when(task.due_at)})];
    if (task.sla === "due_soon" || task.sla === "overdue") {
      facts.push(el("span", {class: "pill " + task.sla, text: T.sla[task.sla]}));
    }
    if (task.case_kind === "speedy") { facts.push(el("span", {class: "pill", text: T.speedy})); }
    var actions = el("div", {class: "actions"});
    if (held) {
      var link = T.links[task.kind];
      if (link) { actions.appendChild(el("a", {class: "button primary", href: link, text: T.open})); }
      if (claims) {
        actions.appendChild(button(T.complete, "complete", task, false));
        actions.appendChild(button(T.release, "release", task, false));
      }
    } else if (claims) {
      actions.appendChild(button(T.claim, "claim", task, true));
    }
    return el("li", {class: task.sla, "data-task": String(task.id), "data-kind": task.kind}, [
      el("div", {class: "title", text: title}), el("div", {class: "meta muted"}, facts), actions]);
  }

  function fill(list, tasks, held) {
    list.replaceChildren.apply(list, tasks.map(function (t) { return item(t, held); }));
    document.getElementById(list.id + "-empty").hidden = tasks.length > 0;
  }

  function count(name, value) {
    document.querySelector("[data-count=" + name + "]").textContent = String(value);
  }

  function load() {
    return A.api("GET", "/api/v1/tasks?limit=500").then(function (answer) {
      if (!answer.ok) { say((answer.body && answer.body.message) || T.failed, true); return; }
      var tasks = answer.body.items;
      var held = tasks.filter(function (t) { return claims ? t.assignee_id === me : t.status !== "done"; });
      var waiting = claims ? tasks.filter(function (t) { return t.status === "open"; }) : [];
      fill(mine, held, true);
      fill(open, waiting, false);
      var overdue = held.concat(waiting).filter(function (t) { return t.sla === "overdue"; }).length;
      count("mine", held.length);
      count("overdue", overdue);
      count("open", waiting.length);
      document.getElementById("count-overdue").classList.toggle("bad", overdue > 0);
    }, function () { say(T.network, true); });
  }

  document.addEventListener("click", function (event) {
    var b = event.target.closest("button[data-action]");
    if (!b || b.disabled) { return; }
    b.disabled = true;
    var action = b.dataset.action;
    var body = action === "complete" ? {} : undefined;
    A.api("POST", "/api/v1/tasks/" + b.dataset.task + "/" + action, body).then(function (answer) {
      if (answer.ok) {
        say({claim: T.claimed, release: T.released, complete: T.completed}[action], false);
      } else if (answer.status === 409 && action === "claim") {
        say(T.claimedByOther, true);
      } else {
        say(T.failed + " " + ((answer.body && answer.body.message) || answer.status), true);
      }
      return load();
    }, function () { b.disabled = false; say(T.network, true); });
  });

  load();
})();
