// The sandbox page: a small Slack-like client for the local stand-in. Plain JS, no build.
"use strict";

(() => {
  const { el, textObject } = Mrkdwn;
  const { t } = I18n;
  const $ = (id) => document.getElementById(id);
  const S = {
    user: localStorage.getItem("escalator.user") || "U0REP1",
    data: null,
    current: localStorage.getItem("escalator.conversation") || "C0SUPPORT",
    tab: "messages",
    thread: null,
    seen: {},
    local: {},
    dismissed: new Set(),
    modalKey: null,
    homeKey: null,
    events: null,
    seq: 0,
    timer: null,
  };

  // ---- talking to the sandbox ----------------------------------------------------------

  async function post(path, body) {
    const response = await fetch("/sandbox/api/" + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(Object.assign({ user: S.user }, body)),
    });
    let answer = {};
    try { answer = await response.json(); } catch (e) { answer = {}; }
    if (!response.ok || answer.ok === false) {
      toast(answer.error || t("The request failed (HTTP %(status)s).", { status: response.status }));
      return null;
    }
    return answer;
  }

  async function refresh() {
    const seq = ++S.seq;
    const response = await fetch("/sandbox/api/state?user=" + encodeURIComponent(S.user));
    if (response.status === 400 && S.user !== "U0REP1") {
      S.user = "U0REP1";  // the remembered user is not in this workspace: start as the reporter
      listen();
      return refresh();
    }
    if (!response.ok) return;
    const data = await response.json();
    if (seq !== S.seq) return;
    S.data = data;
    render();
  }

  function scheduleRefresh() {
    if (S.timer) return;
    S.timer = setTimeout(() => { S.timer = null; refresh(); }, 60);
  }

  function listen() {
    if (S.events) S.events.close();
    S.events = new EventSource("/sandbox/api/events?user=" + encodeURIComponent(S.user));
    S.events.addEventListener("hello", scheduleRefresh);
    S.events.addEventListener("change", scheduleRefresh);
  }

  // ---- names, avatars, times -----------------------------------------------------------

  function ctx() {
    const users = {};
    const channels = {};
    (S.data.users || []).forEach((u) => { users[u.id] = u.real_name; });
    users[S.data.bot.id] = S.data.bot.name;
    (S.data.channels || []).forEach((c) => { channels[c.id] = c.name; });
    return { users, channels, me: S.user };
  }

  function person(id) {
    if (S.data && id === S.data.bot.id) return { id, real_name: "Escalator", bot: true };
    return (S.data.users || []).find((u) => u.id === id) || { id, real_name: id };
  }

  function avatar(id, small) {
    const who = person(id);
    const node = el("span", "avatar" + (small ? " avatar-sm" : "") + (who.bot ? " avatar-bot" : ""));
    const initials = who.bot ? "E" : who.real_name.split(/\s+/).map((w) => w[0]).join("").slice(0, 2);
    node.textContent = initials.toUpperCase();
    if (!who.bot) {
      let hash = 0;
      for (const ch of id) hash = (hash * 31 + ch.charCodeAt(0)) % 360;
      node.style.background = `hsl(${hash}, 45%, 42%)`;
    }
    return node;
  }

  // What each person of the demo workspace is, in the page's language ("engineer, manager").
  const ROLE_WORDS = {
    reporter: () => t("reporter"),
    customer: () => t("customer"),
    engineer: () => t("engineer"),
    manager: () => t("manager"),
  };

  function roleWords(role) {
    return role.split(", ").map((r) => (ROLE_WORDS[r] ? ROLE_WORDS[r]() : r))
      .reduce((a, b) => t("%(a)s, %(b)s", { a, b }));
  }

  function clock(ts) {
    return Mrkdwn.formatDate(Number(ts), "{time}");
  }

  function toast(text) {
    const node = el("div", "toast", text);
    $("toasts").appendChild(node);
    setTimeout(() => node.remove(), 6000);
  }

  // ---- rendering -------------------------------------------------------------------------

  function render() {
    renderSwitcher();
    if (!S.data.conversations.some((c) => c.id === S.current)) S.current = S.data.channels[0].id;
    if (S.current !== S.data.dm) S.tab = "messages";
    markSeen(S.current);
    renderSidebar();
    renderConversation();
    renderThread();
    renderModal();
  }

  function renderSwitcher() {
    const select = $("user-switch");
    if (select.options.length !== S.data.users.length) {
      select.textContent = "";
      S.data.users.forEach((u) => {
        const option = el("option", "", `${u.real_name} — ${roleWords(u.role)}`);
        option.value = u.id;
        select.appendChild(option);
      });
    }
    select.value = S.user;
    const holder = $("acting-avatar");
    holder.replaceWith(Object.assign(avatar(S.user, true), { id: "acting-avatar" }));
  }

  function topLevel(channel) {
    return (S.data.messages[channel] || []).filter(
      (m) => !m.thread_ts || m.thread_ts === m.ts || m.reply_broadcast);
  }

  function latest(channel) {
    const list = topLevel(channel);
    return list.length ? list[list.length - 1].ts : "0";
  }

  function seenMap() {
    if (!S.seen[S.user]) {
      S.seen[S.user] = {};
      S.data.conversations.forEach((c) => { S.seen[S.user][c.id] = latest(c.id); });
    }
    return S.seen[S.user];
  }

  function markSeen(channel) {
    seenMap()[channel] = latest(channel);
  }

  function unread(channel) {
    const seen = seenMap()[channel] || "0";
    return topLevel(channel).filter((m) => Number(m.ts) > Number(seen) && m.user !== S.user).length;
  }

  function navItem(conv, label, icon, tab) {
    const li = el("li");
    const link = el("button", "nav-item");
    link.type = "button";
    link.dataset.channel = conv.id;
    if (tab) link.dataset.tab = tab;
    const active = conv.id === S.current && (!tab || tab === S.tab);
    if (active) link.classList.add("active");
    const count = tab === "home" ? 0 : unread(conv.id);
    if (count && !active) link.classList.add("unread");
    link.append(icon, el("span", "nav-label", label));
    if (conv.kind === "im" && tab !== "home") link.appendChild(el("span", "app-badge", t("APP")));
    if (count && !active && conv.kind === "im") link.appendChild(el("span", "badge", String(count)));
    link.addEventListener("click", () => open(conv.id, tab || "messages"));
    li.appendChild(link);
    return li;
  }

  function renderSidebar() {
    const channels = $("channel-list");
    channels.textContent = "";
    S.data.channels.forEach((c) => {
      channels.appendChild(navItem(c, c.name, el("span", "nav-icon", c.private ? "🔒" : "#")));
    });
    const dm = S.data.conversations.find((c) => c.kind === "im");
    const dms = $("dm-list");
    dms.textContent = "";
    dms.appendChild(navItem(dm, "Escalator", avatar(S.data.bot.id, true), "messages"));
    const apps = $("app-list");
    apps.textContent = "";
    apps.appendChild(navItem(dm, t("Escalator Home"), el("span", "nav-icon", "⌂"), "home"));
  }

  function open(channel, tab) {
    S.current = channel;
    S.tab = tab || "messages";
    S.thread = null;
    localStorage.setItem("escalator.conversation", channel);
    render();
    $("messages").scrollTop = $("messages").scrollHeight;
    if (S.tab === "home") post("home", {});
    else $("composer-input").focus();
  }

  function renderConversation() {
    const conv = S.data.conversations.find((c) => c.id === S.current);
    const title = $("conv-title");
    title.textContent = "";
    if (conv.kind === "im") {
      title.append(avatar(S.data.bot.id, true), el("span", "", " Escalator"), el("span", "app-badge", t("APP")));
    } else {
      title.appendChild(el("span", "", "# " + conv.name));
    }
    const tabs = $("conv-tabs");
    tabs.textContent = "";
    if (conv.kind === "im") {
      [["home", t("Home")], ["messages", t("Messages")]].forEach(([key, label]) => {
        const tab = el("button", "tab" + (S.tab === key ? " active" : ""), label);
        tab.type = "button";
        tab.dataset.tab = key;
        tab.addEventListener("click", () => open(conv.id, key));
        tabs.appendChild(tab);
      });
    }
    const home = S.tab === "home";
    $("home").hidden = !home;
    $("messages").hidden = home;
    $("composer").hidden = home;
    if (home) return renderHome();
    S.homeKey = null;
    $("composer-input").placeholder = conv.kind === "im"
      ? t("Message Escalator") : t("Message #%(name)s", { name: conv.name });
    const box = $("messages");
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    box.textContent = "";
    const items = topLevel(conv.id).map((m) => ({ ts: m.ts, msg: m }));
    S.data.ephemerals
      .filter((e) => e.channel === conv.id && !S.dismissed.has(e.ts) && !inThread(e))
      .forEach((e) => items.push({ ts: e.ts, eph: e }));
    items.sort((a, b) => Number(a.ts) - Number(b.ts));
    if (!items.length) box.appendChild(intro(conv));
    let previous = null;
    items.forEach((item) => {
      const node = item.msg ? message(item.msg, previous, false) : ephemeral(item.eph);
      box.appendChild(node);
      previous = item.msg || null;
    });
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  function intro(conv) {
    const node = el("div", "intro");
    if (conv.kind === "im") {
      node.append(el("h2", "", "Escalator"), el("p", "",
        t("This is your direct message with the Escalator app. Pages, reminders and " +
          "replies about your tickets arrive here.")));
    } else {
      node.append(el("h2", "", "# " + conv.name), el("p", "",
        t("This is the very beginning of the #%(name)s channel. " +
          "Type /report to report a problem.", { name: conv.name })));
    }
    return node;
  }

  // An ephemeral that answers a message with a thread is shown in that thread.
  function inThread(eph) {
    if (!eph.thread_ts) return false;
    return (S.data.messages[eph.channel] || []).some(
      (m) => m.thread_ts === eph.thread_ts && m.ts !== eph.thread_ts);
  }

  function replies(channel, ts) {
    return (S.data.messages[channel] || []).filter((m) => m.thread_ts === ts && m.ts !== ts);
  }

  function blockOpts(surface, extra) {
    return Object.assign({
      ctx: ctx(),
      surface,
      users: S.data.users,
      channels: S.data.channels,
      confirm: confirmDialog,
      openUrl,
    }, extra);
  }

  function content(msg, channel) {
    const body = el("div", "msg-body");
    const blocks = (msg.blocks || []).filter((b) => b.type !== "rich_text");
    if (blocks.length) {
      body.appendChild(Blocks.render(blocks, blockOpts("message", {
        onAction: (a) => post("action", {
          channel, message_ts: msg.ts, action_id: a.action_id, block_id: a.block_id, value: a.value,
        }),
      })));
    } else {
      body.appendChild(Mrkdwn.render(msg.text, ctx()));
    }
    (msg.attachments || []).forEach((att) => {
      const bar = el("div", "attachment");
      if (att.color) bar.style.borderLeftColor = /^#?[0-9a-f]{3,8}$/i.test(att.color)
        ? (att.color[0] === "#" ? att.color : "#" + att.color) : "";
      if (att.blocks) bar.appendChild(Blocks.render(att.blocks, blockOpts("message", { onAction: () => null })));
      if (att.text) bar.appendChild(Mrkdwn.render(att.text, ctx()));
      body.appendChild(bar);
    });
    (msg.files || []).forEach((file) => {
      const box = el("div", "msg-file");
      if (/^image\//.test(file.mimetype)) {
        const img = el("img", "msg-file-image");
        img.src = file.url;
        img.alt = file.title || file.name;
        box.appendChild(img);
      }
      const link = el("a", "msg-file-link", file.title || file.name);
      link.href = file.url;
      link.download = file.name;
      box.appendChild(link);
      body.appendChild(box);
    });
    return body;
  }

  function message(msg, previous, inThreadPane) {
    const grouped = previous && previous.user === msg.user && !previous.blocks &&
      Number(msg.ts) - Number(previous.ts) < 300 && !inThreadPane;
    const node = el("div", "msg" + (grouped ? " grouped" : ""));
    node.dataset.ts = msg.ts;
    node.dataset.user = msg.user;
    const gutter = el("div", "msg-gutter");
    gutter.appendChild(grouped ? el("span", "msg-time-hover", clock(msg.ts)) : avatar(msg.user));
    const main = el("div", "msg-main");
    if (!grouped) {
      const head = el("div", "msg-head");
      head.appendChild(el("span", "author", person(msg.user).real_name));
      if (msg.is_bot) head.appendChild(el("span", "app-badge", t("APP")));
      const time = el("span", "msg-time", clock(msg.ts));
      time.title = Mrkdwn.formatDate(Number(msg.ts), "{date_num} {time_secs}");
      head.appendChild(time);
      main.appendChild(head);
    }
    main.appendChild(content(msg, msg.channel));
    if (msg.edited && !msg.is_bot) main.appendChild(el("span", "edited", t("(edited)")));
    if (msg.reactions && msg.reactions.length) {
      const row = el("div", "reactions");
      msg.reactions.forEach((r) => row.appendChild(
        el("span", "reaction", `${Mrkdwn.emoji(":" + r.name + ":")} ${r.users.length}`)));
      main.appendChild(row);
    }
    if (!inThreadPane) {
      const count = replies(msg.channel, msg.ts).length +
        S.data.ephemerals.filter((e) => e.thread_ts === msg.ts && inThread(e)).length;
      if (count) {
        const link = el("button", "thread-link", I18n.tn("%(n)d reply", "%(n)d replies", count));
        link.type = "button";
        link.addEventListener("click", () => openThread(msg.channel, msg.ts));
        main.appendChild(link);
      }
    }
    node.append(gutter, main, messageMenu(msg, inThreadPane));
    return node;
  }

  function messageMenu(msg, inThreadPane) {
    const bar = el("div", "msg-actions");
    if (!inThreadPane) {
      const reply = el("button", "icon-button", "💬");
      reply.type = "button";
      reply.title = t("Reply in thread");
      reply.addEventListener("click", () => openThread(msg.channel, msg.ts));
      bar.appendChild(reply);
    }
    const more = el("button", "icon-button more", "⋯");
    more.type = "button";
    more.title = t("More actions");
    more.setAttribute("aria-label", t("More actions"));
    const menu = el("div", "menu");
    menu.hidden = true;
    S.data.shortcuts.filter((s) => s.type === "message").forEach((shortcut) => {
      const item = el("button", "menu-item", shortcut.name);
      item.type = "button";
      item.dataset.callbackId = shortcut.callback_id;
      item.appendChild(el("span", "menu-sub", " Escalator"));
      item.addEventListener("click", () => {
        menu.hidden = true;
        post("shortcut", { channel: msg.channel, message_ts: msg.ts, callback_id: shortcut.callback_id });
      });
      menu.appendChild(item);
    });
    more.addEventListener("click", (event) => {
      event.stopPropagation();
      closeMenus();
      menu.hidden = false;
    });
    bar.append(more, menu);
    return bar;
  }

  function ephemeral(eph) {
    const node = el("div", "msg ephemeral");
    node.dataset.ts = eph.ts;
    const gutter = el("div", "msg-gutter");
    gutter.appendChild(avatar(S.data.bot.id));
    const main = el("div", "msg-main");
    const note = el("div", "only-you", "👁 " + t("Only visible to you"));
    const head = el("div", "msg-head");
    head.append(el("span", "author", "Escalator"), el("span", "app-badge", t("APP")),
      el("span", "msg-time", clock(eph.ts)));
    main.append(note, head, content(eph, eph.channel));
    const dismiss = el("button", "dismiss", t("Dismiss message"));
    dismiss.type = "button";
    dismiss.addEventListener("click", () => { S.dismissed.add(eph.ts); render(); });
    main.appendChild(dismiss);
    node.append(gutter, main);
    return node;
  }

  function openThread(channel, ts) {
    S.thread = { channel, ts };
    renderThread();
    $("thread-input").focus();
  }

  function renderThread() {
    const pane = $("thread");
    const parent = S.thread && (S.data.messages[S.thread.channel] || []).find((m) => m.ts === S.thread.ts);
    if (!parent || S.thread.channel !== S.current) {
      S.thread = null;
      pane.hidden = true;
      return;
    }
    pane.hidden = false;
    const conv = S.data.conversations.find((c) => c.id === parent.channel);
    $("thread-where").textContent = conv.kind === "im" ? "Escalator" : "#" + conv.name;
    const box = $("thread-messages");
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    box.textContent = "";
    box.appendChild(message(parent, null, true));
    const items = replies(parent.channel, parent.ts).map((m) => ({ ts: m.ts, msg: m }));
    S.data.ephemerals
      .filter((e) => e.channel === parent.channel && e.thread_ts === parent.ts && !S.dismissed.has(e.ts))
      .forEach((e) => items.push({ ts: e.ts, eph: e }));
    items.sort((a, b) => Number(a.ts) - Number(b.ts));
    if (items.length) box.appendChild(el("div", "reply-count", I18n.tn("%(n)d reply", "%(n)d replies", items.length)));
    items.forEach((item) => box.appendChild(item.msg ? message(item.msg, null, true) : ephemeral(item.eph)));
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  function renderHome() {
    const box = $("home");
    const home = S.data.home;
    const key = home ? home.id + home.hash : "none";
    if (key === S.homeKey) return;
    S.homeKey = key;
    box.textContent = "";
    if (!home) {
      box.appendChild(el("div", "intro", t("The app has not published a Home tab for you yet.")));
      return;
    }
    box.appendChild(Blocks.render(home.blocks, blockOpts("home", {
      onAction: (a) => post("action", {
        view_id: home.id, action_id: a.action_id, block_id: a.block_id, value: a.value,
      }),
    })));
  }

  // ---- modals (modal.js) -----------------------------------------------------------------

  function renderModal() {
    const view = S.data.modal;
    const key = view ? `${view.id}|${view.hash}|${JSON.stringify(view.errors)}` : null;
    if (key === S.modalKey) return;
    S.modalKey = key;
    Modal.render($("modal-root"), view, {
      post,
      local: () => S.local,
      blockOpts: (extra) => blockOpts("modal", extra),
    });
  }

  function confirmDialog(confirm) {
    return Modal.confirm(confirm, ctx());
  }

  // A permalink into this workspace opens the message here; other links open a new tab.
  const PERMALINK = /\/archives\/([A-Z0-9]+)\/p(\d{10})(\d{6})(?:\?thread_ts=(\d+\.\d+))?/;
  function openUrl(url) {
    const match = PERMALINK.exec(url);
    if (!match) {
      if (/^https?:/i.test(url)) window.open(url, "_blank", "noopener");
      return;
    }
    const [, channel, secs, micros, threadTs] = match;
    if (!S.data.conversations.some((c) => c.id === channel)) {
      toast(t("That message is in a conversation you cannot see."));
      return;
    }
    const ts = `${secs}.${micros}`;
    open(channel, "messages");
    if (threadTs) openThread(channel, threadTs);
    const node = document.querySelector(`#messages .msg[data-ts="${ts}"], #thread-messages .msg[data-ts="${ts}"]`);
    if (node) {
      node.scrollIntoView({ block: "center" });
      node.classList.add("highlight");
      setTimeout(() => node.classList.remove("highlight"), 2500);
    }
  }

  function closeMenus() {
    document.querySelectorAll(".menu").forEach((m) => { m.hidden = true; });
  }

  // ---- the message box -------------------------------------------------------------------

  function composer(form, input, threadOf) {
    const send = async () => {
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      $("suggest").hidden = true;
      const thread = threadOf();
      const answer = await post("message", {
        channel: thread ? thread.channel : S.current,
        text,
        thread_ts: thread ? thread.ts : null,
      });
      if (!answer && !input.value) input.value = text;
    };
    form.addEventListener("submit", (event) => { event.preventDefault(); send(); });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        send();
      }
    });
  }

  function suggest() {
    const input = $("composer-input");
    const list = $("suggest");
    const text = input.value;
    list.textContent = "";
    const typed = /^\/\S*$/.test(text) ? text : null;
    const matches = typed === null ? [] : S.data.commands.filter((c) => c.command.startsWith(typed));
    list.hidden = !matches.length;
    matches.forEach((c) => {
      const item = el("li", "suggest-item");
      item.append(el("strong", "", c.command), el("span", "suggest-hint", " " + (c.usage_hint || "")),
        el("div", "suggest-desc", c.description));
      item.addEventListener("mousedown", (event) => {
        event.preventDefault();
        input.value = c.command + " ";
        list.hidden = true;
        input.focus();
      });
      list.appendChild(item);
    });
  }

  function start() {
    composer($("composer"), $("composer-input"), () => null);
    composer($("thread-composer"), $("thread-input"), () => S.thread);
    $("composer-input").addEventListener("input", suggest);
    $("composer-input").addEventListener("blur", () => { $("suggest").hidden = true; });
    $("thread-close").addEventListener("click", () => { S.thread = null; renderThread(); });
    $("user-switch").addEventListener("change", async (event) => {
      S.user = event.target.value;
      localStorage.setItem("escalator.user", S.user);
      S.thread = null;
      S.local = {};
      S.modalKey = null;
      S.homeKey = null;
      const data = await post("switch", {});
      if (data) { S.data = data; render(); }
      listen();
      if (S.tab === "home") post("home", {});
    });
    document.addEventListener("click", closeMenus);
    document.addEventListener("click", (event) => {
      const link = event.target.closest && event.target.closest("a.link");
      if (link && PERMALINK.test(link.href)) {
        event.preventDefault();
        openUrl(link.href);
      }
    });
    document.addEventListener("keydown", (event) => { if (event.key === "Escape") closeMenus(); });
    refresh().then(() => {
      if (location.hash.startsWith("#/archives/")) openUrl(location.hash.slice(1));
      if (S.tab === "home") post("home", {});
    });
    listen();
  }

  I18n.load().then(start);
})();
