// A websocket that reconnects with backoff and tells the page whether it is live.
// Usage: const socket = openLiveSocket("/ws/status/", {onMessage, onOpen, onRefused, indicator});
// The indicator says "live" only while the socket is open, "reconnecting…" (state "down")
// whenever it is not (after the first attempt), and why when the server refused the socket for
// good: a refusal (routing/sockets.py's 4400/4401/4403/4404) would only be refused again, so it
// ends the retries.
(function () {
  "use strict";
  const REFUSALS = {
    4400: "Live updates refused: the request was not understood. Reload the page.",
    4401: "Live updates stopped: you are not signed in. Sign in, then reload the page.",
    4403: "Live updates stopped: this account may not see them.",
    4404: "Live updates stopped: this no longer exists.",
  };
  function setIndicator(indicator, state, text) {
    if (!indicator) return;
    indicator.dataset.state = state;
    indicator.textContent = text;
  }
  function announcer(indicator) {
    // Where a refusal is explained: the indicator, made a polite live region if it is not one.
    let node = indicator;
    if (!node) {
      node = document.createElement("p");
      node.dataset.liveRefusal = "";
      document.body.append(node);
    }
    if (!node.getAttribute("role")) node.setAttribute("role", "status");
    if (!node.getAttribute("aria-live")) node.setAttribute("aria-live", "polite");
    return node;
  }
  window.openLiveSocket = function (path, options) {
    const opts = options || {};
    const indicator = opts.indicator || document.querySelector("[data-live-indicator]");
    let attempt = 0;
    let opened = false;
    let socket = null;
    let closedByPage = false;
    function connect() {
      const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + window.location.host + path);
      if (opened || attempt > 0) setIndicator(indicator, "down", "reconnecting…");
      else setIndicator(indicator, "connecting", "connecting…");
      const current = socket;
      socket.addEventListener("open", function () {
        attempt = 0;
        opened = true;
        setIndicator(indicator, "live", "live");
        if (opts.onOpen) opts.onOpen(current);
      });
      socket.addEventListener("message", function (event) {
        let data;
        try { data = JSON.parse(event.data); } catch (e) { return; }
        if (opts.onMessage) opts.onMessage(data, current);
      });
      socket.addEventListener("close", function (event) {
        if (closedByPage) return;
        const refusal = REFUSALS[event.code];
        if (refusal) {
          const node = announcer(indicator);
          node.dataset.state = "refused";
          node.dataset.closeCode = String(event.code);
          node.textContent = refusal;
          if (opts.onClose) opts.onClose();
          if (opts.onRefused) opts.onRefused(event.code, refusal);
          return;
        }
        attempt += 1;
        const delay = Math.min(10000, 500 * Math.pow(2, attempt - 1));
        setIndicator(indicator, "down", "reconnecting…");
        if (opts.onClose) opts.onClose();
        window.setTimeout(connect, delay);
      });
    }
    connect();
    return {
      send: function (data) { if (socket && socket.readyState === 1) socket.send(JSON.stringify(data)); },
      close: function () { closedByPage = true; if (socket) socket.close(); },
    };
  };
})();
