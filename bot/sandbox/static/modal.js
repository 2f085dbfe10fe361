// Modals as Slack shows them: title, close and submit, inputs with their errors, a back
// arrow on pushed views; and the confirm dialog of buttons that ask first.
"use strict";

const Modal = (() => {
  const { el, textObject } = Mrkdwn;

  function stateValue(entry) {
    if (!entry) return undefined;
    if ("selected_option" in entry) return entry.selected_option ? entry.selected_option.value : null;
    if ("selected_options" in entry) return (entry.selected_options || []).map((o) => o.value);
    for (const key of ["selected_user", "selected_users", "selected_date", "selected_time",
      "selected_conversation", "selected_channel", "selected_conversations", "selected_channels"]) {
      if (key in entry) return entry[key];
    }
    return entry.value === null ? undefined : entry.value;
  }

  function modalValues(view, deps) {
    const values = {};
    Object.entries(view.state || {}).forEach(([blockId, actions]) => {
      Object.entries(actions).forEach(([actionId, entry]) => {
        const value = stateValue(entry);
        if (value !== undefined) values[`${blockId}.${actionId}`] = value;
      });
    });
    return Object.assign(values, deps.local()[view.id] || {});
  }

  // Only what the view still has an input for goes back to Slack.
  function inputsOf(view, deps) {
    const keys = {};
    Object.entries(view.state || {}).forEach(([blockId, actions]) => {
      Object.keys(actions).forEach((actionId) => { keys[`${blockId}.${actionId}`] = true; });
    });
    const out = {};
    Object.entries(deps.local()[view.id] || {}).forEach(([key, value]) => {
      if (keys[key]) out[key] = value;
    });
    return out;
  }

  // deps: {post(path, body), local() -> {view_id: {key: value}}, blockOpts(extra)}
  function render(root, view, deps) {
    const post = deps.post;
    root.textContent = "";
    if (!view) return;
    const overlay = el("div", "overlay");
    const dialog = el("div", "modal");
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    dialog.dataset.viewId = view.id;
    dialog.dataset.callbackId = view.callback_id || "";
    const head = el("div", "modal-head");
    if (view.depth > 1) {
      const back = el("button", "icon-button", "←");
      back.type = "button";
      back.setAttribute("aria-label", I18n.t("Back"));
      back.addEventListener("click", () => post("close", { view_id: view.id }));
      head.appendChild(back);
    }
    head.appendChild(el("h2", "modal-title", Mrkdwn.plainText(view.title)));
    const x = el("button", "icon-button", "✕");
    x.type = "button";
    x.setAttribute("aria-label", I18n.t("Close"));
    x.addEventListener("click", () => post("close", { view_id: view.id }));
    head.appendChild(x);
    const body = el("div", "modal-body");
    body.appendChild(Blocks.render(view.blocks, deps.blockOpts({
      values: modalValues(view, deps),
      errors: view.errors,
      setValue: (k, v) => { (deps.local()[view.id] = deps.local()[view.id] || {})[k] = v; },
      onAction: (a) => post("action", {
        view_id: view.id, action_id: a.action_id, block_id: a.block_id, value: a.value,
        values: inputsOf(view, deps),
      }),
    })));
    const foot = el("div", "modal-foot");
    const cancel = el("button", "btn", Mrkdwn.plainText(view.close) || I18n.t("Cancel"));
    cancel.type = "button";
    cancel.addEventListener("click", () => post("close", { view_id: view.id }));
    foot.appendChild(cancel);
    if (view.submit) {
      const submit = el("button", "btn btn-primary", Mrkdwn.plainText(view.submit));
      submit.type = "submit";
      foot.appendChild(submit);
    }
    const form = el("form", "modal-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!view.submit) return;
      form.classList.add("busy");
      await post("submit", { view_id: view.id, values: inputsOf(view, deps) });
      form.classList.remove("busy");
    });
    form.append(head, body, foot);
    dialog.appendChild(form);
    overlay.appendChild(dialog);
    root.appendChild(overlay);
    const first = body.querySelector("input, textarea, select");
    if (first) first.focus();
  }

  function confirm(confirm, ctx) {
    return new Promise((resolve) => {
      const overlay = el("div", "overlay overlay-top");
      const dialog = el("div", "modal modal-small");
      dialog.setAttribute("role", "alertdialog");
      const done = (answer) => { overlay.remove(); resolve(answer); };
      const body = el("div", "modal-body");
      body.appendChild(textObject(confirm.text, ctx));
      const foot = el("div", "modal-foot");
      const deny = el("button", "btn", Mrkdwn.plainText(confirm.deny) || I18n.t("Cancel"));
      const yes = el("button", "btn " + (confirm.style === "danger" ? "btn-danger" : "btn-primary"),
        Mrkdwn.plainText(confirm.confirm) || I18n.t("Yes"));
      deny.addEventListener("click", () => done(false));
      yes.addEventListener("click", () => done(true));
      foot.append(deny, yes);
      const head = el("div", "modal-head");
      head.appendChild(el("h2", "modal-title", Mrkdwn.plainText(confirm.title) || I18n.t("Are you sure?")));
      dialog.append(head, body, foot);
      overlay.appendChild(dialog);
      document.body.appendChild(overlay);
      yes.focus();
    });
  }

  return { render, confirm };
})();
