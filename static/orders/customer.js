// The customer's pages: the shop's landing page (public socket) and an order page (ws/me/).
(function () {
  "use strict";
  const ui = window.shopUi;

  // --- landing page: open / closed, live -------------------------------------------------
  const landing = document.querySelector(".shop-landing[data-shop]");
  if (landing) {
    const status = landing.querySelector("[data-shop-status]");
    let version = -1;
    const applyShop = function (shop) {
      if (!shop || shop.version < version) return;
      version = shop.version;
      status.dataset.open = shop.is_open ? "true" : "false";
      status.querySelector("[data-open-text]").textContent = shop.is_open ? "Open" : "Closed";
      status.querySelector("[data-open-sentence]").textContent = shop.is_open
        ? "We are taking orders."
        : "We are not taking orders right now. Come back soon!";
    };
    applyShop(JSON.parse(document.getElementById("public-snapshot").textContent).shop);
    window.openSequencedStream("/ws/shop/" + landing.dataset.shop + "/public/", {
      onSnapshot: function (m) { applyShop(m.shop); },
      onState: function (m) { if (m.type === "shop") applyShop(m.shop); },
    });
  }

  // --- order page ----------------------------------------------------------------------------
  const page = document.querySelector("[data-order-page]");
  if (!page) return;
  const orderId = page.dataset.orderId;
  let current = JSON.parse(document.getElementById("order-payload").textContent);
  let stream = null;
  const shopVersions = {};

  function field(name) { return page.querySelector('[data-field="' + name + '"]'); }

  function showSections(state) {
    page.dataset.state = state;
    page.querySelectorAll("[data-section]").forEach(function (section) {
      const states = section.dataset.states.split(" ");
      section.hidden = states.indexOf(state) === -1;
    });
  }

  function renderOrder(order) {
    current = order;
    // A refused submit leaves an error on the page; once the order moves on it is stale.
    if (order.state !== "WAITING_FOR_DRINK") {
      page.querySelectorAll("[data-order-error]").forEach(function (n) { n.remove(); });
    }
    showSections(order.state);
    const number = field("number");
    number.hidden = !order.number;
    field("number-value").textContent = order.number || "";
    field("title").textContent = order.title;
    field("text").textContent = order.text;
    document.title = order.title + " — " + order.shop_name;
    page.querySelector("[data-status]").dataset.final = order.final ? "true" : "false";
    const summary = page.querySelector("[data-drink-summary]");
    summary.hidden = !order.drink;
    field("drink").textContent = order.drink;
    field("modifiers").textContent = ui.modifiers(order.modifiers);
    field("icon").src = ui.icon(order.icon);
    const tracker = page.querySelector("[data-tracker]");
    const steps = ["QUEUED", "IN_PRODUCTION", "COMPLETED"];
    const at = steps.indexOf(order.state);
    tracker.hidden = at === -1;
    tracker.querySelectorAll("[data-step]").forEach(function (li) {
      const i = steps.indexOf(li.dataset.step);
      // The last step is done, not pending, once the drink is ready.
      li.dataset.done = i < at || (i === at && order.state === "COMPLETED") ? "true" : "false";
      li.dataset.current = i === at ? "true" : "false";
      if (i === at) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
    });
    page.querySelector("[data-cancel-open]").hidden = !order.can_cancel;
    page.querySelector("[data-next]").hidden = !order.final;
    if (!order.can_cancel && dialog.open) dialog.close();
    const countdown = page.querySelector("[data-countdown]");
    if (countdown) countdown.dataset.deadline = order.deadline_at || "";
    tick();
  }

  // Time left to choose, from the order's deadline on the server's clock.
  function tick() {
    const countdown = page.querySelector("[data-countdown]");
    if (!countdown || current.state !== "WAITING_FOR_DRINK" || !countdown.dataset.deadline) return;
    const now = stream ? stream.now() : Date.now();
    const left = (Date.parse(countdown.dataset.deadline) - now) / 1000;
    const total = Number(page.dataset.customerTimeout) || 300;
    countdown.querySelector("[data-countdown-text]").textContent = ui.clock(left);
    countdown.querySelector("[data-countdown-bar]").style.width =
      Math.max(0, Math.min(100, (left / total) * 100)) + "%";
    countdown.dataset.urgent = left <= 30 ? "true" : "false";
  }
  window.setInterval(tick, 1000);

  // Drinks: show only the chosen drink's options (the others are disabled so they are not sent).
  const form = page.querySelector("form.menu-form");
  function syncModifiers() {
    if (!form) return;
    const chosen = form.querySelector("input[name=drink]:checked");
    form.querySelectorAll("[data-modifiers-for]").forEach(function (set) {
      const on = !!chosen && set.dataset.modifiersFor === chosen.value;
      set.hidden = !on;
      set.disabled = !on;
    });
  }
  if (form) {
    form.addEventListener("change", function (event) {
      if (event.target.name === "drink") syncModifiers();
    });
    form.addEventListener("submit", function () {
      // The answer is a new page: this tells it to put the focus on the order's status.
      try { window.sessionStorage.setItem("focus-status", orderId); } catch (e) { /* private mode */ }
      const button = form.querySelector("button[type=submit]");
      window.setTimeout(function () { button.disabled = true; button.textContent = "Ordering…"; }, 0);
    });
    syncModifiers();
  }

  // Cancel, with a confirmation dialog.
  const dialog = document.getElementById("cancel-dialog");
  page.querySelector("[data-cancel-open]").addEventListener("click", function () {
    if (typeof dialog.showModal === "function") dialog.showModal();
    else if (window.confirm("Are you sure you want to cancel this order?")) dialog.querySelector("form").submit();
  });
  dialog.querySelector("[data-cancel-close]").addEventListener("click", function () { dialog.close(); });

  let currentShop = null;
  // Only while the order is still going: a finished order's customer need not hurry.
  function showClosing() {
    const going = ["NEW", "WAITING_FOR_DRINK", "QUEUED", "IN_PRODUCTION"].indexOf(current.state) !== -1;
    ui.closing(page.querySelector("[data-closing-soon]"), going ? currentShop : null,
      stream ? stream.now() : Date.now());
  }
  window.setInterval(showClosing, 1000);

  function applyShop(shop) {
    if (!shop) return;
    if (shopVersions[shop.slug] !== undefined && shop.version < shopVersions[shop.slug]) return;
    shopVersions[shop.slug] = shop.version;
    if (shop.slug !== current.shop) return;
    currentShop = shop;
    showClosing();
    const changed = page.querySelector("[data-menu-changed]");
    changed.hidden = !(current.state === "WAITING_FOR_DRINK" &&
      String(shop.config_version) !== page.dataset.configVersion);
  }

  stream = window.openSequencedStream("/ws/me/", {
    onSnapshot: function (m) {
      const mine = (m.orders || []).find(function (o) { return o.id === orderId; });
      if (mine) renderOrder(mine);
      Object.values(m.shops || {}).forEach(applyShop);
    },
    onDelta: function (m) {
      if (m.type === "order" && m.order.id === orderId) renderOrder(m.order);
    },
    onState: function (m) { if (m.type === "shop") applyShop(m.shop); },
  });
  renderOrder(current);
  focusStatusAfterOrdering();

  // After "Order" the status replaces the menu; a keyboard or screen-reader user lands on it.
  function focusStatusAfterOrdering() {
    let asked = null;
    try {
      asked = window.sessionStorage.getItem("focus-status");
      window.sessionStorage.removeItem("focus-status");
    } catch (e) { return; }
    if (asked !== orderId) return;
    const title = field("title");
    if (title.closest("[hidden]")) return;
    title.setAttribute("tabindex", "-1");
    title.focus();
  }
})();
