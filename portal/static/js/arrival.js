// A page htmx loads in place (a form answered with HX-Location) arrives like a page the browser
// loads, and is told like one to a screen reader: focus moves to what the URL's #anchor names
// (the message just sent, say) instead of falling to the top, and the page's messages
// ("Reply sent.") are put into their live region once it is there, so they are read out.
// Without JavaScript the browser follows the same #anchor after the redirect.
(function () {
  "use strict";
  var handled = typeof WeakSet === "function" ? new WeakSet() : null;
  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";

  function focusAnchor(anchor) {
    var target = anchor && document.getElementById(decodeURIComponent(anchor));
    if (!target) return;
    if (!target.matches(FOCUSABLE)) target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: true });
  }

  function announceFlashes() {
    var region = document.getElementById("flashes");
    if (!region || !region.firstElementChild) return;
    var messages = Array.prototype.slice.call(region.childNodes);
    region.replaceChildren();
    region.setAttribute("role", "status");
    // Screen readers read what changes in a live region, not what it held when it appeared.
    window.setTimeout(function () {
      messages.forEach(function (node) {
        region.appendChild(node);
      });
    }, 150);
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var detail = event.detail || {};
    if (detail.target !== document.body || !detail.xhr) return; // whole pages only
    if (handled) {
      if (handled.has(detail.xhr)) return; // once per page, not once per swapped element
      handled.add(detail.xhr);
    }
    focusAnchor(detail.pathInfo && detail.pathInfo.anchor);
    announceFlashes();
  });
})();
