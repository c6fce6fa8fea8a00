// htmx swaps in only the answers a page expects (its forms answer 200, with their errors in
// them). When the server fails instead (a 5xx, a refusal such as an expired session) or cannot
// be reached, htmx leaves the page as it was: the form keeps what was typed, and this says
// what happened in the page's alert region, so that a click never seems to do nothing.
(function () {
  "use strict";

  function explain(status, serverSays) {
    if (serverSays) return serverSays;
    if (status >= 500) {
      return "Something went wrong on our side (error " + status + "), so nothing was changed. " +
        "What you entered is still here: try again in a moment. The error has been recorded.";
    }
    if (status === 403) {
      return "This was refused (error 403): your session may have ended. Copy anything you " +
        "typed, then reload the page and log in again if asked.";
    }
    return "This could not be done (error " + status + "). Reload the page and try again.";
  }

  function show(text) {
    var region = document.getElementById("request-error");
    if (!region) return;
    region.querySelector("p").textContent = text;
    region.hidden = false;
  }

  document.addEventListener("click", function (event) {
    var region = document.getElementById("request-error");
    if (region && event.target.closest("#request-error button")) region.hidden = true;
  });

  document.addEventListener("htmx:beforeRequest", function () {
    var region = document.getElementById("request-error");
    if (region) region.hidden = true;
  });
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    show(explain(xhr.status, xhr.getResponseHeader("X-Error-Message")));
  });
  document.addEventListener("htmx:sendError", function () {
    show("The hub could not be reached, so nothing was sent. What you entered is still here: " +
      "check your connection and try again.");
  });
})();
