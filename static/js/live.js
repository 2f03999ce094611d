// A websocket that reconnects with backoff and tells the page whether it is live.
// Usage: const socket = openLiveSocket("/ws/status/", {onMessage, onOpen, indicator});
(function () {
  "use strict";
  function setIndicator(indicator, state, text) {
    if (!indicator) return;
    indicator.dataset.state = state;
    indicator.textContent = text;
  }
  window.openLiveSocket = function (path, options) {
    const opts = options || {};
    const indicator = opts.indicator || document.querySelector("[data-live-indicator]");
    let attempt = 0;
    let socket = null;
    let closedByPage = false;
    function connect() {
      const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + window.location.host + path);
      setIndicator(indicator, "connecting", "connecting…");
      socket.addEventListener("open", function () {
        attempt = 0;
        setIndicator(indicator, "live", "live");
        if (opts.onOpen) opts.onOpen(socket);
      });
      socket.addEventListener("message", function (event) {
        let data;
        try { data = JSON.parse(event.data); } catch (e) { return; }
        if (opts.onMessage) opts.onMessage(data, socket);
      });
      socket.addEventListener("close", function () {
        if (closedByPage) return;
        attempt += 1;
        const delay = Math.min(10000, 500 * Math.pow(2, attempt - 1));
        setIndicator(indicator, "down", "offline — reconnecting");
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
