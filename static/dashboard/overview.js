// The overview's figures come again from the server every 10 seconds (the same markup).
(function () {
  "use strict";
  const holder = document.querySelector("[data-overview-figures]");
  const stamp = document.querySelector("[data-refreshed]");
  if (!holder) return;
  function refresh() {
    fetch(holder.dataset.refreshUrl, {credentials: "same-origin"})
      .then(function (response) { if (!response.ok) throw new Error(); return response.text(); })
      .then(function (html) {
        holder.innerHTML = html;
        if (stamp) stamp.textContent = "Updated " + new Date().toLocaleTimeString();
      })
      .catch(function () { if (stamp) stamp.textContent = "Could not refresh; retrying…"; })
      .finally(function () { window.setTimeout(refresh, 10000); });
  }
  window.setTimeout(refresh, 10000);
})();
