// Block Kit rendered as DOM: header, section (text, fields, accessory), context, divider,
// actions, image, rich_text, and input blocks in modals. Every string goes in as textContent.
"use strict";

const Blocks = (() => {
  const { el, textObject, plainText } = Mrkdwn;

  // opts: {ctx, surface: "message"|"modal"|"home", onAction(action, element) -> Promise,
  //        values: {"block.action": value}, setValue(key, value), errors: {block_id: text},
  //        users: [{id, real_name}], channels: [{id, name}], confirm(confirmObject) -> Promise}
  function render(blocks, opts) {
    const root = el("div", "blocks");
    (blocks || []).forEach((block) => {
      const node = renderBlock(block, opts);
      if (node) {
        node.classList.add("block", "block-" + (block.type || "unknown"));
        if (block.block_id) node.dataset.blockId = block.block_id;
        root.appendChild(node);
      }
    });
    return root;
  }

  function renderBlock(block, opts) {
    switch (block.type) {
      case "header": return el("div", "", plainText(block.text));
      case "divider": return el("hr");
      case "section": return section(block, opts);
      case "context": return context(block, opts);
      case "actions": return actions(block, opts);
      case "input": return input(block, opts);
      case "image": return image(block.alt_text, block.title ? plainText(block.title) : "");
      case "rich_text": return richText(block, opts);
      default: return el("div", "unsupported", `[a ${block.type} block]`);
    }
  }

  function section(block, opts) {
    const node = el("div");
    const body = el("div", "section-body");
    if (block.text) {
      const text = el("div", "section-text");
      text.appendChild(textObject(block.text, opts.ctx));
      body.appendChild(text);
    }
    if (block.fields && block.fields.length) {
      const fields = el("div", "fields");
      block.fields.forEach((field) => {
        const cell = el("div", "field");
        cell.appendChild(textObject(field, opts.ctx));
        fields.appendChild(cell);
      });
      body.appendChild(fields);
    }
    node.appendChild(body);
    if (block.accessory) {
      const accessory = el("div", "accessory");
      accessory.appendChild(element(block.accessory, block, opts, false));
      node.appendChild(accessory);
    }
    return node;
  }

  function context(block, opts) {
    const node = el("div");
    (block.elements || []).forEach((item) => {
      if (item.type === "image") node.appendChild(image(item.alt_text, "", true));
      else {
        const span = el("span", "context-item");
        span.appendChild(textObject(item, opts.ctx));
        node.appendChild(span);
      }
    });
    return node;
  }

  function actions(block, opts) {
    const node = el("div");
    (block.elements || []).forEach((item) => node.appendChild(element(item, block, opts, false)));
    return node;
  }

  function image(alt, title, small) {
    // No internet here: show the image's description instead of fetching it.
    const box = el("div", small ? "image image-small" : "image");
    box.title = alt || "";
    box.textContent = small ? "🖼" : "🖼 " + (title || alt || "image");
    return box;
  }

  function richText(block, opts) {
    const node = el("div", "rich-text");
    const walk = (items, parent) => (items || []).forEach((item) => {
      if (item.type === "text") {
        const tag = item.style && item.style.code ? "code" : item.style && item.style.bold ? "b" :
          item.style && item.style.italic ? "i" : item.style && item.style.strike ? "s" : "span";
        parent.appendChild(el(tag, "", item.text));
      } else if (item.type === "user") {
        parent.appendChild(textObject({ type: "mrkdwn", text: `<@${item.user_id}>` }, opts.ctx));
      } else if (item.type === "channel") {
        parent.appendChild(textObject({ type: "mrkdwn", text: `<#${item.channel_id}>` }, opts.ctx));
      } else if (item.type === "link") {
        parent.appendChild(textObject({ type: "mrkdwn", text: `<${item.url}|${item.text || item.url}>` }, opts.ctx));
      } else if (item.type === "emoji") {
        parent.appendChild(document.createTextNode(Mrkdwn.emoji(`:${item.name}:`)));
      } else if (item.elements) {
        const tag = item.type === "rich_text_preformatted" ? "pre" :
          item.type === "rich_text_quote" ? "blockquote" : "div";
        const child = el(tag);
        walk(item.elements, child);
        parent.appendChild(child);
      }
    });
    walk(block.elements, node);
    return node;
  }

  // ---- inputs (modals) -------------------------------------------------------------------

  function input(block, opts) {
    const node = el("div");
    const label = el("label", "input-label", plainText(block.label));
    if (block.optional) label.appendChild(el("span", "optional", " (optional)"));
    node.appendChild(label);
    if (block.element) node.appendChild(element(block.element, block, opts, true));
    if (block.hint) node.appendChild(el("div", "hint", plainText(block.hint)));
    const error = opts.errors && opts.errors[block.block_id];
    if (error) {
      node.classList.add("has-error");
      node.appendChild(el("div", "input-error", "⚠ " + error));
    }
    return node;
  }

  function keyOf(block, item) {
    return `${block.block_id}.${item.action_id}`;
  }

  function current(block, item, opts) {
    const values = opts.values || {};
    return values[keyOf(block, item)];
  }

  // Called when an element changes: inside an input block it records the value (and
  // dispatches when the block asks); elsewhere every change is an action sent to the app.
  function changed(block, item, value, opts, inInput, node) {
    if (inInput) {
      if (opts.setValue) opts.setValue(keyOf(block, item), value);
      if (!block.dispatch_action) return;
    }
    send(block, item, value, opts, node);
  }

  function send(block, item, value, opts, node) {
    const go = () => {
      if (node) node.classList.add("busy");
      const done = () => node && node.classList.remove("busy");
      Promise.resolve(opts.onAction({
        action_id: item.action_id, block_id: block.block_id, value, type: item.type,
      })).then(done, done);
    };
    if (item.confirm && opts.confirm) opts.confirm(item.confirm).then((yes) => yes && go());
    else go();
  }

  function options(item) {
    const list = (item.options || []).slice();
    (item.option_groups || []).forEach((g) => list.push(...(g.options || [])));
    return list;
  }

  function element(item, block, opts, inInput) {
    const type = item.type;
    if (type === "button") return button(item, block, opts);
    if (type === "overflow") return overflow(item, block, opts);
    if (type === "radio_buttons" || type === "checkboxes") return choices(item, block, opts, inInput);
    if (type === "plain_text_input") return textInput(item, block, opts, inInput);
    if (["number_input", "email_text_input", "url_text_input"].includes(type)) {
      return textInput(item, block, opts, inInput);
    }
    if (type === "datepicker" || type === "timepicker") return picker(item, block, opts, inInput);
    if (type === "image") return image(item.alt_text, "", true);
    if (/select$/.test(type)) return select(item, block, opts, inInput);
    return el("span", "unsupported", `[${type}]`);
  }

  function button(item, block, opts) {
    const node = el("button", "btn" + (item.style ? " btn-" + item.style : ""));
    node.type = "button";
    node.appendChild(document.createTextNode(plainText(item.text)));
    node.dataset.actionId = item.action_id || "";
    node.addEventListener("click", () => {
      if (item.url && opts.openUrl) opts.openUrl(item.url);
      send(block, item, item.value === undefined ? null : item.value, opts, node);
    });
    return node;
  }

  function overflow(item, block, opts) {
    const wrap = el("span", "overflow");
    const toggle = el("button", "btn btn-icon", "⋯");
    toggle.type = "button";
    toggle.setAttribute("aria-label", I18n.t("More options"));
    const menu = el("div", "menu");
    menu.hidden = true;
    options(item).forEach((option) => {
      const entry = el("button", "menu-item", plainText(option.text));
      entry.type = "button";
      entry.addEventListener("click", () => {
        menu.hidden = true;
        if (option.url && opts.openUrl) opts.openUrl(option.url);
        send(block, item, option.value, opts, toggle);
      });
      menu.appendChild(entry);
    });
    toggle.addEventListener("click", (event) => {
      event.stopPropagation();
      menu.hidden = !menu.hidden;
    });
    wrap.append(toggle, menu);
    return wrap;
  }

  function initialOf(item) {
    switch (item.type) {
      case "radio_buttons": case "static_select": case "external_select":
        return item.initial_option ? item.initial_option.value : null;
      case "checkboxes": case "multi_static_select": case "multi_external_select":
        return (item.initial_options || []).map((o) => o.value);
      case "users_select": return item.initial_user || null;
      case "multi_users_select": return item.initial_users || [];
      case "conversations_select": return item.initial_conversation || null;
      case "channels_select": return item.initial_channel || null;
      case "datepicker": return item.initial_date || null;
      case "timepicker": return item.initial_time || null;
      default: return item.initial_value || "";
    }
  }

  function valueFor(item, block, opts) {
    const value = current(block, item, opts);
    return value === undefined ? initialOf(item) : value;
  }

  function choices(item, block, opts, inInput) {
    const multi = item.type === "checkboxes";
    const group = el("div", multi ? "checkboxes" : "radios");
    const name = `${block.block_id}.${item.action_id}.${Math.random().toString(36).slice(2)}`;
    const chosen = valueFor(item, block, opts);
    const picked = new Set(multi ? chosen || [] : chosen ? [chosen] : []);
    options(item).forEach((option) => {
      const row = el("label", "choice");
      const box = el("input");
      box.type = multi ? "checkbox" : "radio";
      box.name = name;
      box.value = option.value;
      box.checked = picked.has(option.value);
      box.addEventListener("change", () => {
        const value = multi
          ? Array.from(group.querySelectorAll("input:checked")).map((b) => b.value)
          : option.value;
        changed(block, item, value, opts, inInput, group);
      });
      const text = el("span", "choice-text");
      text.appendChild(textObject(option.text, opts.ctx));
      row.append(box, text);
      if (option.description) row.appendChild(el("span", "choice-desc", plainText(option.description)));
      group.appendChild(row);
    });
    return group;
  }

  function textInput(item, block, opts, inInput) {
    const multiline = item.type === "plain_text_input" && item.multiline;
    const node = el(multiline ? "textarea" : "input", "text-input");
    if (!multiline) {
      node.type = { number_input: "number", email_text_input: "email", url_text_input: "url" }[item.type] || "text";
    } else {
      node.rows = 4;
    }
    node.value = valueFor(item, block, opts) || "";
    if (item.placeholder) node.placeholder = plainText(item.placeholder);
    if (item.max_length) node.maxLength = item.max_length;
    node.addEventListener("input", () => {
      if (opts.setValue) opts.setValue(keyOf(block, item), node.value);
    });
    node.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !multiline && (block.dispatch_action || !inInput)) {
        event.preventDefault();
        send(block, item, node.value, opts, node);
      }
    });
    return node;
  }

  function picker(item, block, opts, inInput) {
    const node = el("input", "text-input picker");
    node.type = item.type === "datepicker" ? "date" : "time";
    node.value = valueFor(item, block, opts) || "";
    node.addEventListener("change", () => changed(block, item, node.value || null, opts, inInput, node));
    return node;
  }

  function select(item, block, opts, inInput) {
    const type = item.type;
    const multi = type.startsWith("multi_");
    const node = el("select", "select");
    node.multiple = multi;
    let list;
    if (/users_select$/.test(type)) {
      list = (opts.users || []).map((u) => ({ value: u.id, label: u.real_name }));
    } else if (/(conversations|channels)_select$/.test(type)) {
      list = (opts.channels || []).map((c) => ({ value: c.id, label: "#" + c.name }));
    } else {
      list = options(item).map((o) => ({ value: o.value, label: plainText(o.text) }));
    }
    if (!multi) {
      const placeholder = el("option", "", plainText(item.placeholder) || I18n.t("Select an item"));
      placeholder.value = "";
      node.appendChild(placeholder);
    }
    const chosen = valueFor(item, block, opts);
    const picked = new Set(multi ? chosen || [] : chosen ? [chosen] : []);
    list.forEach((entry) => {
      const option = el("option", "", entry.label);
      option.value = entry.value;
      option.selected = picked.has(entry.value);
      node.appendChild(option);
    });
    node.addEventListener("change", () => {
      const value = multi
        ? Array.from(node.selectedOptions).map((o) => o.value)
        : node.value || null;
      changed(block, item, value, opts, inInput, node);
    });
    return node;
  }

  return { render };
})();
