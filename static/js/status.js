(function () {
  "use strict";
  const list = document.querySelector("[data-system-status]");
  if (!list) return;
  window.openLiveSocket("/ws/status/", {
    onMessage: function (message) {
      if (message.type !== "status") return;
      ["database", "redis", "worker"].forEach(function (name) {
        const dot = list.querySelector('[data-check="' + name + '"]');
        if (!dot) return;
        const state = message.status[name] || "unknown";
        dot.dataset.state = state;
        dot.setAttribute("aria-label", name + " " + state);
      });
    },
  });
})();
