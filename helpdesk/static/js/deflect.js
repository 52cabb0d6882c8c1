/* Deflection on the request form: shows the chosen category's self-help checklist, and while the user types the
   subject or description, the best matching answers from /api/v1/search, each with "This answered my question".
   The answers shown are recorded in the hidden `suggestions` field, so the request says what was offered.
   Without JavaScript every checklist (or the preselected one) is visible and the form works the same. */
(function () {
  "use strict";

  var MAX_RECORDED = 20;
  var form = document.querySelector("form[data-request-form]");
  if (!form) { return; }
  var api = form.getAttribute("data-api");
  var radios = Array.prototype.slice.call(form.querySelectorAll("input[data-category]"));
  var checklists = Array.prototype.slice.call(document.querySelectorAll("[data-checklist]"));
  var hint = document.querySelector("[data-checklist-hint]");
  var searchCategory = document.querySelector("[data-deflect-category]");
  var searchQuery = document.querySelector("[data-deflect-query]");
  var subject = form.querySelector("#subject");
  var inputs = Array.prototype.slice.call(form.querySelectorAll("[data-deflect-input]"));
  var panel = form.querySelector("[data-suggestions-panel]");
  var list = form.querySelector("[data-suggestions]");
  var status = form.querySelector("[data-suggestions-status]");
  var recorded = form.querySelector("[data-suggestions-field]");
  var timer = null;
  var sequence = 0;
  var lastQuery = "";

  function selectedCategory() {
    var checked = radios.filter(function (radio) { return radio.checked; })[0];
    return checked ? checked.value : "";
  }

  function showChecklist() {
    var code = selectedCategory();
    checklists.forEach(function (section) { section.hidden = section.getAttribute("data-checklist") !== code; });
    if (hint) { hint.hidden = code !== ""; }
    // A search answer that helps is counted under the chosen category ("something else" until one is chosen).
    if (searchCategory) { searchCategory.value = code || "other"; }
  }

  function record(ids) {
    var known = recorded.value.split(/\s+/).filter(Boolean);
    ids.forEach(function (id) {
      if (known.indexOf(id) === -1 && known.length < MAX_RECORDED) { known.push(id); }
    });
    recorded.value = known.join(" ");
  }

  function answerId(hit) {
    return hit.question_id ? hit.article + "#" + hit.question_id : hit.article;
  }

  function render(results) {
    list.textContent = "";
    results.forEach(function (hit) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = hit.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = hit.question || hit.title;
      var note = document.createElement("span");
      note.className = "visually-hidden";
      note.textContent = " (opens in a new tab)";
      link.appendChild(note);
      var button = document.createElement("button");
      button.type = "submit";
      button.className = "answered";
      button.setAttribute("form", "deflect-search");
      button.name = "answer";
      button.value = answerId(hit);
      button.textContent = "This answered my question";
      item.appendChild(link);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(button);
      list.appendChild(item);
    });
    panel.hidden = results.length === 0;
    status.textContent = results.length === 1 ? "1 answer may help:" : results.length + " answers may help:";
    record(results.map(answerId));
    // What the person called the problem: if an answer helps, search learns that phrasing of it.
    if (searchQuery && subject) { searchQuery.value = subject.value.trim().slice(0, 200); }
  }

  function lookup() {
    var query = inputs.map(function (input) { return input.value; }).join(" ").replace(/\s+/g, " ").trim();
    query = query.slice(0, 200);
    if (query.length < 3 || query === lastQuery) { return; }
    lastQuery = query;
    var mine = ++sequence;
    var url = api + "?" + new URLSearchParams({ q: query, typeahead: "1", limit: "5" }).toString();
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        // Only the newest lookup may paint: an older, slower answer must not replace it.
        if (data && mine === sequence && data.results.length) { render(data.results); }
      })
      .catch(function () { /* suggestions are a help, never a condition of sending */ });
  }

  radios.forEach(function (radio) { radio.addEventListener("change", showChecklist); });
  inputs.forEach(function (input) {
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, 300);
    });
  });
  showChecklist();
})();
