// Target forms: show only the input field the chosen mode uses and the webhook's time-out only
// for webhooks; preview exactly what a target (as edited, saved or not) would receive.
(function () {
  "use strict";
  const UI = window.RulesUI;
  const el = UI.el;
  const page = document.querySelector("[data-targets-page]");
  if (!page) return;
  const eventForm = document.getElementById("preview-event-form");
  const chooser = UI.eventChooser(eventForm.querySelector("[data-event-chooser]"));
  eventForm.addEventListener("submit", function (event) { event.preventDefault(); });

  function clearErrors(form) {
    form.querySelectorAll(".field.preview-error").forEach(function (field) {
      field.classList.remove("preview-error", "has-error");
      field.querySelectorAll("[data-preview-error]").forEach(function (node) { node.remove(); });
    });
  }

  function markField(form, htmlId, message) {
    const input = htmlId ? form.querySelector("#id_" + CSS.escape(htmlId)) ||
      form.querySelector("[name='" + htmlId + "']") : null;
    const field = input ? input.closest(".field") : null;
    if (!field) return false;
    field.classList.add("has-error", "preview-error");
    field.append(el("p", {class: "field-error", "data-preview-error": ""}, message));
    return true;
  }

  async function preview(form) {
    const output = form.querySelector("[data-preview-result]");
    const body = new FormData(form);
    chooser.appendTo(body);
    clearErrors(form);
    output.dataset.state = "running";
    const result = await UI.post(page.dataset.previewUrl, body);
    const data = result.data;
    if (!result.ok) {
      output.dataset.state = "error";
      const onField = markField(form, data.html_field, data.message);
      UI.fill(output, el("p", {class: "field-error"},
        onField ? "Cannot preview: " + data.message : data.message));
      return;
    }
    output.dataset.state = "done";
    const what = data.event_id ? "event " + data.event_id.slice(0, 8) + "…" : "the sample event";
    UI.fill(output,
      el("p", {class: "small"}, el("strong", null, "Exactly what it receives"), " for " + what +
        " (" + new Blob([data.body]).size + " bytes" + (data.pretty ? ", shown indented" : "") + "):"),
      el("pre", {class: "json", "data-preview-body": ""}, data.pretty || data.body),
      data.channels_group ? el("p", {class: "small"}, "Sent to the Channels group ", el("code", null, data.channels_group), ".") : null,
      data.channels_group_error ? el("p", {class: "field-error"}, "Group name: " + data.channels_group_error) : null
    );
  }

  page.querySelectorAll("[data-target-form]").forEach(function (form) {
    const kind = form.querySelector("select[name$='kind']");
    const timeout = form.querySelector(".kind-webhook");
    function showKind() { if (timeout) timeout.hidden = kind && kind.value !== "webhook"; }
    if (kind) kind.addEventListener("change", showKind);
    showKind();

    const modes = form.querySelectorAll("input[name$='input_mode']");
    function showMode() {
      const checked = form.querySelector("input[name$='input_mode']:checked");
      const mode = checked ? checked.value : "event";
      form.querySelectorAll("[data-input-field]").forEach(function (field) {
        field.hidden = field.dataset.inputField !== mode;
      });
    }
    modes.forEach(function (radio) { radio.addEventListener("change", showMode); });
    showMode();

    form.querySelector("[data-preview-target]").addEventListener("click", function () { preview(form); });
  });
})();
