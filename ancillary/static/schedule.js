// The scheduler's week view: talks to /api/v1 with the signed-in bearer token.
(function () {
  "use strict";
  const T = JSON.parse(document.getElementById("strings").textContent);
  const API = "/api/v1";
  const DAY_START = 8 * 60, DAY_END = 18 * 60; // the grid shows 08:00-18:00 local time
  const TZ = "+08:00";
  let rooms = [], me = null, selectedTask = null;
  const venueName = venue => venue === "main" ? T.mainCourt : venue;

  document.querySelectorAll("[data-t]").forEach(el => { el.textContent = T[el.dataset.t]; });
  document.getElementById("sign-out").textContent = T.signOut;

  const token = () => sessionStorage.getItem("ancillary-token");
  async function api(path, options = {}) {
    const headers = Object.assign({"Authorization": "Bearer " + token()}, options.body ? {"Content-Type": "application/json"} : {});
    const response = await fetch(API + path, Object.assign({}, options, {headers}));
    const body = await response.json().catch(() => ({}));
    if (response.status === 401) { sessionStorage.removeItem("ancillary-token"); showLogin(); }
    return {status: response.status, body};
  }
  const pad = n => String(n).padStart(2, "0");
  const ymd = d => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const local = iso => iso.slice(0, 16).replace("T", " ");
  const minutesOf = iso => Number(iso.slice(11, 13)) * 60 + Number(iso.slice(14, 16));
  function monday(value) {
    const d = value ? new Date(value + "T00:00:00") : new Date();
    d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
    return d;
  }
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    children.forEach(c => node.append(c));
    return node;
  }

  function showLogin() {
    document.getElementById("login").hidden = false;
    document.getElementById("app").hidden = true;
    document.getElementById("week-nav").hidden = true;
  }
  document.getElementById("login").addEventListener("submit", async event => {
    event.preventDefault();
    const form = new FormData(event.target);
    const response = await fetch(API + "/auth/tokens", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({username: form.get("username"), password: form.get("password")})});
    if (response.status !== 201 && response.status !== 200) {
      document.getElementById("login-error").textContent = T.signInFailed; return;
    }
    sessionStorage.setItem("ancillary-token", (await response.json()).token);
    start();
  });
  document.getElementById("sign-out").addEventListener("click", () => { sessionStorage.removeItem("ancillary-token"); showLogin(); });

  const weekInput = document.getElementById("week");
  function shiftWeek(days) { const d = monday(weekInput.value); d.setDate(d.getDate() + days); weekInput.value = ymd(d); render(); }
  document.getElementById("prev-week").addEventListener("click", () => shiftWeek(-7));
  document.getElementById("next-week").addEventListener("click", () => shiftWeek(7));
  weekInput.addEventListener("change", () => { weekInput.value = ymd(monday(weekInput.value)); render(); });

  async function render() {
    const first = monday(weekInput.value), last = new Date(first);
    last.setDate(last.getDate() + 7);
    const [hearings, days] = await Promise.all([
      api(`/hearings?from=${ymd(first)}T00:00:00${encodeURIComponent(TZ)}&to=${ymd(last)}T00:00:00${encodeURIComponent(TZ)}&status=booked&limit=1000`),
      api(`/court-days?from=${ymd(first)}&to=${ymd(new Date(last - 86400000))}`),
    ]);
    const grid = document.getElementById("grid");
    grid.replaceChildren();
    const hours = el("div", {class: "hours"}, el("span"));
    for (let h = 8; h < 18; h++) hours.append(el("span", {}, `${pad(h)}:00`));
    (days.body || []).forEach((day, index) => {
      const section = el("div", {class: "day" + (day.is_working ? "" : " closed"), "data-day": day.day,
                                 "data-closed": T.holiday + (day.name ? ` (${day.name})` : "")},
                         el("h3", {}, `${T.weekdays[index]} ${day.day}`));
      if (day.is_working) {
        section.append(hours.cloneNode(true));
        rooms.forEach(room => {
          const track = el("div", {class: "track", "data-room": room.id});
          (hearings.body.items || []).filter(h => h.courtroom_id === room.id && h.starts_at.slice(0, 10) === day.day)
            .forEach(h => {
              const left = (minutesOf(h.starts_at) - DAY_START) / (DAY_END - DAY_START) * 100;
              const width = (minutesOf(h.ends_at) - minutesOf(h.starts_at)) / (DAY_END - DAY_START) * 100;
              track.append(el("div", {class: `hearing kind-${h.case.kind} lane-${h.lane}` + (h.overlap ? " overlap" : ""),
                "data-hearing": h.id, style: `left:${left}%;width:${width}%`,
                title: `${h.case.number} ${local(h.starts_at)}-${h.ends_at.slice(11, 16)} ${T.kinds[h.case.kind]}` +
                       (h.overlap ? ` (${T.overlap})` : "")}, h.case.number));
            });
          section.append(el("div", {class: "row"}, el("div", {class: "room"}, `${room.name} · ${venueName(room.venue)}`), track));
        });
      }
      grid.append(section);
    });
    await renderQueue();
  }

  async function renderQueue() {
    const queue = document.getElementById("queue");
    // Without a status the queue lists open and claimed tasks: keep the open ones and those this scheduler holds.
    const lists = await Promise.all(["trial", "enforcement"].map(q => api(`/tasks?queue=${q}&kind=schedule_hearing&limit=1000`)));
    const tasks = lists.flatMap(l => l.body.items || [])
      .filter(task => task.status === "open" || (task.status === "claimed" && me && task.assignee_id === me.id))
      .sort((a, b) => a.priority - b.priority || a.due_at.localeCompare(b.due_at));
    queue.replaceChildren(...tasks.map(task => {
      const mine = task.status === "claimed";
      const classes = [selectedTask && selectedTask.case_id === task.case_id ? "active" : "", mine ? "mine" : ""];
      return el("li", {}, el("button", {type: "button", "data-case": task.case_id, "data-status": task.status,
        class: classes.filter(Boolean).join(" "), onclick: () => suggest(task)},
        `${task.case_number} · ${T.kinds[task.case_kind] || task.case_kind} · ${T.due} ${local(task.due_at)}` +
        (mine ? ` · ${T.mine}` : "")));
    }));
    if (!tasks.length) queue.append(el("li", {}, T.noPending));
  }

  async function suggest(task) {
    selectedTask = task;
    document.querySelectorAll("#queue button").forEach(b => b.classList.toggle("active", Number(b.dataset.case) === task.case_id));
    document.getElementById("suggest-for").textContent = task.case_number;
    const list = document.getElementById("suggestions");
    // The explained list: the same slots as /hearings/suggestions and, when there is none, the reason.
    const response = await api(`/hearings/suggestions/explained?case_id=${task.case_id}&limit=8`);
    const slots = response.status === 200 ? response.body.slots || [] : [];
    list.replaceChildren(...slots.map(slot => el("li", {}, el("button", {type: "button", class: "slot",
      onclick: () => book(task, slot)},
      `${T.book}: ${slot.courtroom_name} · ${local(slot.starts_at)}-${slot.ends_at.slice(11, 16)}` + (slot.overlap ? ` (${T.overlap})` : "")))));
    if (!slots.length) {
      const reason = response.status === 200 ? response.body.reason : response.body;
      const item = el("li", {class: "no-slot"}, T.noSuggestions);
      if (reason && reason.message) item.append(el("br"), el("span", {class: "reason", "data-code": reason.code || reason.error || ""}, reason.message));
      list.append(item);
    }
  }

  async function book(task, slot) {
    const response = await api("/hearings", {method: "POST", body: JSON.stringify({case_id: task.case_id,
      courtroom_id: slot.courtroom_id, starts_at: slot.starts_at, ends_at: slot.ends_at})});
    const message = document.getElementById("message");
    if (response.status === 201) {
      message.textContent = `${T.booked}: ${task.case_number} ${local(slot.starts_at)}`;
      selectedTask = null;
      document.getElementById("suggestions").replaceChildren();
      document.getElementById("suggest-for").textContent = "";
      weekInput.value = ymd(monday(slot.starts_at.slice(0, 10)));
    } else {
      message.textContent = `${T.refused}: ${response.body.message || response.status}`;
    }
    await render();
  }

  async function start() {
    const who = await api("/me");
    if (who.status !== 200) { showLogin(); return; }
    me = who.body;
    document.getElementById("login").hidden = true;
    document.getElementById("app").hidden = false;
    document.getElementById("week-nav").hidden = false;
    rooms = (await api("/courtrooms?limit=1000")).body;
    const wanted = new URLSearchParams(location.search).get("week");
    weekInput.value = ymd(monday(wanted));
    await render();
  }

  if (token()) start(); else showLogin();
})();
