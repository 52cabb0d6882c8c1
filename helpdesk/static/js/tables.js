/* Tables as stacked rows on a phone: each cell is labelled with its column's heading (data-label, which the
   stylesheet shows before the value). Templates set data-label themselves; this fills in the cells of tables that
   do not, so that every table.data reads well on a narrow screen. Without JavaScript such cells stack unlabelled. */
(function () {
  "use strict";

  function label(table) {
    var headings = table.querySelectorAll("thead th");
    if (!headings.length) {
      return;
    }
    var names = Array.prototype.map.call(headings, function (th) { return th.textContent.trim(); });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.children, function (cell) {
        if (!cell.hasAttribute("data-label") && names[column] !== undefined) {
          cell.setAttribute("data-label", names[column]);
        }
        column += cell.colSpan || 1;
      });
    });
  }

  document.querySelectorAll("table.data").forEach(label);
})();
