/* Shared by every page: call the API with the session cookie and the CSRF token, show
   errors next to their fields, and make a form send only once. No framework, no CDN. */
(function () {
  "use strict";
  var csrfMeta = document.querySelector("meta[name=csrf-token]");

  function csrf() { return csrfMeta ? csrfMeta.getAttribute("content") : ""; }

  /* fetch() a JSON API path; resolves {ok, status, body} and never throws on 4xx. */
  function api(method, path, body) {
    var options = {method: method, credentials: "same-origin", headers: {"Accept": "application/json"}};
    if (method !== "GET") { options.headers["X-CSRF-Token"] = csrf(); }
    if (body instanceof FormData) {
      options.body = body;
    } else if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      var read = type.indexOf("json") >= 0 ? response.json() : Promise.resolve(null);
      return read.then(function (data) { return {ok: response.ok, status: response.status, body: data}; });
    });
  }

  /* The first field name in an API error: "parties.1.id_number" or the flask-smorest errors map. */
  function errorFields(body) {
    var found = {};
    if (!body) { return found; }
    if (body.field) { found[body.field] = body.message; }
    var errors = body.errors && (body.errors.json || body.errors.form || body.errors.files || body.errors);
    function walk(value, path) {
      if (Array.isArray(value) && value.every(function (v) { return typeof v === "string"; })) {
        if (!found[path]) { found[path] = value.join(" "); }
      } else if (value && typeof value === "object") {
        Object.keys(value).forEach(function (key) { walk(value[key], path ? path + "." + key : key); });
      }
    }
    if (errors && typeof errors === "object" && !Array.isArray(errors)) { walk(errors, ""); }
    return found;
  }

  /* Put each error next to the element whose data-field (or name) matches; the rest into `general`. */
  function showErrors(form, body, general) {
    clearErrors(form);
    var fields = errorFields(body);
    var shown = false;
    Object.keys(fields).forEach(function (name) {
      var slot = null, path = name;
      while (!slot && path) {  /* "parties.0.phones.1" falls back to "parties.0.phones" */
        slot = form.querySelector("[data-error-for='" + path + "']");
        path = path.indexOf(".") > 0 ? path.slice(0, path.lastIndexOf(".")) : "";
      }
      if (slot) {
        slot.textContent = slot.textContent ? slot.textContent + " " + fields[name] : fields[name];
        var box = slot.closest(".field");
        if (box) { box.classList.add("invalid"); }
        shown = true;
      }
    });
    if (general && !shown) {
      general.textContent = (body && body.message) || general.getAttribute("data-fallback") || "";
      if (!general.hasAttribute("data-error-for")) { general.className = "notice bad"; }
    } else if (general && !general.hasAttribute("data-error-for")) {
      general.textContent = "";
    }
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach(function (slot) { slot.textContent = ""; });
    form.querySelectorAll(".field.invalid").forEach(function (box) { box.classList.remove("invalid"); });
  }

  /* Disable the submit buttons while a form is on its way: a second tap sends nothing. */
  function busy(form, on) {
    form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) { b.disabled = on; });
    form.dataset.busy = on ? "1" : "";
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-once")) { return; }
    if (form.dataset.busy) { event.preventDefault(); return; }
    form.dataset.busy = "1";
    setTimeout(function () { busy(form, true); }, 0);
  });

  function strings(id) {
    var node = document.getElementById(id || "strings");
    return node ? JSON.parse(node.textContent) : {};
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; }
      else if (key === "class") { node.className = attrs[key]; }
      else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  window.Ancillary = {api: api, csrf: csrf, showErrors: showErrors, clearErrors: clearErrors, busy: busy,
                      errorFields: errorFields, strings: strings, el: el};
})();
