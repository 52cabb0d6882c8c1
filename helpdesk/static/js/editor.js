// The editor's live preview: the same server renderer and sanitiser as the article page, fetched while typing
// (debounced). Without this script the Preview button does the same with a full page.
(function () {
  "use strict";
  var form = document.getElementById("editor-form");
  var target = document.getElementById("preview");
  if (!form || !target) { return; }
  var token = document.querySelector('meta[name="csrf-token"]');
  var timer = null;
  var sent = 0;

  function refresh() {
    var mine = ++sent;
    var data = new FormData();
    data.append("body", form.elements.body.value);
    data.append("slug", form.dataset.slug || (form.elements.slug ? form.elements.slug.value : ""));
    fetch(form.dataset.previewUrl, {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"X-CSRFToken": token ? token.content : ""}
    }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html !== null && mine === sent) { target.innerHTML = html; }  // sanitised by the server
    }).catch(function () { /* offline: the Preview button still works */ });
  }

  form.elements.body.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
}());
