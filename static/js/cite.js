// The Cite panel's Copy buttons. They are hidden in the HTML, since they need JavaScript, and
// shown here; the result ("Copied") is announced in the status element next to each button.
(function () {
  "use strict";

  function reveal(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function say(status, text) {
    if (!status) return;
    status.textContent = text;
    clearTimeout(status._clear);
    status._clear = setTimeout(function () { status.textContent = ""; }, 2500);
  }

  function selectContents(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copy);
    if (!source) return;
    var status = button.parentElement.querySelector(".copy-status");
    var text = source.textContent.trim();
    var fallback = function () {
      selectContents(source);
      say(status, "Selected — press Ctrl+C to copy");
    };
    if (!navigator.clipboard || !window.isSecureContext) {
      fallback();
      return;
    }
    navigator.clipboard.writeText(text).then(function () { say(status, "Copied"); }, fallback);
  });

  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  // Panels swapped in by htmx ("This version" / "All versions").
  document.addEventListener("htmx:load", function (event) { reveal(event.detail.elt); });
})();
