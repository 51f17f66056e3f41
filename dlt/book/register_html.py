"""The register table's page furniture: its column titles and the script that sorts and filters it.

Kept apart from :mod:`dlt.book.register` as :mod:`dlt.book.explorer_html` is from the explorer:
a few lines of JavaScript that a static page runs without a kernel (type in the box to filter
the rows, click a column's title to sort by it).
"""

from __future__ import annotations

_SCRIPT = """<script>
(function () {
  var root = document.currentScript.previousElementSibling;
  var box = root.querySelector("input.dlt-register-filter");
  var table = root.querySelector("table");
  var count = root.querySelector(".dlt-register-count");
  function filter() {
    var q = box.value.toLowerCase(), shown = 0;
    table.querySelectorAll("tbody tr.dlt-claim").forEach(function (tr) {
      var ok = !q || tr.textContent.toLowerCase().indexOf(q) >= 0;
      tr.style.display = ok ? "" : "none"; if (ok) shown++;
    });
    table.querySelectorAll("tbody tr.dlt-part").forEach(function (tr) {
      tr.style.display = q ? "none" : "";
    });
    count.textContent = shown + " of " + table.querySelectorAll("tr.dlt-claim").length + " claims";
  }
  box.addEventListener("input", filter);
  table.querySelectorAll("thead th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var body = table.querySelector("tbody");
      var rows = Array.prototype.slice.call(body.querySelectorAll("tr.dlt-claim"));
      var up = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      rows.sort(function (a, b) {
        var x = a.children[col].dataset.sort || a.children[col].textContent;
        var y = b.children[col].dataset.sort || b.children[col].textContent;
        var c = x.localeCompare(y, undefined, {numeric: true});
        return up ? c : -c;
      });
      body.querySelectorAll("tr.dlt-part").forEach(function (tr) { tr.style.display = "none"; });
      rows.forEach(function (tr) { body.appendChild(tr); });
    });
  });
  filter();
})();
</script>"""

_HEAD = (
    "chapter",
    "claim",
    "statement",
    "measured",
    "expected",
    "kind",
    "rejects",
)
