// The request form: the step-one choices reload the column offer; every change to the request
// is checked on the server against the contract rules (POST /request/check) and the problems,
// the row filter as SQL and in words are shown. Text is set with textContent only.
(function () {
  "use strict";
  var choose = document.getElementById("choose");
  ["provider", "dataset", "purpose"].forEach(function (id) {
    var el = document.getElementById(id);
    if (el) { el.addEventListener("change", function () { choose.submit(); }); }
  });
  var form = document.getElementById("request");
  if (!form) { return; }
  var timer = null, seq = 0;
  function show(data) {
    var list = document.getElementById("live-problems");
    list.replaceChildren();
    (data.problems || []).forEach(function (p) {
      var li = document.createElement("li");
      li.textContent = p.field + " [" + p.rule + "]: " + p.message;
      list.appendChild(li);
    });
    document.getElementById("filter-sql").textContent = data.row_filter || "";
    document.getElementById("filter-words").textContent = data.row_filter_words || "";
    form.setAttribute("data-problems", String(data.problems.length));  // (form.dataset is the "dataset" field)
  }
  function check() {
    var mine = ++seq;
    fetch("/request/check", {method: "POST", body: new FormData(form), credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (data) { if (mine === seq) { show(data); } });
  }
  function later() { clearTimeout(timer); timer = setTimeout(check, 250); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  check();
})();
