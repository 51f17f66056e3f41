"""The register table's page furniture: its column titles, how a cell writes a run's verdict,
and the script that sorts and filters it.

Kept apart from :mod:`dlt.book.register` as :mod:`dlt.book.explorer_html` is from the explorer:
a few lines of JavaScript that a static page runs without a kernel (type in the box to filter
the rows, click a column's title to sort by it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_KIND_MARK = {"confirmed": "✔", "negative": "✘ (negative)", "open": "◇ (open)"}

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


def _verdict(row: Mapping[str, Any] | None) -> tuple[str, str]:
    """(text, sort key) of one run's verdict on a claim: held, failed or not run."""
    if row is None:
        return "", "2"
    value = row.get("measured") if row.get("measured") is not None else row.get("value")
    mark = "✔" if row.get("passed") else "✘ failed"
    return f"{mark} {value}" if value is not None else mark, "0" if row.get("passed") else "1"


def _short_verdict(row: Mapping[str, Any] | None) -> str:
    """A run's verdict in at most 12 characters: ``✔ 0.911`` held, ``✘ 0.9`` failed, ``-`` absent
    (a slope shows its number: the claim's line says that it is one)."""
    if row is None:
        return "-"
    value = row.get("measured") if row.get("measured") is not None else row.get("value")
    mark = "✔" if row.get("passed") else "✘"
    text = str(value).removeprefix("slope ") if value is not None else ""
    return _clip(f"{mark} {text}".rstrip(), 12)


def _clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, the cut marked by an ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _expected(row: Mapping[str, Any]) -> str:
    if row.get("expected") is not None:
        return str(row["expected"])
    band = row.get("band")
    if isinstance(band, dict):
        if "op" in band:
            return f"{band['op']} {band['bound']}"
        if "target" in band:
            return f"{band['target']} ± {band['tol']}"
        if "low" in band:
            return f"[{band['low']}, {band['high']}]"
    return "" if band is None else str(band)
