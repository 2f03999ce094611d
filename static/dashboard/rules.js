// The rule editor's shared pieces: JSON text areas with line numbers and an error marker, a POST
// helper for the editor's JSON endpoints, the event chooser, and confirmations before a submit.
(function () {
  "use strict";

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // Resolves to {ok, status, data}. `data` is the JSON answer, or {message} saying why there is
  // none (server unreachable, an error page). An aborted request rejects with AbortError.
  async function post(url, formData, signal) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        body: formData,
        headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json"},
        credentials: "same-origin",
        signal: signal,
      });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      return {ok: false, status: 0, data: {message: "The server could not be reached (" + error.message + ")."}};
    }
    let data;
    try {
      data = await response.json();
    } catch (error) {
      data = {message: "The server answered HTTP " + response.status + " without a readable result."};
    }
    return {ok: response.ok, status: response.status, data: data};
  }

  // el("p", {class: "x", "data-y": "z"}, "text", otherNode): text is always text, never HTML.
  function el(tag, attributes) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(function (entry) {
      if (entry[1] !== null && entry[1] !== undefined) node.setAttribute(entry[0], entry[1]);
    });
    Array.prototype.slice.call(arguments, 2).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    });
    return node;
  }

  // Replaces a node's children, skipping the null ones (optional parts).
  function fill(node) {
    const children = Array.prototype.slice.call(arguments, 1).filter(function (child) {
      return child !== null && child !== undefined && child !== false;
    });
    node.replaceChildren.apply(node, children);
    return node;
  }

  // A textarea with a line-number gutter that follows its scrolling, and one marked line.
  function codeEditor(root) {
    const textarea = root.querySelector("textarea");
    const gutter = root.querySelector(".code-gutter");
    const mark = root.querySelector(".code-mark");
    let markedLine = null;

    function metrics() {
      const style = window.getComputedStyle(textarea);
      return {lineHeight: parseFloat(style.lineHeight) || 20, paddingTop: parseFloat(style.paddingTop) || 0};
    }
    function syncScroll() {
      gutter.scrollTop = textarea.scrollTop;
      if (!markedLine) { mark.hidden = true; return; }
      const m = metrics();
      mark.style.top = (m.paddingTop + (markedLine - 1) * m.lineHeight - textarea.scrollTop) + "px";
      mark.style.height = m.lineHeight + "px";
      mark.hidden = false;
    }
    function render() {
      const count = textarea.value.split("\n").length;
      if (gutter.childElementCount !== count) {
        const lines = document.createDocumentFragment();
        for (let n = 1; n <= count; n += 1) lines.append(el("span", null, n));
        gutter.replaceChildren(lines);
      }
      Array.prototype.forEach.call(gutter.children, function (line, index) {
        line.classList.toggle("is-error", index + 1 === markedLine);
      });
      syncScroll();
    }
    function offsetOf(line, column) {
      const lines = textarea.value.split("\n");
      let offset = 0;
      for (let n = 0; n < Math.min(line - 1, lines.length); n += 1) offset += lines[n].length + 1;
      return offset + Math.max(column - 1, 0);
    }

    textarea.addEventListener("input", render);
    textarea.addEventListener("scroll", syncScroll);
    window.addEventListener("resize", syncScroll);
    render();

    return {
      root: root,
      textarea: textarea,
      markLine: function (line) {
        markedLine = line || null;
        root.classList.toggle("has-error", Boolean(markedLine));
        render();
      },
      // Selects the text at a {line, column, length} position and scrolls it into view.
      reveal: function (position) {
        const start = offsetOf(position.line, position.column);
        textarea.focus();
        textarea.setSelectionRange(start, start + (position.length || 1));
        const m = metrics();
        const top = (position.line - 1) * m.lineHeight;
        if (top < textarea.scrollTop || top > textarea.scrollTop + textarea.clientHeight - 2 * m.lineHeight) {
          textarea.scrollTop = Math.max(0, top - textarea.clientHeight / 3);
        }
        syncScroll();
      },
    };
  }

  const editors = new WeakMap();
  function editorFor(root) {
    if (!editors.has(root)) editors.set(root, codeEditor(root));
    return editors.get(root);
  }

  // The sample / stored event choice: shows the chosen source's fields, and a pick from the
  // latest events fills the id field.
  function eventChooser(fieldset) {
    function update() {
      const checked = fieldset.querySelector("input[name=event_source]:checked");
      const source = checked ? checked.value : "sample";
      fieldset.querySelectorAll("[data-source]").forEach(function (block) {
        block.hidden = block.dataset.source !== source;
      });
    }
    fieldset.querySelectorAll("input[name=event_source]").forEach(function (radio) {
      radio.addEventListener("change", update);
    });
    const recent = fieldset.querySelector("[data-recent-events]");
    const idInput = fieldset.querySelector("input[name=event_id]");
    if (recent && idInput) {
      recent.addEventListener("change", function () { if (recent.value) idInput.value = recent.value; });
      idInput.addEventListener("input", function () { if (recent.value !== idInput.value) recent.value = ""; });
    }
    update();
    return {
      appendTo: function (formData) {
        const checked = fieldset.querySelector("input[name=event_source]:checked");
        formData.set("event_source", checked ? checked.value : "sample");
        formData.set("sample_event", fieldset.querySelector("textarea[name=sample_event]").value);
        formData.set("event_id", idInput ? idInput.value : "");
      },
    };
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  document.querySelectorAll("[data-code-editor]").forEach(editorFor);

  window.RulesUI = {post: post, el: el, fill: fill, editorFor: editorFor, eventChooser: eventChooser};
})();
