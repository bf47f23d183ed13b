/* /schedule: the week's hearings by room, readable on a phone; click one to move or cancel it;
   the scheduler's queue (overdue first), suggestions, and auto-scheduling with a preview.
   Everything goes through /api/v1 with the session cookie (Ancillary.api adds the CSRF header). */
(function () {
  "use strict";
  var A = window.Ancillary, T = A.strings(), el = A.el;
  var DAY_START = 8 * 60, DAY_END = 18 * 60, TZ = "+08:00";
  var rooms = [], me = null, selectedTask = null, hearingsById = {}, lastPreview = null;
  var weekInput = document.getElementById("week");
  var message = document.getElementById("message");
  var dialog = document.getElementById("hearing-dialog");

  document.querySelectorAll("[data-t]").forEach(function (node) { node.textContent = T[node.dataset.t]; });

  function pad(n) { return String(n).padStart(2, "0"); }
  function ymd(d) { return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }
  function hm(iso) { return iso.slice(11, 16); }
  function minutesOf(iso) { return Number(iso.slice(11, 13)) * 60 + Number(iso.slice(14, 16)); }
  function clock(minutes) { return pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60); }
  function venueName(venue) { return venue === "main" ? T.mainCourt : venue; }
  function monday(value) {
    var d = value ? new Date(value + "T00:00:00") : new Date();
    d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
    return d;
  }
  /* "(2026)鲁1002民初123号" reads "民初123号": the year and court prefix are the same all week. */
  function shortNumber(number) { return number.replace(/^[(（]\d{4}[)）][^\d]*\d+/, "") || number; }
  function say(text, bad) { message.textContent = text; message.className = "notice" + (bad ? " bad" : " ok"); }
  function kindName(kind) { return T.kinds[kind] || kind; }

  function shiftWeek(days) { var d = monday(weekInput.value); d.setDate(d.getDate() + days); weekInput.value = ymd(d); render(); }
  document.getElementById("prev-week").addEventListener("click", function () { shiftWeek(-7); });
  document.getElementById("next-week").addEventListener("click", function () { shiftWeek(7); });
  weekInput.addEventListener("change", function () { weekInput.value = ymd(monday(weekInput.value)); render(); });

  function label(h) {
    return [shortNumber(h.case.number), kindName(h.case.kind), h.judge_name || ""];
  }
  function title(h) {
    return h.case.number + " · " + kindName(h.case.kind) + " · " + (h.judge_name || "") + " · " +
      h.courtroom_name + " " + hm(h.starts_at) + "–" + hm(h.ends_at) + (h.overlap ? " · " + T.overlap : "");
  }
  function block(h) {
    var left = (minutesOf(h.starts_at) - DAY_START) / (DAY_END - DAY_START) * 100;
    var width = (minutesOf(h.ends_at) - minutesOf(h.starts_at)) / (DAY_END - DAY_START) * 100;
    var node = el("button", {type: "button", "class": "hearing kind-" + h.case.kind + " lane-" + h.lane +
      (h.overlap ? " overlap" : ""), "data-hearing": h.id, title: title(h), "aria-label": title(h)},
      label(h).map(function (text) { return el("span", {text: text}); }));
    node.style.left = left + "%";
    node.style.width = width + "%";
    return node;
  }
  function lunchBand(room) {
    if (!room.lunch_starts) { return null; }
    var band = el("div", {"class": "lunch", title: room.lunch_starts + "–" + room.lunch_ends});
    band.style.left = (minutesOf("0000-00-00T" + room.lunch_starts) - DAY_START) / (DAY_END - DAY_START) * 100 + "%";
    band.style.width = (minutesOf("0000-00-00T" + room.lunch_ends) - minutesOf("0000-00-00T" + room.lunch_starts)) /
      (DAY_END - DAY_START) * 100 + "%";
    return band;
  }
  function dayView(day, index, hearings) {
    var section = el("div", {"class": "day" + (day.is_working ? "" : " closed"), "data-day": day.day,
      "data-closed": T.holiday + (day.name ? " (" + day.name + ")" : "")}, [el("h3", {text: T.weekdays[index] + " " + day.day})]);
    if (!day.is_working) { return section; }
    var todays = hearings.filter(function (h) { return h.starts_at.slice(0, 10) === day.day; });
    var hours = el("div", {"class": "hours"}, [el("span")]);
    for (var h = 8; h < 18; h++) { hours.appendChild(el("span", {text: pad(h) + ":00"})); }
    var tracks = el("div", {"class": "tracks"}, [hours]);
    var agenda = el("ol", {"class": "agenda"});
    rooms.forEach(function (room) {
      var track = el("div", {"class": "track", "data-room": room.id}, [lunchBand(room)]);
      todays.filter(function (x) { return x.courtroom_id === room.id; }).forEach(function (x) { track.appendChild(block(x)); });
      tracks.appendChild(el("div", {"class": "roomrow"}, [el("div", {"class": "room", text: room.name + " · " + venueName(room.venue)}), track]));
    });
    todays.slice().sort(function (a, b) { return a.starts_at.localeCompare(b.starts_at); }).forEach(function (x) {
      agenda.appendChild(el("li", {}, [el("button", {type: "button", "class": "hearing-item kind-" + x.case.kind + (x.overlap ? " overlap" : ""),
        "data-hearing": x.id, text: hm(x.starts_at) + "–" + hm(x.ends_at) + " " + x.courtroom_name + " · " + label(x).join(" · ")})]));
    });
    section.appendChild(tracks);
    section.appendChild(agenda);
    return section;
  }

  function render() {
    var first = monday(weekInput.value), last = new Date(first);
    last.setDate(last.getDate() + 7);
    var span = "from=" + ymd(first) + "T00:00:00" + encodeURIComponent(TZ) + "&to=" + ymd(last) + "T00:00:00" + encodeURIComponent(TZ);
    return Promise.all([
      A.api("GET", "/api/v1/hearings?" + span + "&status=booked&limit=1000"),
      A.api("GET", "/api/v1/court-days?from=" + ymd(first) + "&to=" + ymd(new Date(last - 86400000)))
    ]).then(function (answers) {
      var hearings = (answers[0].body && answers[0].body.items) || [];
      hearingsById = {};
      hearings.forEach(function (h) { hearingsById[h.id] = h; });
      var grid = document.getElementById("grid");
      grid.replaceChildren.apply(grid, (answers[1].body || []).map(function (day, i) { return dayView(day, i, hearings); }));
      return renderQueue();
    });
  }

  document.getElementById("grid").addEventListener("click", function (event) {
    var target = event.target.closest("[data-hearing]");
    if (target) { openHearing(hearingsById[target.dataset.hearing]); }
  });

  /* --- one hearing: see, move, cancel ------------------------------------------------------- */
  var current = null;
  function openHearing(h) {
    if (!h) { return; }
    current = h;
    document.getElementById("hearing-title").textContent = h.case.number;
    var facts = document.getElementById("hearing-facts");
    var rows = [[T.kindLabel, kindName(h.case.kind)], [T.judgeLabel, h.judge_name || ""],
                [T.roomLabel, h.courtroom_name + " · " + venueName(h.venue)],
                [T.timeLabel, h.starts_at.slice(0, 10) + " " + hm(h.starts_at) + "–" + hm(h.ends_at)]];
    if (h.overlap) { rows.push([T.overlap, "✓"]); }
    facts.replaceChildren.apply(facts, rows.reduce(function (all, row) {
      return all.concat([el("dt", {text: row[0]}), el("dd", {text: row[1]})]);
    }, []));
    document.getElementById("move-day").value = h.starts_at.slice(0, 10);
    document.getElementById("move-start").value = hm(h.starts_at);
    var select = document.getElementById("move-room");
    select.replaceChildren.apply(select, rooms.filter(function (r) { return r.venue === h.venue; }).map(function (r) {
      var option = el("option", {value: r.id, text: r.name});
      if (r.id === h.courtroom_id) { option.selected = true; }
      return option;
    }));
    document.getElementById("cancel-reason").value = "";
    ["move-form", "cancel-form"].forEach(function (id) { A.clearErrors(document.getElementById(id)); });
    document.getElementById("dialog-error").hidden = true;
    dialog.showModal();
  }
  function refused(form, answer) {
    A.showErrors(form, answer.body);
    var box = document.getElementById("dialog-error");
    box.textContent = (answer.body && answer.body.message) || T.failed;
    box.hidden = false;
  }
  document.getElementById("move-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var h = current, form = event.target;
    var length = minutesOf(h.ends_at) - minutesOf(h.starts_at);
    var day = document.getElementById("move-day").value, start = document.getElementById("move-start").value;
    var startMin = Number(start.slice(0, 2)) * 60 + Number(start.slice(3, 5));
    A.api("PATCH", "/api/v1/hearings/" + h.id, {courtroom_id: Number(document.getElementById("move-room").value),
      starts_at: day + "T" + start + ":00" + TZ, ends_at: day + "T" + clock(startMin + length) + ":00" + TZ})
      .then(function (answer) {
        if (!answer.ok) { refused(form, answer); return; }
        dialog.close();
        say(T.moved + " " + h.case.number + " → " + day + " " + start);
        render();
      });
  });
  document.getElementById("cancel-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var h = current, form = event.target;
    A.api("POST", "/api/v1/hearings/" + h.id + "/cancel", {reason: document.getElementById("cancel-reason").value})
      .then(function (answer) {
        if (!answer.ok) { refused(form, answer); return; }
        dialog.close();
        say(T.cancelled + " " + h.case.number);
        render();
      });
  });

  /* --- the scheduler's queue and suggestions ------------------------------------------------ */
  function renderQueue() {
    var queue = document.getElementById("queue");
    if (!queue) { return Promise.resolve(); }
    return Promise.all(["trial", "enforcement"].map(function (q) {
      return A.api("GET", "/api/v1/tasks?queue=" + q + "&kind=schedule_hearing&limit=1000");
    })).then(function (lists) {
      var now = new Date().toISOString();
      var tasks = lists.reduce(function (all, l) { return all.concat((l.body && l.body.items) || []); }, [])
        .filter(function (t) { return t.status === "open" || (t.status === "claimed" && me && t.assignee_id === me.id); });
      tasks.forEach(function (t) { t.isOverdue = t.sla ? t.sla === "overdue" : new Date(t.due_at).toISOString() < now; });
      tasks.sort(function (a, b) { return (b.isOverdue - a.isOverdue) || (a.priority - b.priority) || a.due_at.localeCompare(b.due_at); });
      queue.replaceChildren.apply(queue, tasks.map(function (task) {
        var mine = task.status === "claimed";
        var classes = [selectedTask && selectedTask.case_id === task.case_id ? "active" : "", mine ? "mine" : "",
                       task.isOverdue ? "overdue" : ""].filter(Boolean).join(" ");
        var button = el("button", {type: "button", "data-case": task.case_id, "data-status": task.status, "class": classes,
          text: task.case_number + " · " + kindName(task.case_kind) + " · " + (task.isOverdue ? T.overdue : T.due) + " " +
                task.due_at.slice(0, 16).replace("T", " ") + (mine ? " · " + T.mine : "")});
        button.addEventListener("click", function () { suggest(task); });
        return el("li", {}, [button]);
      }));
      if (!tasks.length) { queue.appendChild(el("li", {text: T.noPending})); }
    });
  }

  function suggest(task) {
    selectedTask = task;
    document.querySelectorAll("#queue button").forEach(function (b) { b.classList.toggle("active", Number(b.dataset.case) === task.case_id); });
    document.getElementById("suggest-for").textContent = task.case_number;
    var list = document.getElementById("suggestions");
    A.api("GET", "/api/v1/hearings/suggestions/explained?case_id=" + task.case_id + "&limit=8").then(function (answer) {
      var slots = answer.status === 200 ? answer.body.slots || [] : [];
      list.replaceChildren.apply(list, slots.map(function (slot) {
        var button = el("button", {type: "button", "class": "slot", text: T.book + ": " + slot.courtroom_name + " · " +
          slot.starts_at.slice(0, 10) + " " + hm(slot.starts_at) + "–" + hm(slot.ends_at) + (slot.overlap ? " (" + T.overlap + ")" : "")});
        button.addEventListener("click", function () { book(task, slot); });
        return el("li", {}, [button]);
      }));
      if (!slots.length) {
        var reason = answer.status === 200 ? answer.body.reason : answer.body;
        var item = el("li", {"class": "no-slot", text: T.noSuggestions});
        if (reason && reason.message) {
          item.appendChild(el("br"));
          item.appendChild(el("span", {"class": "reason", "data-code": reason.code || reason.error || "", text: reason.message}));
        }
        list.appendChild(item);
      }
    });
  }

  function book(task, slot) {
    A.api("POST", "/api/v1/hearings", {case_id: task.case_id, courtroom_id: slot.courtroom_id,
      starts_at: slot.starts_at, ends_at: slot.ends_at}).then(function (answer) {
      if (answer.status === 201) {
        say(T.booked + ": " + task.case_number + " " + slot.starts_at.slice(0, 10) + " " + hm(slot.starts_at));
        selectedTask = null;
        document.getElementById("suggestions").replaceChildren();
        document.getElementById("suggest-for").textContent = "";
        weekInput.value = ymd(monday(slot.starts_at.slice(0, 10)));
      } else {
        say(T.refused + ": " + ((answer.body && answer.body.message) || answer.status), true);
      }
      render();
    });
  }

  /* --- auto-scheduling: preview, then confirm ------------------------------------------------ */
  function planItems(items, unscheduled) {
    return items.map(function (x) {
      var text = unscheduled ? x.case_number : x.case_number + " · " + x.starts_at.slice(0, 10) + " " + hm(x.starts_at) + "–" + hm(x.ends_at);
      var li = el("li", {"data-case": x.case_id, text: text});
      if (unscheduled) { li.appendChild(el("span", {"class": "reason", text: " — " + (T.reasons[x.reason] || x.detail || x.reason)})); }
      return li;
    });
  }
  function key(items) { return items.map(function (x) { return [x.case_id, x.courtroom_id, x.starts_at].join("|"); }).sort().join(";"); }
  var autoForm = document.getElementById("auto-form");
  if (autoForm) {
    autoForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var span = {from: autoForm.from.value, to: autoForm.to.value};
      A.api("POST", "/api/v1/scheduling/auto", {from: span.from, to: span.to, dry_run: true})
        .then(function (answer) {
          if (!answer.ok) { A.showErrors(autoForm, answer.body); document.getElementById("auto-plan").hidden = true; return; }
          A.clearErrors(autoForm);
          lastPreview = answer.body;
          lastPreview.window = span;
          var s = document.getElementById("auto-scheduled"), u = document.getElementById("auto-unscheduled");
          s.replaceChildren.apply(s, planItems(answer.body.scheduled, false));
          u.replaceChildren.apply(u, planItems(answer.body.unscheduled, true));
          if (!answer.body.scheduled.length) { s.appendChild(el("li", {text: T.nothing})); }
          document.getElementById("auto-confirm").disabled = !answer.body.scheduled.length;
          document.getElementById("auto-plan").hidden = false;
        });
    });
    document.getElementById("auto-confirm").addEventListener("click", function () {
      var confirmButton = this;
      confirmButton.disabled = true;
      A.api("POST", "/api/v1/scheduling/auto", {from: lastPreview.window.from, to: lastPreview.window.to, dry_run: false})
        .then(function (answer) {
          document.getElementById("auto-plan").hidden = true;
          if (!answer.ok) { say((answer.body && answer.body.message) || T.failed, true); return; }
          var same = key(answer.body.scheduled) === key(lastPreview.scheduled);
          say((same ? T.confirmed : T.differs) + " (" + answer.body.scheduled.length + ")", !same);
          render();
        });
    });
  }

  A.api("GET", "/api/v1/me").then(function (who) {
    me = who.body;
    return A.api("GET", "/api/v1/courtrooms?limit=1000");
  }).then(function (answer) {
    rooms = answer.body || [];
    var wanted = new URLSearchParams(location.search).get("week");
    weekInput.value = ymd(monday(wanted));
    if (autoForm) {
      autoForm.from.value = weekInput.value;
      var end = monday(wanted); end.setDate(end.getDate() + 4);
      autoForm.to.value = ymd(end);
    }
    render();
  });
  /* A booking made elsewhere on the page (an accepted proposal, schedule_proposals.js) redraws the week. */
  document.addEventListener("schedule:changed", function () { render(); });
})();
