// Deliveries: select dead letters (or every one matching the filters), redrive them in chunks,
// then follow their statuses until none is in flight: redriven, succeeded, failed again.
// Without this script the form still posts and the page reloads with a message.
(function () {
  "use strict";
  const form = document.querySelector("[data-redrive-selected]");
  if (!form) return;
  const CHUNK = 100, STATUS_CHUNK = 500, POLL = 1000;
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const submit = form.querySelector("[data-redrive-submit]");
  const allButton = form.querySelector("[data-redrive-all]");
  const pageBox = form.querySelector("[data-select-page]");
  const panel = form.querySelector("[data-redrive-progress]");
  const bar = form.querySelector("[data-progress-bar]");
  const text = form.querySelector("[data-progress-text]");
  const boxes = Array.from(form.querySelectorAll("[data-select]"));
  let busy = false;

  function count(name, value) {
    const element = form.querySelector('[data-count="' + name + '"]');
    if (element) element.textContent = String(value);
  }

  function selected() {
    return boxes.filter(function (box) { return box.checked; }).map(function (box) { return box.value; });
  }

  function refreshSelection() {
    const chosen = selected().length;
    form.querySelector("[data-selected-label]").textContent = chosen
      ? "Redrive " + chosen + " selected" : "Redrive selected";
    submit.disabled = busy || chosen === 0;
    if (pageBox) {
      pageBox.checked = chosen > 0 && chosen === boxes.length;
      pageBox.indeterminate = chosen > 0 && chosen < boxes.length;
    }
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.message || ("HTTP " + response.status));
        return data;
      });
    });
  }

  function chunks(list, size) {
    const out = [];
    for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
    return out;
  }

  function draw(total, succeeded, failed) {
    const ok = total ? (100 * succeeded / total) : 0;
    const bad = total ? (100 * failed / total) : 0;
    bar.querySelector("[data-progress-ok]").style.width = ok + "%";
    bar.querySelector("[data-progress-bad]").style.width = bad + "%";
    bar.setAttribute("aria-valuenow", String(Math.round(ok + bad)));
  }

  function markRows(statuses) {
    Object.keys(statuses).forEach(function (id) {
      const row = form.querySelector('tr[data-delivery-id="' + id + '"]');
      if (!row) return;
      const pill = row.querySelector("[data-row-status]");
      pill.className = "pill " + statuses[id];
      pill.textContent = statuses[id];
      const box = row.querySelector("[data-select]");
      if (box && statuses[id] !== "dead" && statuses[id] !== "dropped") { box.checked = false; box.disabled = true; }
    });
  }

  function follow(ids) {
    Promise.all(chunks(ids, STATUS_CHUNK).map(function (part) {
      return post(form.dataset.progressUrl, {ids: part});
    })).then(function (parts) {
      const sum = {succeeded: 0, failedAgain: 0, inFlight: 0, retrying: 0, statuses: {}};
      parts.forEach(function (part) {
        sum.succeeded += part.succeeded; sum.failedAgain += part.failedAgain;
        sum.inFlight += part.inFlight; sum.retrying += part.retrying;
        Object.assign(sum.statuses, part.statuses);
      });
      count("succeeded", sum.succeeded); count("failed", sum.failedAgain);
      count("in-flight", sum.inFlight); count("retrying", sum.retrying);
      draw(ids.length, sum.succeeded, sum.failedAgain);
      markRows(sum.statuses);
      if (sum.inFlight > 0) {
        text.textContent = "Delivering… " + (sum.succeeded + sum.failedAgain) + " of " + ids.length + " settled.";
        window.setTimeout(function () { follow(ids); }, POLL);
      } else {
        text.textContent = "Done: " + sum.succeeded + " succeeded, " + sum.failedAgain + " failed again.";
        finish();
      }
    }).catch(function (error) {
      text.textContent = "Could not read progress (" + error.message + "); trying again…";
      window.setTimeout(function () { follow(ids); }, POLL * 3);
    });
  }

  function finish() {
    busy = false;
    form.querySelector("[data-progress-reload]").hidden = false;
    refreshSelection();
    if (allButton && allButton.dataset.available === "true") allButton.disabled = false;
  }

  function redrive(ids) {
    if (!ids.length || busy) return;
    busy = true;
    submit.disabled = true;
    if (allButton) allButton.disabled = true;
    panel.hidden = false;
    form.querySelector("[data-progress-reload]").hidden = true;
    ["redriven", "succeeded", "failed", "in-flight", "retrying", "refused"].forEach(function (name) { count(name, 0); });
    count("selected", ids.length);
    draw(ids.length, 0, 0);
    text.textContent = "Redriving…";
    const redriven = [];
    let refused = 0;
    chunks(ids, CHUNK).reduce(function (previous, part) {
      return previous.then(function () {
        return post(form.action, {ids: part}).then(function (result) {
          redriven.push.apply(redriven, result.redriven);
          refused += result.refused.length;
          count("redriven", redriven.length);
          count("refused", refused);
          form.querySelector("[data-refused-wrap]").hidden = refused === 0;
          text.textContent = "Redriving… " + redriven.length + " of " + ids.length + " sent back to their targets.";
        });
      });
    }, Promise.resolve()).then(function () {
      count("selected", redriven.length);
      if (!redriven.length) {
        text.textContent = "Nothing was redriven: those deliveries are no longer dead letters.";
        finish();
        return;
      }
      follow(redriven);
    }).catch(function (error) {
      text.textContent = "Redrive stopped: " + error.message + " (" + redriven.length + " redriven before that).";
      if (redriven.length) follow(redriven); else finish();
    });
  }

  boxes.forEach(function (box) { box.addEventListener("change", refreshSelection); });
  if (pageBox) {
    pageBox.addEventListener("change", function () {
      boxes.forEach(function (box) { if (!box.disabled) box.checked = pageBox.checked; });
      refreshSelection();
    });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    redrive(selected());
  });
  if (allButton && allButton.dataset.available === "true") {
    allButton.hidden = false;
    allButton.addEventListener("click", function () {
      fetch(form.dataset.selectionUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (data.message) { text.textContent = data.message; panel.hidden = false; return; }
          if (!data.ids.length) { panel.hidden = false; text.textContent = "No dead letter matches these filters."; return; }
          const more = data.truncated ? " (the newest " + data.limit + "; run it again for the rest)" : "";
          if (window.confirm("Redrive " + data.ids.length + " dead letters" + more + "?")) redrive(data.ids);
        });
    });
  }
  refreshSelection();
})();
