/* The console's few browser aids (htmx does the rest). No framework, no network of its own. */
(function () {
  "use strict";
  // Pick and pack: each line's 确认 is recorded on the server (htmx swaps #pick-lines with its answer);
  // "mark ready" follows the server's state (data-all-picked), and the server refuses it anyway until then.
  function syncPicks() {
    var block = document.getElementById("pick-lines");
    var all = !block || block.getAttribute("data-all-picked") === "1";
    document.querySelectorAll("[data-requires-picks]").forEach(function (btn) { btn.disabled = !all; });
    var hint = document.getElementById("pick-hint");
    if (hint) { hint.classList.toggle("is-done", all); }
    return all;
  }
  // After a pick, keep the keyboard where the work is: the next line to confirm, else "mark ready".
  var picking = false;
  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail && e.detail.elt;
    picking = !!(elt && elt.closest && elt.closest("#pick-lines"));
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!picking || !document.getElementById("pick-lines")) { return; }
    picking = false;
    var all = syncPicks();
    var next = all ? document.querySelector("[data-requires-picks]") : document.querySelector("#pick-lines [data-pick-open]");
    if (next) { next.focus(); }
  });
  // A line's 缺货 opens the shortage form with the line named in the reason.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest ? e.target.closest("[data-short-for]") : null;
    if (!btn) { return; }
    var box = document.getElementById("short");
    var reason = box ? box.querySelector("input[name=reason]") : null;
    if (!box || !reason) { return; }
    box.open = true;
    reason.value = btn.getAttribute("data-short-for").slice(0, 160);
    reason.focus();
    reason.select();
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
