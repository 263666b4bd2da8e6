// Polling only while the page is in view: an htmx request from an element marked
// data-poll-when-visible is skipped while the tab is hidden. (htmx's own trigger filter,
// "[document.visibilityState === 'visible']", would need eval, which the CSP refuses.)
document.addEventListener("htmx:confirm", function (event) {
  var elt = event.detail && event.detail.elt;
  if (elt && elt.hasAttribute("data-poll-when-visible") && document.visibilityState !== "visible") {
    event.preventDefault();
  }
});
