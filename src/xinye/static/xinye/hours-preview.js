// The station form's opening hours, read out as the finder will show them (issue 16): on each change of the
// field, the server's reading (/stations/hours-preview/) in the page's language, or its error. No inline
// script: the form marks the field's preview with data-hours-preview="URL".
(function () {
  "use strict";
  var out = document.querySelector("[data-hours-preview]");
  var field = document.querySelector("input[name=opening_hours]");
  if (!out || !field) return;
  var url = out.getAttribute("data-hours-preview");
  var box = out.closest("[data-hours-box]");
  var holder = field.closest("p");
  if (box && holder) holder.after(box); // right under the field it reads
  var timer = null;
  var asked = 0;
  function show() {
    var value = field.value.trim();
    var n = ++asked;
    fetch(url + "?value=" + encodeURIComponent(value), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || n !== asked) return; // a later keystroke's answer wins
        out.textContent = data.ok ? data.text : data.error;
        out.classList.toggle("errorlist", !data.ok);
        field.setAttribute("aria-invalid", data.ok ? "false" : "true");
      })
      .catch(function () { /* offline: the form still checks the value when saved */ });
  }
  field.setAttribute("aria-describedby", (field.getAttribute("aria-describedby") || "") + " hours-preview");
  field.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(show, 250);
  });
  show();
})();
