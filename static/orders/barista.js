// The barista's tablet: three live columns of tickets, actions as JSON POSTs.
// The page follows the socket (snapshot + deltas); a barista's own action also applies the
// order from the POST's answer at once, and the push then confirms it. Both carry the board's
// sequence number: per order, a push applies only above the newest number seen and an answer
// at or above it (at an equal number the answer was read later), so a late, older push never
// moves a ticket back.
(function () {
  "use strict";
  const ui = window.shopUi;
  const root = document.querySelector("[data-barista]");
  if (!root) return;
  const slug = root.dataset.shop;
  const me = JSON.parse(document.getElementById("barista-me").textContent);
  const flash = root.querySelector("[data-flash]");
  const shopState = root.querySelector("[data-shop-state]");
  const toggle = root.querySelector("[data-toggle-shop]");
  const dialog = document.getElementById("barista-cancel");
  const closeDialog = document.getElementById("barista-close");
  let orders = new Map();
  let shop = null;
  let readyMinutes = 10;
  const pending = new Map();  // order id -> action awaiting its answer
  let seen = new Map();  // order id -> board number of the state shown
  let snapshotSeq = 0;
  let stream = null;

  function now() { return stream ? stream.now() : Date.now(); }

  function showFlash(text, kind) {
    flash.textContent = text;
    flash.dataset.kind = kind || "error";
    flash.hidden = !text;
    if (text) window.clearTimeout(showFlash.timer);
    if (text) showFlash.timer = window.setTimeout(function () { flash.hidden = true; }, 8000);
  }

  function applyShop(next) {
    if (!next) return;
    shop = next;
    shopState.dataset.open = shop.is_open ? "true" : "false";
    shopState.textContent = shop.is_open ? "Shop open" : "Shop closed";
    toggle.disabled = false;
    toggle.textContent = shop.is_open ? "Close the shop" : "Open the shop";
    toggle.className = shop.is_open ? "danger-outline" : "primary";
    ui.closing(root.querySelector("[data-closing-soon]"), shop, now());
  }

  function isShown(order) {
    if (order.state === "QUEUED" || order.state === "IN_PRODUCTION") return true;
    if (order.state !== "COMPLETED" || !order.finished_at) return false;
    return now() - Date.parse(order.finished_at) < readyMinutes * 60000;
  }

  function ageOf(order) {
    const since = order.state === "COMPLETED" ? order.finished_at : order.submitted_at;
    return since ? (now() - Date.parse(since)) / 1000 : 0;
  }

  function level(seconds) { return seconds < 120 ? "fresh" : seconds < 300 ? "waiting" : "late"; }

  function button(order, action, label, cls) {
    return ui.el("button", {
      type: "button", class: cls || "", "data-action": action, "data-order": order.id,
      disabled: pending.has(order.id), text: label,
    });
  }

  function ticket(order) {
    const age = ageOf(order);
    const actions = [];
    if (order.state === "QUEUED") {
      actions.push(button(order, "cancel", "Cancel", "danger-outline"));
      actions.push(button(order, "claim", "Make", "primary"));
    } else if (order.state === "IN_PRODUCTION") {
      actions.push(button(order, "cancel", "Cancel", "danger-outline"));
      actions.push(button(order, "unclaim", "Unclaim"));
      actions.push(button(order, "complete", "Ready", "primary"));
    }
    const mine = order.barista_id === me.id;
    return ui.el("li", {
      class: "ticket", "data-order-id": order.id, "data-state": order.state,
      "data-age-level": order.state === "COMPLETED" ? "done" : level(age),
      "aria-busy": pending.has(order.id) ? "true" : null,
      "data-mine": order.state === "IN_PRODUCTION" && mine ? "true" : null,
    }, [
      ui.el("div", { class: "ticket-head" }, [
        ui.el("span", { class: "ticket-number", text: "#" + (order.number || "?") }),
        order.robot ? ui.el("span", { class: "tag", text: "ROBOT" }) : null,
        order.state === "IN_PRODUCTION" && mine ? ui.el("span", { class: "tag mine-tag", text: "Yours" }) : null,
        ui.el("span", { class: "ticket-age", "data-age": "", text: ui.age(age),
          title: order.state === "COMPLETED" ? "since ready" : "since ordered" }),
      ]),
      ui.el("div", { class: "ticket-body" }, [
        ui.el("img", { src: ui.icon(order.icon), alt: "", width: "40", height: "40" }),
        ui.el("div", {}, [
          ui.el("div", { class: "ticket-drink", text: order.drink }),
          order.modifiers.length ? ui.el("div", { class: "ticket-mods", text: ui.modifiers(order.modifiers) }) : null,
          order.customer ? ui.el("div", { class: "small muted", text: "for " + order.customer }) : null,
        ]),
      ]),
      order.state === "IN_PRODUCTION"
        ? ui.el("div", { class: "ticket-claim" + (mine ? " mine" : ""), text: "Being made by " + (mine ? "you" : order.barista) })
        : null,
      actions.length ? ui.el("div", { class: "ticket-actions" }, actions) : null,
    ]);
  }

  function applyOrder(order, seq, isAnswer) {
    const known = Math.max(seen.get(order.id) || 0, snapshotSeq);
    if (isAnswer ? seq < known : seq <= known) return false;
    seen.set(order.id, seq);
    if (["QUEUED", "IN_PRODUCTION", "COMPLETED"].indexOf(order.state) === -1) orders.delete(order.id);
    else orders.set(order.id, order);
    return true;
  }

  function render() {
    const focused = document.activeElement;
    const focusKey = focused && focused.dataset && focused.dataset.action
      ? [focused.dataset.order, focused.dataset.action] : null;
    const byState = { QUEUED: [], IN_PRODUCTION: [], COMPLETED: [] };
    orders.forEach(function (order) { if (isShown(order)) byState[order.state].push(order); });
    Object.keys(byState).forEach(function (state) {
      const list = byState[state].sort(function (a, b) {
        if (state === "COMPLETED") return Date.parse(b.finished_at) - Date.parse(a.finished_at);
        return (a.number || 0) - (b.number || 0);
      });
      const column = root.querySelector('[data-column="' + state + '"]');
      column.querySelector("[data-tickets]").replaceChildren.apply(
        column.querySelector("[data-tickets]"), list.map(ticket));
      column.querySelector("[data-count]").textContent = list.length;
      column.querySelector("[data-empty]").hidden = list.length > 0;
    });
    if (focusKey) {
      const again = root.querySelector('[data-order="' + focusKey[0] + '"][data-action="' + focusKey[1] + '"]');
      if (again) again.focus();
    }
  }

  function tick() {
    let expired = false;
    root.querySelectorAll(".ticket").forEach(function (node) {
      const order = orders.get(node.dataset.orderId);
      if (!order) return;
      if (!isShown(order)) { expired = true; return; }
      const age = ageOf(order);
      node.querySelector("[data-age]").textContent = ui.age(age);
      if (order.state !== "COMPLETED") node.dataset.ageLevel = level(age);
    });
    if (expired) render();
    if (shop) ui.closing(root.querySelector("[data-closing-soon]"), shop, now());
  }
  window.setInterval(tick, 1000);

  function post(url, data) {
    const body = new URLSearchParams(data || {});
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": ui.csrf(), "Accept": "application/json" },
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (!response.ok) {
          const error = json || {};  // {"code", "message", "field"?}, as every endpoint
          throw new Error(error.message || ("The server refused (HTTP " + response.status + ")."));
        }
        return json;
      });
    });
  }

  function act(orderId, action, extra) {
    pending.set(orderId, action);
    render();
    post("/shop/" + slug + "/barista/orders/" + encodeURIComponent(orderId) + "/" + action + "/", extra)
      .then(function (answer) {
        pending.delete(orderId);
        if (answer.order && typeof answer.seq === "number") applyOrder(answer.order, answer.seq, true);
        render();
      })
      .catch(function (error) {
        pending.delete(orderId);
        render();
        showFlash(error.message);
      });
  }

  root.addEventListener("click", function (event) {
    const target = event.target.closest("[data-action]");
    if (!target) return;
    const orderId = target.dataset.order;
    const action = target.dataset.action;
    if (action !== "cancel") { act(orderId, action); return; }
    const order = orders.get(orderId);
    dialog.querySelector("[data-cancel-number]").textContent = order && order.number ? "#" + order.number : "";
    dialog.querySelector("input[name=reason]").value = "";
    dialog.dataset.order = orderId;
    dialog.showModal();
  });
  dialog.addEventListener("close", function () {
    if (dialog.returnValue === "cancel" && dialog.dataset.order) {
      act(dialog.dataset.order, "cancel", { reason: dialog.querySelector("input[name=reason]").value });
    }
    dialog.returnValue = "";
  });

  function setOpen(opening) {
    toggle.disabled = true;
    toggle.textContent = opening ? "Opening…" : "Closing…";
    post("/shop/" + slug + "/barista/open/", { is_open: opening ? "true" : "false" })
      .catch(function (error) { applyShop(shop); showFlash(error.message); });
  }

  // Closing turns customers away, so it is confirmed first; opening is not.
  toggle.addEventListener("click", function () {
    if (!shop) return;
    if (shop.is_open) { closeDialog.returnValue = ""; closeDialog.showModal(); return; }
    setOpen(true);
  });
  closeDialog.addEventListener("close", function () {
    if (closeDialog.returnValue === "close") setOpen(false);
    else toggle.focus();
  });

  function applySnapshot(snapshot) {
    readyMinutes = snapshot.ready_minutes || readyMinutes;
    orders = new Map(snapshot.orders.map(function (o) { return [o.id, o]; }));
    seen = new Map();
    snapshotSeq = typeof snapshot.seq === "number" ? snapshot.seq : 0;
    pending.clear();
    applyShop(snapshot.shop);
    render();
  }

  applySnapshot(JSON.parse(document.getElementById("board-snapshot").textContent));
  stream = window.openSequencedStream("/ws/shop/" + slug + "/board/", {
    onSnapshot: applySnapshot,
    onDelta: function (message) {
      if (message.type === "order") {
        if (applyOrder(message.order, message.seq, false)) render();
      } else if (message.type === "shop") {
        applyShop(message.shop);
      }
    },
  });
})();
