/* The console's few browser aids (htmx does the rest). No framework, no network of its own. */
(function () {
  "use strict";
  // Pick and pack: "mark ready" stays disabled until every line is ticked (a UI aid; the server does not track lines).
  function syncPicks() {
    var boxes = document.querySelectorAll(".pick-check");
    var all = Array.prototype.every.call(boxes, function (b) { return b.checked; });
    document.querySelectorAll("[data-requires-picks]").forEach(function (btn) { btn.disabled = !all; });
    var hint = document.getElementById("pick-hint");
    if (hint) { hint.classList.toggle("is-done", all); }
  }
  document.addEventListener("change", function (e) {
    if (e.target.classList && e.target.classList.contains("pick-check")) { syncPicks(); }
  });
  // A form marked data-once disables its buttons once sent (the server is repeat-safe anyway).
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.hasAttribute || !form.hasAttribute("data-once")) { return; }
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
  document.addEventListener("DOMContentLoaded", syncPicks);
})();
