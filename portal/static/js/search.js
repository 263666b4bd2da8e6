// Instant search: arrow keys move through the results under the search box, Escape closes them.
// Without this file (or without JavaScript) the box is a plain GET form.
(function () {
  "use strict";
  function items(box) {
    return Array.prototype.slice.call(box.querySelectorAll("a.instant-item"));
  }
  document.addEventListener("keydown", function (event) {
    var input = document.getElementById("site-search");
    var box = document.getElementById("instant-results");
    if (!input || !box) return;
    var links = items(box);
    var inside = event.target === input || box.contains(event.target);
    if (!inside) return;
    var index = links.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && links.length) {
      event.preventDefault();
      links[Math.min(index + 1, links.length - 1)].focus();
    } else if (event.key === "ArrowUp" && links.length) {
      event.preventDefault();
      if (index <= 0) input.focus(); else links[index - 1].focus();
    } else if (event.key === "Escape") {
      box.innerHTML = "";
      input.focus();
    }
  });
  document.addEventListener("click", function (event) {
    var box = document.getElementById("instant-results");
    var form = box && box.closest("form");
    if (box && form && !form.contains(event.target)) box.innerHTML = "";
  });
  // The hint about instant results, for screen readers, only when they can appear.
  document.addEventListener("DOMContentLoaded", function () {
    var input = document.getElementById("site-search");
    var hint = document.getElementById("instant-hint");
    if (!input || !hint || !window.htmx) return;
    hint.hidden = false;
    input.setAttribute("aria-describedby", "instant-hint");
  });
})();
