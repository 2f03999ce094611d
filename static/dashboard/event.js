// The event page: while the event is being routed or delivered, its trace refreshes itself
// (the server renders it; this only swaps it in). A redrive restarts the refreshing.
(function () {
  "use strict";
  const holder = document.querySelector("[data-trace]");
  const copy = document.querySelector("[data-copy]");
  if (copy) {
    copy.addEventListener("click", function () {
      const source = document.querySelector(copy.dataset.copy);
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.textContent).then(function () {
          copy.textContent = "Copied";
          window.setTimeout(function () { copy.textContent = "Copy JSON"; }, 1500);
        });
      }
    });
  }
  if (!holder) return;
  const FAST = 1000, SLOW = 5000;
  let timer = null;
  let quietRounds = 0;

  function following() {
    const trace = holder.querySelector("[data-trace-status]");
    const status = trace ? trace.dataset.traceStatus : "";
    return status === "routing" || status === "in_progress";
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, delay);
  }

  function refresh() {
    fetch(holder.dataset.traceUrl, {headers: {"Accept": "text/html"}, credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        const focused = document.activeElement && holder.contains(document.activeElement);
        holder.innerHTML = html;
        if (focused) holder.querySelector("h2").setAttribute("tabindex", "-1");
        if (following()) { quietRounds = 0; schedule(FAST); }
        else if (quietRounds < 3) { quietRounds += 1; schedule(FAST); }  // a retry may be due
      })
      .catch(function () { schedule(SLOW); });
  }

  if (following()) schedule(FAST);
})();
