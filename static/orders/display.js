// The big screen: the QR code of the current window (hidden when used up or in the window's
// last 15 s), a fresh code at rollover, and the Preparing / Ready boards, all live.
(function () {
  "use strict";
  const ui = window.shopUi;
  const root = document.querySelector("[data-display]");
  if (!root) return;
  const slug = root.dataset.shop;
  const HIDE_LAST_SECONDS = 15;
  const qrBox = root.querySelector("[data-qr]");
  let orders = new Map();
  let shop = null;
  let readyMinutes = 10;
  // The window the QR shows (id, ends_at, starts_at, capacity, remaining).
  let win = null;
  let fetching = false;
  let stream = null;
  let lastSignature = null;
  let shown = new Set();
  let initialised = false;

  function now() { return stream ? stream.now() : Date.now(); }

  function setWindow(next) {
    win = {
      id: next.id, starts_at: next.starts_at, ends_at: next.ends_at,
      capacity: next.capacity, remaining: next.remaining,
    };
    root.querySelector("[data-remaining]").textContent = next.remaining;
    root.querySelector("[data-remaining-word]").textContent = next.remaining === 1 ? "drink" : "drinks";
  }

  function fetchWindow() {
    if (fetching) return;
    fetching = true;
    fetch("/shop/" + slug + "/display/window/", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        if (!data.window) { clearQr(); tick(); return; }  // closed: the server gives no code
        qrBox.innerHTML = data.window.svg;  // segno's SVG, made by our server
        qrBox.dataset.windowId = String(data.window.id);
        qrBox.dataset.url = data.window.url;
        root.querySelector("[data-qr-url]").textContent = data.window.url;
        setWindow(data.window);
        tick();
      })
      .catch(function () { /* tried again on the next tick */ })
      .finally(function () { window.setTimeout(function () { fetching = false; }, 1000); });
  }

  // A closed shop's screen holds no code at all (not merely a hidden one).
  function clearQr() {
    if (!qrBox.dataset.windowId && !qrBox.innerHTML) return;
    qrBox.replaceChildren();
    qrBox.dataset.windowId = "";
    qrBox.dataset.url = "";
    root.querySelector("[data-qr-url]").textContent = "";
  }

  function mode(name) {
    root.dataset.mode = name;
    root.querySelectorAll("[data-mode]").forEach(function (node) {
      if (node === root) return;
      node.hidden = node.dataset.mode !== name;
    });
  }

  function tick() {
    if (!shop) return;
    ui.closing(root.querySelector("[data-closing-soon]"), shop, now());
    if (!shop.is_open) { clearQr(); mode("closed"); return; }
    if (!qrBox.dataset.windowId) fetchWindow();  // opened (again): ask for the code
    if (!win) return;
    const left = (Date.parse(win.ends_at) - now()) / 1000;
    if (left <= 0) { fetchWindow(); }
    const length = (Date.parse(win.ends_at) - Date.parse(win.starts_at)) / 1000;
    root.querySelector("[data-window-left]").textContent = ui.clock(left);
    root.querySelector("[data-window-bar]").style.width = Math.max(0, Math.min(100, (left / length) * 100)) + "%";
    if (win.remaining <= 0 || left <= HIDE_LAST_SECONDS) {
      mode("wait");
      const secs = Math.max(0, Math.ceil(left));
      root.querySelector("[data-wait-left]").textContent = secs > 60 ? ui.clock(secs) : String(secs);
      const ring = root.querySelector("[data-ring]");
      ring.dataset.level = secs <= 5 ? "red" : secs <= 10 ? "amber" : "green";
      root.querySelector("[data-ring-arc]").style.strokeDasharray = Math.min(100, (secs / 60) * 100) + " 100";
      return;
    }
    mode("qr");
  }

  function renderBoards() {
    const preparing = [];
    const queue = [];
    const ready = [];
    orders.forEach(function (order) {
      if (order.state === "IN_PRODUCTION") preparing.push(order);
      else if (order.state === "QUEUED") queue.push(order);
      else if (order.state === "COMPLETED" && order.finished_at &&
               now() - Date.parse(order.finished_at) < readyMinutes * 60000) ready.push(order);
    });
    preparing.sort(function (a, b) { return (a.number || 0) - (b.number || 0); });
    queue.sort(function (a, b) { return (a.number || 0) - (b.number || 0); });
    ready.sort(function (a, b) { return Date.parse(b.finished_at) - Date.parse(a.finished_at); });
    // Redraw only when something changed (a redraw would replay the cards' animation), and
    // animate only the numbers that just arrived.
    const signature = preparing.concat(["|"], queue, ["|"], ready).map(function (o) { return o.id + ":" + o.state + ":" + o.number; }).join("|");
    if (signature === lastSignature) return;
    lastSignature = signature;
    function item(order) {
      const key = order.id + ":" + order.state;
      const arrived = !shown.has(key);
      return ui.el("li", { class: "number-card" + (arrived && initialised ? " arrived" : ""),
        "data-order-id": order.id, "data-state": order.state }, [
        ui.el("span", { class: "number", text: order.number || "?" }),
        ui.el("span", { class: "number-drink", text: order.drink }),
      ]);
    }
    // Each list shows what fits a 1080p screen; past that one card says how many more there are.
    function fill(name, list, fits) {
      const board = root.querySelector('[data-board="' + name + '"]');
      const cards = list.length > fits ? list.slice(0, fits - 1).map(item) : list.map(item);
      if (list.length > fits) {
        cards.push(ui.el("li", { class: "number-card more", "data-more": String(list.length - fits + 1) }, [
          ui.el("span", { class: "number", text: "+" + (list.length - fits + 1) }),
          ui.el("span", { class: "number-drink", text: "more" }),
        ]));
      }
      board.replaceChildren.apply(board, cards);
      root.querySelector('[data-empty-for="' + name + '"]').hidden = list.length > 0;
    }
    fill("preparing", preparing, 4);
    fill("queue", queue, 8);
    fill("ready", ready, 8);
    shown = new Set(preparing.concat(queue, ready).map(function (o) { return o.id + ":" + o.state; }));
    initialised = true;
  }

  function applySnapshot(snapshot) {
    readyMinutes = snapshot.ready_minutes || readyMinutes;
    shop = snapshot.shop;
    orders = new Map(snapshot.orders.map(function (o) { return [o.id, o]; }));
    if (String(snapshot.window.id) !== qrBox.dataset.windowId) fetchWindow();
    else setWindow(snapshot.window);
    renderBoards();
    tick();
  }

  applySnapshot(JSON.parse(document.getElementById("board-snapshot").textContent));
  stream = window.openSequencedStream("/ws/shop/" + slug + "/board/", {
    onSnapshot: applySnapshot,
    onDelta: function (message) {
      if (message.type === "order") {
        if (["QUEUED", "IN_PRODUCTION", "COMPLETED"].indexOf(message.order.state) === -1) orders.delete(message.order.id);
        else orders.set(message.order.id, message.order);
        renderBoards();
      } else if (message.type === "shop") {
        shop = message.shop;
        tick();
      } else if (message.type === "window") {
        if (win && message.window.id === win.id) setWindow(message.window);
        else if (win && Date.parse(message.window.starts_at) > Date.parse(win.starts_at)) fetchWindow();
        tick();
      }
    },
  });
  window.setInterval(function () { tick(); renderBoards(); }, 1000);
})();
