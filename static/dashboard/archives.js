// Archives: confirm deletions; while a replay is in progress, follow its progress every second.
(function () {
  "use strict";
  document.querySelectorAll("[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });
  const table = document.querySelector("[data-replays]");
  if (!table) return;
  // The policy allows no style attributes: the bars take their width from data-percent here.
  table.querySelectorAll("[data-replay-bar]").forEach(function (bar) {
    bar.style.width = bar.dataset.percent + "%";
  });
  const note = table.querySelector("[data-replays-note]");
  const ACTIVE = ["STARTING", "RUNNING", "CANCELLING"];

  function update(status) {
    const row = table.querySelector('tr[data-replay="' + CSS.escape(status.name) + '"]');
    if (!row) return false;
    const pill = row.querySelector("[data-replay-state]");
    pill.className = "pill " + status.state;
    pill.textContent = status.state.toLowerCase();
    row.querySelector("[data-replay-reason]").textContent = status.stateReason || "";
    const bar = row.querySelector("[data-replay-bar]");
    bar.dataset.percent = String(status.percent);
    bar.style.width = status.percent + "%";
    row.querySelector('[role="progressbar"]').setAttribute("aria-valuenow", String(status.percent));
    row.querySelector("[data-replay-count]").textContent = status.replayedEvents + " / " + status.totalEvents;
    row.querySelector("[data-replay-last]").textContent = status.eventLastReplayedTime
      ? "· up to " + status.eventLastReplayedTime.slice(11, 19) : "";
    if (!status.active) {
      const cancel = row.querySelector("[data-cancel-form]");
      if (cancel) cancel.remove();
    } else if (status.state === "CANCELLING") {
      const button = row.querySelector("[data-cancel-form] button");
      if (button) button.disabled = true;
    }
    return status.active;
  }

  function poll() {
    const names = Array.from(table.querySelectorAll("tr[data-replay]")).filter(function (row) {
      return ACTIVE.indexOf(row.querySelector("[data-replay-state]").textContent.toUpperCase()) !== -1;
    }).map(function (row) { return "name=" + encodeURIComponent(row.dataset.replay); });
    if (!names.length) { if (note) note.textContent = ""; return; }
    fetch(table.dataset.statusUrl + "?" + names.join("&"), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (data) {
        const active = data.replays.map(update).some(Boolean);
        if (note) note.textContent = active ? "Following progress live…" : "";
        if (active) window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  if (table.dataset.anyActive === "true") window.setTimeout(poll, 1000);
})();
