/* "Was this article helpful?": votes through the JSON API without leaving the page.
   Without JavaScript the same form posts to /articles/<slug>/vote. */
(function () {
  "use strict";

  var meta = document.querySelector("meta[name=csrf-token]");
  var form = document.querySelector("form.vote-form");
  if (!form || !meta || !window.fetch) { return; }
  var count = document.querySelector("[data-vote-count]");
  var mine = document.querySelector("[data-vote-mine]");
  var reasonForm = document.querySelector("[data-reason-form]");
  var api = form.getAttribute("data-vote-api");

  function send(payload) {
    return fetch(api, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": meta.getAttribute("content") },
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.message || "Your answer could not be saved."); }
        return body;
      });
    });
  }

  function showError(message) {
    mine.textContent = message;
    mine.className = "flash flash-error";
  }

  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || button.name !== "helpful") { return; }
    event.preventDefault();
    var helpful = button.value === "yes";
    var payload = { helpful: helpful };
    send(payload).then(function (counts) {
      count.textContent = counts.total ? counts.helpful + " out of " + counts.total + " found this helpful" : "";
      form.querySelectorAll("button[name=helpful]").forEach(function (b) {
        b.setAttribute("aria-pressed", b === button ? "true" : "false");
      });
      mine.className = "muted";
      mine.textContent = "Thank you for your feedback. You answered " + (helpful ? "Yes" : "No") +
        "; you can change your answer.";
      // The one "what was missing?" box: offered after a No, gone after a Yes.
      if (reasonForm) { reasonForm.hidden = helpful; }
    }).catch(function (error) { showError(error.message); });
  });

  if (reasonForm) {
    reasonForm.addEventListener("submit", function (event) {
      var text = reasonForm.querySelector("textarea").value.trim();
      if (!text) { return; }  // let the browser's required check explain
      event.preventDefault();
      send({ helpful: false, reason: text }).then(function () {
        reasonForm.hidden = true;
        mine.className = "muted";
        mine.textContent = "Thank you: the people who write these articles will read it.";
      }).catch(function (error) { showError(error.message); });
    });
  }
})();
