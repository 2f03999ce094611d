// The pattern editor: validates as you type (the engine's message, the offending field marked),
// tests the unsaved pattern in the sandbox, and previews its impact on recent events.
(function () {
  "use strict";
  const UI = window.RulesUI;
  const el = UI.el;
  const form = document.getElementById("rule-form");
  if (!form) return;

  const editor = UI.editorFor(form.querySelector("[data-pattern-editor]"));
  const textarea = editor.textarea;
  const status = form.querySelector("[data-pattern-status]");
  const CHECK_DELAY_MS = 300;

  // --- validation as you type ----------------------------------------------------------------
  let timer = null;
  let controller = null;
  let sequence = 0;

  function where(data) {
    const position = data.position;
    if (!data.field && !position) return null;
    const bits = [];
    if (data.field) bits.push("at ", el("code", {"data-error-path": ""}, data.field));
    if (position) bits.push(data.field ? " — " : "at ", "line " + position.line + ", column " + position.column);
    const line = el("p", {class: "error-where"}, ...bits);
    if (position) {
      const show = el("button", {type: "button", class: "link"}, "Show in the editor");
      show.addEventListener("click", function () { editor.reveal(position); });
      line.append(" ", show);
    }
    return line;
  }

  function showResult(result) {
    status.dataset.state = result.ok ? "valid" : "invalid";
    if (result.ok) {
      textarea.removeAttribute("aria-invalid");
      editor.markLine(null);
      UI.fill(status, el("p", {class: "ok-line"}, "✓ Valid pattern"));
      return;
    }
    const data = result.data;
    textarea.setAttribute("aria-invalid", "true");
    editor.markLine(data.position ? data.position.line : null);
    UI.fill(status,
      el("p", {class: "field-error", "data-error-message": ""}, data.message),
      where(data)
    );
  }

  async function validate() {
    sequence += 1;
    const mine = sequence;
    if (controller) controller.abort();
    controller = new AbortController();
    const body = new FormData();
    body.set("event_pattern", textarea.value);
    let result;
    try {
      result = await UI.post(form.dataset.checkUrl, body, controller.signal);
    } catch (error) {
      if (error.name === "AbortError") return;  // a newer keystroke's check replaces this one
      throw error;
    }
    if (mine !== sequence) return;
    showResult(result);
    document.dispatchEvent(new CustomEvent("rules:pattern-checked", {detail: {valid: result.ok}}));
  }

  textarea.addEventListener("input", function () {
    status.dataset.state = "checking";
    window.clearTimeout(timer);
    timer = window.setTimeout(validate, CHECK_DELAY_MS);
  });
  validate();

  // --- sandbox ---------------------------------------------------------------------------------
  const sandboxForm = document.getElementById("sandbox-form");
  const sandboxResult = sandboxForm.querySelector("[data-sandbox-result]");
  const chooser = UI.eventChooser(sandboxForm.querySelector("[data-event-chooser]"));
  let sandboxUsed = false;
  let sandboxSequence = 0;

  async function runSandbox() {
    sandboxUsed = true;
    sandboxSequence += 1;
    const mine = sandboxSequence;
    const body = new FormData();
    body.set("event_pattern", textarea.value);
    chooser.appendTo(body);
    sandboxResult.dataset.state = "running";
    const result = await UI.post(form.dataset.sandboxUrl, body);
    if (mine !== sandboxSequence) return;
    const data = result.data;
    if (!result.ok) {
      sandboxResult.dataset.state = "error";
      const lead = data.valid === false ? "The pattern is not valid: fix it first. " : "";
      UI.fill(sandboxResult, el("p", {class: "field-error"}, lead + data.message));
      return;
    }
    sandboxResult.dataset.state = data.matched ? "match" : "no-match";
    const against = data.event_id
      ? el("span", null, "event ", el("a", {href: data.event_url, class: "mono"}, data.event_id.slice(0, 8) + "…"),
        " (" + data.event["detail-type"] + ")")
      : el("span", null, "the sample event (" + data.event["detail-type"] + ")");
    UI.fill(sandboxResult,
      el("p", {class: "verdict", "data-verdict": data.matched ? "match" : "no-match"},
        data.matched ? "✓ Match" : "✗ No match"),
      el("p", {class: "small muted"}, data.matched ? "The pattern matches " : "The pattern does not match ", against, ".")
    );
  }

  sandboxForm.addEventListener("submit", function (event) {
    event.preventDefault();
    runSandbox();
  });
  // Once tested, the verdict follows the editor: it is re-run after each valid change.
  document.addEventListener("rules:pattern-checked", function (event) {
    if (sandboxUsed && event.detail.valid) runSandbox();
  });

  // --- impact preview --------------------------------------------------------------------------
  const impactForm = document.getElementById("impact-form");
  const impactResult = document.querySelector("[data-impact-result]");

  function tile(label, value, note, kind) {
    return el("div", {class: "stat " + (kind || ""), "data-stat": label},
      el("span", {class: "stat-value"}, value), el("span", {class: "stat-label"}, label),
      note ? el("span", {class: "stat-note"}, note) : null);
  }

  function exampleList(title, difference, kind) {
    const list = el("ul", {class: "examples"});
    difference.examples.forEach(function (example) {
      list.append(el("li", null,
        el("a", {href: example.url, class: "mono"}, example.id.slice(0, 8) + "…"), " ",
        el("span", null, example["detail_type"]), " ",
        el("time", {class: "muted small", datetime: example.time}, example.time)));
    });
    if (!difference.count) list.append(el("li", {class: "muted"}, "None."));
    const more = difference.count - difference.examples.length;
    return el("section", {class: "example-group " + kind, "data-examples": kind},
      el("h3", null, title + " (" + difference.count + ")"),
      list,
      more > 0 ? el("p", {class: "muted small"}, "and " + more + " more.") : null);
  }

  function renderImpact(data) {
    const current = data.has_current ? String(data.current_matches) : "—";
    UI.fill(impactResult,
      el("p", {class: "muted small"}, "Checked the " + data.scanned + " most recent events on " + data.bus +
        (data.scanned < data.limit ? " (all it has)." : ".")),
      el("div", {class: "stats"},
        tile("Saved pattern", current, data.has_current ? "matches" : "not saved yet"),
        tile("Edited pattern", String(data.proposed_matches), "matches"),
        tile("Newly matched", "+" + data.newly_matched.count, null, "added"),
        tile("No longer matched", "−" + data.no_longer_matched.count, null, "removed"),
        tile("Matched by both", String(data.both))),
      el("div", {class: "example-groups"},
        exampleList("Newly matched", data.newly_matched, "added"),
        exampleList("No longer matched", data.no_longer_matched, "removed"))
    );
  }

  impactForm.addEventListener("submit", async function (event) {
    event.preventDefault();
    const body = new FormData(impactForm);
    body.set("event_pattern", textarea.value);
    if (form.dataset.ruleId) body.set("rule", form.dataset.ruleId);
    else body.set("bus", form.dataset.bus);
    impactResult.dataset.state = "running";
    UI.fill(impactResult, el("p", {class: "muted"}, "Checking…"));
    const result = await UI.post(form.dataset.impactUrl, body);
    impactResult.dataset.state = result.ok ? "done" : "error";
    if (result.ok) {
      renderImpact(result.data);
    } else {
      const lead = result.data.valid === false ? "The pattern is not valid: fix it first. " : "";
      UI.fill(impactResult, el("p", {class: "field-error"}, lead + result.data.message));
    }
  });
})();
