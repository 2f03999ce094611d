// A sequenced live stream on top of openLiveSocket (static/js/live.js).
// The server sends a snapshot on connect; then deltas {type, seq, ...}. We keep the last seq:
// a delta at or below it is already reflected and is dropped; a gap (seq > last + 1) means a
// delta was lost, so we ask for a fresh snapshot ({"type": "resync"}) and ignore deltas until
// it arrives. Messages without a seq carry whole state and are handed over as they are.
(function () {
  "use strict";
  window.openSequencedStream = function (path, handlers) {
    const h = handlers || {};
    let lastSeq = null;
    let offsetMs = 0;
    function mark() {
      document.documentElement.dataset.liveSeq = lastSeq === null ? "" : String(lastSeq);
    }
    const socket = window.openLiveSocket(path, {
      indicator: h.indicator,
      onOpen: function () { lastSeq = null; mark(); },
      onClose: function () { lastSeq = null; mark(); if (h.onClose) h.onClose(); },
      onMessage: function (message) {
        if (message.type === "snapshot") {
          lastSeq = typeof message.seq === "number" ? message.seq : null;
          if (message.server_time) offsetMs = Date.parse(message.server_time) - Date.now();
          mark();
          if (h.onSnapshot) h.onSnapshot(message);
          return;
        }
        if (typeof message.seq !== "number") {
          if (h.onState) h.onState(message);
          return;
        }
        if (lastSeq === null || message.seq <= lastSeq) return;
        if (message.seq > lastSeq + 1) {
          lastSeq = null;
          mark();
          socket.send({ type: "resync" });
          return;
        }
        lastSeq = message.seq;
        mark();
        if (h.onDelta) h.onDelta(message);
      },
    });
    return {
      socket: socket,
      // The server's clock, as best we know it (countdowns must not trust the phone's clock).
      now: function () { return Date.now() + offsetMs; },
      resync: function () { socket.send({ type: "resync" }); },
    };
  };

  // Small shared helpers for the shop's pages.
  window.shopUi = {
    el: function (tag, attrs, children) {
      const node = document.createElement(tag);
      Object.entries(attrs || {}).forEach(function (entry) {
        const key = entry[0], value = entry[1];
        if (value === null || value === undefined || value === false) return;
        if (key === "text") node.textContent = value;
        else if (key === "class") node.className = value;
        else if (key.startsWith("data-")) node.setAttribute(key, value);
        else if (key in node && typeof value !== "string") node[key] = value;
        else node.setAttribute(key, value);
      });
      (children || []).forEach(function (child) {
        if (child === null || child === undefined) return;
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
      });
      return node;
    },
    // The "closing soon" notice of an open shop (its close from shop.closing_at), kept on
    // `node` and counted down; hidden when there is none. `nowMs`: the server's clock.
    closing: function (node, shop, nowMs) {
      if (!node) return;
      const left = shop && shop.is_open && shop.closing_at ? (Date.parse(shop.closing_at) - nowMs) / 1000 : 0;
      if (left <= 0) { node.hidden = true; node.textContent = ""; return; }
      const minutes = Math.ceil(left / 60);
      const text = "Closing soon: last orders, we close in " + (minutes <= 1 ? "under a minute" : minutes + " minutes") + ".";
      if (node.textContent !== text) node.textContent = text;
      node.hidden = false;
    },
    clock: function (seconds) {
      const s = Math.max(0, Math.floor(seconds));
      const m = Math.floor(s / 60);
      return m + ":" + String(s % 60).padStart(2, "0");
    },
    age: function (seconds) {
      const s = Math.max(0, Math.floor(seconds));
      return s < 60 ? s + "s" : Math.floor(s / 60) + "m " + String(s % 60).padStart(2, "0") + "s";
    },
    modifiers: function (mods) {
      return (mods || []).map(function (m) { return m.option; }).join(" · ");
    },
    csrf: function () {
      const field = document.querySelector("input[name=csrfmiddlewaretoken]");
      return field ? field.value : "";
    },
    icon: function (name) {
      const meta = document.querySelector("meta[name=orders-icon-base]");
      const base = meta ? meta.content : "/static/orders/icons/";
      return base + (name || "cup") + ".svg";
    },
  };
})();
