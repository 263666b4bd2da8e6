/* Article editor, attachments: "Insert" puts an image's Markdown into the text, and a refused
   upload (400) is shown in place. Without JavaScript the Markdown stays copyable by hand. */
(function () {
  "use strict";
  if (window.portalEditorLoaded) {
    return; // htmx runs this script again each time it swaps the attachments block in
  }
  window.portalEditorLoaded = true;

  function showInsertButtons(root) {
    if (!document.getElementById("body_md")) {
      return;
    }
    root.querySelectorAll("[data-insert-markdown]").forEach(function (button) {
      button.hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-insert-markdown]");
    var textarea = document.getElementById("body_md");
    if (!button || !textarea) {
      return;
    }
    var snippet = button.getAttribute("data-insert-markdown");
    var text = textarea.value;
    var separator = text === "" || text.endsWith("\n\n") ? "" : text.endsWith("\n") ? "\n" : "\n\n";
    textarea.value = text + separator + snippet + "\n";
    textarea.dispatchEvent(new Event("input", { bubbles: true })); // refreshes the live preview
    textarea.focus();
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "attachments" && event.detail.xhr.status === 400) {
      event.detail.shouldSwap = true; // the block comes back with the error beside the field
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    var form = event.detail.elt.closest ? event.detail.elt.closest("#attachments form") : null;
    if (form && event.detail.xhr.status === 413) {
      form.querySelectorAll("[data-upload-too-large]").forEach(function (message) {
        message.hidden = false;
      });
    }
  });

  document.addEventListener("htmx:afterSettle", function () {
    showInsertButtons(document);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      showInsertButtons(document);
    });
  } else {
    showInsertButtons(document);
  }
})();
