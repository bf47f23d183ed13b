/* A queue on the phone (IndexedDB) for what must reach the server exactly once.
   Each entry carries a client id the server deduplicates on, so sending it twice (an
   answer lost on the way back) records it once. Entries leave the queue only when the
   server has answered: recorded (2xx) or refused for good (4xx other than 401/403). */
(function () {
  "use strict";
  var NAME = "ancillary", STORE = "outbox";

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(NAME, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, {keyPath: "client_id"}); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function run(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode), result;
        tx.oncomplete = function () { db.close(); resolve(result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
        result = work(tx.objectStore(STORE));
        if (result && "onsuccess" in result) {
          var req = result;
          req.onsuccess = function () { result = req.result; };
        }
      });
    });
  }

  function put(entry) { return run("readwrite", function (s) { s.put(entry); }); }
  function remove(id) { return run("readwrite", function (s) { s["delete"](id); }); }
  function all() { return run("readonly", function (s) { return s.getAll(); }); }

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  /* Send every queued entry of `kind` once, oldest first; `send(entry)` resolves {ok, status, body}
     or rejects when the network is down. `report(entry, answer)` hears each final answer. */
  var draining = false;
  function drain(kind, send, report) {
    if (draining) { return Promise.resolve(); }
    draining = true;
    return all().then(function (entries) {
      entries = entries.filter(function (e) { return e.kind === kind; })
        .sort(function (a, b) { return a.queued_at < b.queued_at ? -1 : 1; });
      var chain = Promise.resolve();
      entries.forEach(function (entry) {
        chain = chain.then(function () {
          return send(entry).then(function (answer) {
            var keep = answer.status === 401 || answer.status === 403 || answer.status >= 500;
            return (keep ? Promise.resolve() : remove(entry.client_id)).then(function () { report(entry, answer); });
          });
        });
      });
      return chain;
    }).then(function () { draining = false; }, function (error) { draining = false; throw error; });
  }

  window.OfflineQueue = {put: put, remove: remove, all: all, drain: drain, newId: newId};
})();
