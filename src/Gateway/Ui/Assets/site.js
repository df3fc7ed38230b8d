// The status page's only script. The overview's events table names the address of its own rows in
// data-refresh; every few seconds, while the tab is visible, the rows are fetched and swapped in place,
// so the page stays current without a reload (and without losing the filter form's focus or input).
// The rows are HTML the server rendered with every value encoded.
(function () {
  "use strict";
  var table = document.querySelector("table[data-refresh]");
  if (!table || !table.getAttribute("data-refresh")) {
    return;
  }

  var address = table.getAttribute("data-refresh");
  var body = table.querySelector("tbody");
  var stamp = table.querySelector("[data-refreshed]");
  var busy = false;

  function refresh() {
    if (busy || document.hidden) {
      return;
    }

    busy = true;
    fetch(address, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.text();
      })
      .then(function (rows) {
        body.innerHTML = rows;
        if (stamp) {
          stamp.textContent = "Updated " + new Date().toLocaleTimeString() + ".";
        }
      })
      .catch(function () {
        if (stamp) {
          stamp.textContent = "Could not refresh; showing what was last loaded.";
        }
      })
      .then(function () {
        busy = false;
      });
  }

  window.setInterval(refresh, 3000);
})();
