// Follow a solve: poll its status every half second, show its progress, send the cancel.
(function () {
  "use strict";
  var box = document.getElementById("job");
  var id = box.getAttribute("data-id");
  var shown = { state: document.getElementById("state"), progress: document.getElementById("progress"),
    message: document.getElementById("message"), elapsed: document.getElementById("elapsed") };
  var cancel = document.getElementById("cancel");

  function number(v, digits) { return v === null || v === undefined ? "-" : Number(v).toPrecision(digits); }

  function show(job) {
    shown.state.textContent = job.state;
    shown.elapsed.textContent = "(" + job.elapsed + " s)";
    var p = job.progress || {};
    if (p.phase) {
      var text = p.phase + (p.stage ? " (" + p.stage + ")" : "");
      if (p.objective !== undefined && p.objective !== null) {
        text += ": best " + number(p.objective, 7) + ", bound " + number(p.bound, 7) +
          ", gap " + (p.gap === null ? "-" : (100 * p.gap).toFixed(2) + "%");
      }
      shown.progress.textContent = text;
    }
    if (job.message) { shown.message.hidden = false; shown.message.textContent = job.message; }
  }

  function poll() {
    fetch("/jobs/" + id + "/status", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        show(job);
        if (job.state === "done") { window.location.assign("/scenarios/" + job.key); return; }
        if (job.state === "error" || job.state === "cancelled") { cancel.disabled = true; return; }
        window.setTimeout(poll, 500);
      })
      .catch(function (e) { shown.message.hidden = false; shown.message.textContent = "lost the server: " + e; });
  }

  cancel.addEventListener("click", function () {
    cancel.disabled = true;
    fetch("/jobs/" + id + "/cancel", { method: "POST", credentials: "same-origin" })
      .then(function (r) { return r.json(); }).then(show);
  });
  poll();
})();
