/* Search as you type: asks /api/v1/search while the user types and lists the best answers under the box.
   Without JavaScript the form still submits to /search. */
(function () {
  "use strict";

  function safeSnippet(html) {
    // The server escapes snippets and adds only <mark>; keep exactly that and drop anything else.
    var template = document.createElement("template");
    template.innerHTML = html;
    var out = document.createElement("span");
    template.content.childNodes.forEach(function (node) {
      if (node.nodeType === Node.TEXT_NODE) {
        out.appendChild(document.createTextNode(node.textContent));
      } else if (node.nodeName === "MARK") {
        var mark = document.createElement("mark");
        mark.textContent = node.textContent;
        out.appendChild(mark);
      } else {
        out.appendChild(document.createTextNode(node.textContent || ""));
      }
    });
    return out;
  }

  function setup(form) {
    var input = form.querySelector("input[name=q]");
    var panel = form.querySelector(".typeahead");
    var status = form.querySelector("[data-typeahead-status]");
    var api = form.getAttribute("data-api");
    var openUrl = form.getAttribute("data-open");
    var timer = null;
    var sequence = 0;

    function hide() {
      panel.hidden = true;
      input.setAttribute("aria-expanded", "false");
    }

    function render(query, data) {
      panel.textContent = "";
      var list = document.createElement("ul");
      data.results.forEach(function (hit, index) {
        var link = document.createElement("a");
        var params = new URLSearchParams({ q: query, article: hit.article, question: hit.question_id || "",
                                           rank: String(index + 1) });
        link.href = openUrl + "?" + params.toString();
        var question = document.createElement("span");
        question.className = "ta-question";
        question.textContent = hit.question || hit.title;
        var snippet = safeSnippet(hit.snippet);
        snippet.className = "ta-snippet";
        link.appendChild(question);
        link.appendChild(snippet);
        var item = document.createElement("li");
        item.appendChild(link);
        list.appendChild(item);
      });
      var all = document.createElement("a");
      all.className = "ta-all";
      all.href = form.getAttribute("action") + "?" + new URLSearchParams({ q: query }).toString();
      all.textContent = data.results.length ? "See all results for “" + query + "”" : "No instant answers. Search anyway";
      var last = document.createElement("li");
      last.appendChild(all);
      list.appendChild(last);
      panel.appendChild(list);
      panel.hidden = false;
      input.setAttribute("aria-expanded", "true");
      status.textContent = data.results.length + (data.results.length === 1 ? " answer" : " answers") +
        " found. Press the down arrow or Tab to reach them.";
    }

    function lookup() {
      var query = input.value.trim();
      if (query.length < 2) { hide(); return; }
      var mine = ++sequence;
      var url = api + "?" + new URLSearchParams({ q: query, limit: "5", typeahead: "1" }).toString();
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) { if (data && mine === sequence) { render(query, data); } })
        .catch(function () { /* the plain form still works */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, 120);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { hide(); }
      if (event.key === "ArrowDown" && !panel.hidden) {
        var first = panel.querySelector("a");
        if (first) { event.preventDefault(); first.focus(); }
      }
    });
    panel.addEventListener("keydown", function (event) {
      var links = Array.prototype.slice.call(panel.querySelectorAll("a"));
      var at = links.indexOf(document.activeElement);
      if (event.key === "ArrowDown" && at < links.length - 1) { event.preventDefault(); links[at + 1].focus(); }
      if (event.key === "ArrowUp") { event.preventDefault(); (at > 0 ? links[at - 1] : input).focus(); }
      if (event.key === "Escape") { hide(); input.focus(); }
    });
    document.addEventListener("click", function (event) {
      if (!form.contains(event.target)) { hide(); }
    });
  }

  document.querySelectorAll("form[data-typeahead]").forEach(setup);
})();
