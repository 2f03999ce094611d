// The event explorer's live tail: a snapshot of the newest events, then deltas with a sequence
// number (a gap asks for a fresh snapshot). Pause keeps what arrives aside until resumed.
(function () {
  "use strict";
  const box = document.querySelector("[data-tail]");
  const rows = document.querySelector("[data-tail-rows]");
  if (!box || !rows || !window.openLiveSocket) return;
  const pauseButton = box.querySelector("[data-tail-pause]");
  const buffered = box.querySelector("[data-tail-buffered]");
  const empty = document.querySelector("[data-tail-empty]");
  const olderLink = document.querySelector("[data-older-link]");
  const keep = Math.max(50, parseInt(box.dataset.tailSize || "50", 10) * 4);
  const HELD_MAX = 1000;
  let lastSeq = null;
  let paused = false;
  let held = [];          // deltas received while paused, oldest first
  let heldOverflow = false;
  let skipped = 0;

  function fragment(events) {
    const template = document.createElement("template");
    template.innerHTML = events.map(function (event) { return event.html; }).join("");
    return template.content;
  }

  function trim() {
    while (rows.children.length > keep) rows.removeChild(rows.lastElementChild);
    const last = rows.lastElementChild;
    // The "Older" link must continue from the last row still shown.
    if (olderLink && last && last.dataset.cursor) {
      const url = new URL(olderLink.href, window.location.href);
      url.searchParams.set("after", last.dataset.cursor);
      olderLink.href = url.toString();
    }
    if (empty) empty.hidden = rows.children.length > 0;
  }

  function present(events) {
    const known = new Set(Array.from(rows.children, function (row) { return row.dataset.eventId; }));
    const fresh = events.filter(function (event) { return !known.has(event.id); });
    if (!fresh.length) return;
    rows.insertBefore(fragment(fresh), rows.firstChild);
    trim();
  }

  function note() {
    if (!buffered) return;
    const count = held.reduce(function (sum, message) { return sum + message.events.length; }, 0);
    const parts = [];
    if (paused) parts.push(count + " new while paused");
    if (skipped) parts.push(skipped + " not drawn (too many at once; search finds them)");
    buffered.textContent = parts.join(" · ");
    buffered.hidden = parts.length === 0;
  }

  function apply(message) {
    if (message.type === "snapshot") {
      lastSeq = message.seq;
      rows.replaceChildren(fragment(message.events));
      trim();
      return;
    }
    if (message.type !== "events") return;
    skipped += message.skipped || 0;
    present(message.events);
    restatus(message.statuses || {});
  }

  function restatus(statuses) {
    Object.keys(statuses).forEach(function (id) {
      const pill = rows.querySelector('tr[data-event-id="' + id + '"] [data-status]');
      if (!pill) return;
      pill.className = "pill " + statuses[id];
      pill.textContent = statuses[id].replace("_", " ");
    });
  }

  const socket = window.openLiveSocket(box.dataset.tailPath, {
    indicator: box.querySelector("[data-live-indicator]"),
    onMessage: function (message) {
      if (message.type === "error") {
        buffered.hidden = false;
        buffered.textContent = "Live tail refused: " + message.message;
        return;
      }
      if (message.type === "snapshot") {
        held = []; heldOverflow = false;
        if (!paused) apply(message); else { lastSeq = message.seq; held.push({type: "reset", snapshot: message, events: []}); }
        note();
        return;
      }
      if (message.type !== "events") return;
      if (lastSeq !== null && message.seq !== lastSeq + 1) {
        socket.send({type: "resync"});   // a gap: start again from a fresh snapshot
        return;
      }
      lastSeq = message.seq;
      if (paused) {
        if (held.length < HELD_MAX) held.push(message); else heldOverflow = true;
      } else {
        apply(message);
      }
      note();
    },
  });

  pauseButton.addEventListener("click", function () {
    paused = !paused;
    pauseButton.setAttribute("aria-pressed", paused ? "true" : "false");
    pauseButton.textContent = paused ? "Resume" : "Pause";
    if (!paused) {
      if (heldOverflow) {
        socket.send({type: "resync"});
      } else {
        held.forEach(function (message) {
          if (message.type === "reset") apply(message.snapshot); else apply(message);
        });
      }
      held = []; heldOverflow = false;
    }
    note();
  });
})();
