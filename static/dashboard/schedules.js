// Schedule expressions (the Schedules page, a scheduled rule's editor): while one is typed, show
// it in words with its next firings (debounced), or AWS's refusal and the reason, by the field.
(function () {
  "use strict";
  const form = document.querySelector("[data-schedule-preview]");
  if (!form) return;
  const input = form.querySelector("[data-schedule-input]");
  const zone = form.querySelector("[data-schedule-zone]");  // none: UTC, as rules read cron
  // A Scheduler schedule also takes at(); a rule does not (the page lets one choose which).
  const kind = form.querySelector("[data-schedule-kind]");
  const result = document.getElementById(form.dataset.previewTarget);
  const DELAY_MS = 300;
  let timer = null;
  let latest = 0;

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function local(iso, timeZone) {
    return new Intl.DateTimeFormat("en-GB", {
      timeZone: timeZone, weekday: "short", year: "numeric", month: "short", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short",
    }).format(new Date(iso));
  }

  function show(body) {
    result.replaceChildren();
    if (!body.valid) {
      input.setAttribute("aria-invalid", "true");
      const error = element("p", "", "field-error");
      error.dataset.previewError = "";
      error.append(element("strong", body.message));
      if (body.reason && body.reason !== body.message) error.append(" " + body.reason);
      result.append(error);
      return;
    }
    input.removeAttribute("aria-invalid");
    const words = element("p", "");
    words.dataset.previewDescription = "";
    words.append(element("strong", body.description));
    result.append(words);
    if (!body.next.length) {
      result.append(element("p", "No firing ahead that can be computed.", "muted small"));
      return;
    }
    const list = element("ol", undefined, "firing-list");
    list.dataset.previewNext = "";
    body.next.forEach(function (iso) {
      const item = element("li");
      const time = element("time", local(iso, body.timezone));
      time.setAttribute("datetime", iso);
      item.append(time);
      list.append(item);
    });
    result.append(list);
  }

  function ask() {
    const number = ++latest;
    const query = new URLSearchParams({ expression: input.value, timezone: zone ? zone.value : "UTC" });
    if (kind) query.set("kind", kind.value);
    fetch(form.dataset.previewUrl + "?" + query.toString(), {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    }).then(function (response) {
      return response.json();
    }).then(function (body) {
      if (number === latest) show(body);  // an older answer arriving late is dropped
    }).catch(function () {
      if (number === latest) show({ valid: false, message: "The preview is unavailable.", reason: "Check the connection and try again." });
    });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, DELAY_MS);
  }

  input.addEventListener("input", later);
  if (zone) zone.addEventListener("change", ask);
  if (kind) kind.addEventListener("change", ask);
  // The Schedules page's form only previews; an editor's field is saved with its own form.
  if (form.tagName === "FORM") {
    form.addEventListener("submit", function (event) { event.preventDefault(); ask(); });
  }
  ask();
})();
