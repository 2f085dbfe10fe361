// Slack's mrkdwn and plain_text, rendered as DOM nodes (never innerHTML): bold, italic,
// strike, code, code blocks, quotes, links, mentions as names, date tokens in the viewer's
// timezone, emoji shortcodes, and &lt; &gt; &amp; decoded.
"use strict";

const Mrkdwn = (() => {
  const EMOJI = {
    red_circle: "🔴", large_orange_circle: "🟠", large_yellow_circle: "🟡",
    large_green_circle: "🟢", large_blue_circle: "🔵", white_circle: "⚪", black_circle: "⚫",
    white_check_mark: "✅", floppy_disk: "💾", heavy_check_mark: "✔️", x: "❌", warning: "⚠️",
    rotating_light: "🚨", bell: "🔔", no_bell: "🔕", pager: "📟", fire: "🔥", sos: "🆘",
    hourglass: "⌛", hourglass_flowing_sand: "⏳", alarm_clock: "⏰", stopwatch: "⏱️",
    calendar: "📅", date: "📅", memo: "📝", pencil: "📝", clipboard: "📋", wrench: "🔧",
    hammer_and_wrench: "🛠️", mag: "🔍", eyes: "👀", thumbsup: "👍", "+1": "👍",
    thumbsdown: "👎", "-1": "👎", tada: "🎉", star: "⭐", speech_balloon: "💬",
    arrow_up: "⬆️", arrow_down: "⬇️", arrow_right: "➡️", arrows_counterclockwise: "🔄",
    no_entry: "⛔", no_entry_sign: "🚫", information_source: "ℹ️", bulb: "💡",
    raising_hand: "🙋", wave: "👋", hand: "✋", pushpin: "📌", link: "🔗", lock: "🔒",
    busts_in_silhouette: "👥", bust_in_silhouette: "👤", package: "📦", rocket: "🚀",
    chart_with_upwards_trend: "📈", bar_chart: "📊", heavy_plus_sign: "➕",
    hourglass_done: "⌛", construction: "🚧", telephone_receiver: "📞", mega: "📣",
    loudspeaker: "📢", inbox_tray: "📥", outbox_tray: "📤", envelope: "✉️", zzz: "💤",
    pause_button: "⏸️", arrow_forward: "▶️", repeat: "🔁", question: "❓", exclamation: "❗",
    ok_hand: "👌", smile: "😄", slightly_smiling_face: "🙂", disappointed: "😞",
    satellite: "📡", shield: "🛡️", card_index: "📇", ticket: "🎫", admission_tickets: "🎟️",
  };
  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];
  const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
  const PH_BASE = 0xe000;

  function decode(text) {
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function emoji(text) {
    return text.replace(/:([a-z0-9_+-]+):/g, (all, name) => EMOJI[name] || all);
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // ---- dates ---------------------------------------------------------------------------

  function ordinal(n) {
    const rest = n % 100;
    if (rest >= 11 && rest <= 13) return n + "th";
    return n + (["th", "st", "nd", "rd"][n % 10] || "th");
  }

  function dayDiff(date, now) {
    const a = new Date(date.getFullYear(), date.getMonth(), date.getDate());
    const b = new Date(now.getFullYear(), now.getMonth(), now.getDate());
    return Math.round((a - b) / 86400000);
  }

  const { t, tn } = I18n;
  const AGO = {
    day: (n) => tn("%(n)d day ago", "%(n)d days ago", n),
    hour: (n) => tn("%(n)d hour ago", "%(n)d hours ago", n),
    minute: (n) => tn("%(n)d minute ago", "%(n)d minutes ago", n),
    second: (n) => tn("%(n)d second ago", "%(n)d seconds ago", n),
  };
  const IN = {
    day: (n) => tn("in %(n)d day", "in %(n)d days", n),
    hour: (n) => tn("in %(n)d hour", "in %(n)d hours", n),
    minute: (n) => tn("in %(n)d minute", "in %(n)d minutes", n),
    second: (n) => tn("in %(n)d second", "in %(n)d seconds", n),
  };

  function ago(date, now) {
    const seconds = Math.round((date - now) / 1000);
    const abs = Math.abs(seconds);
    const units = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
    for (const [name, size] of units) {
      if (abs >= size || name === "second") {
        const n = Math.floor(abs / size);
        return seconds < 0 ? AGO[name](n) : IN[name](n);
      }
    }
    return t("now");
  }

  // Dates as a Slack client in the page's language shows them: Chinese readers see
  // 24-hour times and Chinese dates; English readers Slack's English default.
  function englishDates(date) {
    const month = MONTHS[date.getMonth()];
    const dateLong = `${month} ${ordinal(date.getDate())}, ${date.getFullYear()}`;
    return {
      time: new Intl.DateTimeFormat("en-US", { hour: "numeric", minute: "2-digit" }),
      timeSecs: new Intl.DateTimeFormat("en-US",
        { hour: "numeric", minute: "2-digit", second: "2-digit" }),
      dateLong,
      dateShort: `${month.slice(0, 3)} ${date.getDate()}, ${date.getFullYear()}`,
      weekday: DAYS[date.getDay()] + ", ",
      dayDivider: `${DAYS[date.getDay()]}, ${month} ${ordinal(date.getDate())}`,
    };
  }

  function chineseDates(date) {
    const format = (options) => new Intl.DateTimeFormat("zh-CN", options).format(date);
    const weekday = format({ weekday: "long" });
    return {
      time: new Intl.DateTimeFormat("zh-CN",
        { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }),
      timeSecs: new Intl.DateTimeFormat("zh-CN",
        { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }),
      dateLong: format({ year: "numeric", month: "long", day: "numeric" }),
      dateShort: format({ year: "numeric", month: "short", day: "numeric" }),
      weekday: weekday + " ",
      dayDivider: format({ month: "long", day: "numeric" }) + " " + weekday,
    };
  }

  function formatDate(seconds, format, now) {
    const date = new Date(seconds * 1000);
    now = now || new Date();
    const words = I18n.language.startsWith("zh") ? chineseDates(date) : englishDates(date);
    const { time, dateLong, dateShort } = words;
    const timeSecs = words.timeSecs;
    const pretty = (fallback) => {
      const diff = dayDiff(date, now);
      if (diff === 0) return t("Today");
      if (diff === -1) return t("Yesterday");
      if (diff === 1) return t("Tomorrow");
      return fallback;
    };
    const pad = (n) => String(n).padStart(2, "0");
    const tokens = {
      date_num: `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`,
      date: dateLong,
      date_short: dateShort,
      date_long: words.weekday + dateLong,
      date_pretty: pretty(dateLong),
      date_short_pretty: pretty(dateShort),
      date_long_pretty: pretty(words.weekday + dateLong),
      day_divider_pretty: pretty(words.dayDivider),
      time: time.format(date),
      time_secs: timeSecs.format(date),
      ago: ago(date, now),
    };
    return format.replace(/\{([a-z_]+)\}/g, (all, name) => tokens[name] || all);
  }

  // ---- <…> control sequences ------------------------------------------------------------

  function safeHref(url) {
    return /^(https?:|mailto:)/i.test(url) ? url : null;
  }

  function link(href, label) {
    const safe = safeHref(href);
    if (!safe) return document.createTextNode(label);
    const a = el("a", "link", label);
    a.href = safe;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  function control(body, ctx) {
    const bar = body.indexOf("|");
    const head = bar >= 0 ? body.slice(0, bar) : body;
    const label = bar >= 0 ? decode(body.slice(bar + 1)) : null;
    if (head.startsWith("@")) {
      const id = head.slice(1);
      const name = (ctx.users && ctx.users[id]) || label || id;
      const span = el("span", "mention" + (id === ctx.me ? " mention-me" : ""), "@" + name);
      span.dataset.user = id;
      return span;
    }
    if (head.startsWith("#")) {
      const id = head.slice(1);
      const name = (ctx.channels && ctx.channels[id]) || label || id;
      const span = el("span", "mention channel-mention", "#" + name);
      span.dataset.channel = id;
      return span;
    }
    if (head.startsWith("!")) {
      const parts = head.slice(1).split("^");
      if (parts[0] === "date" && parts.length >= 3) {
        const seconds = Number(parts[1]);
        if (!Number.isFinite(seconds)) return document.createTextNode(label || "");
        const text = formatDate(seconds, decode(parts[2]), ctx.now);
        const span = parts[3] ? link(decode(parts[3]), text) : el("span", "date", text);
        span.classList.add("date");
        span.title = formatDate(seconds, "{date_num} {time_secs}", ctx.now);
        span.dataset.ts = String(seconds);
        return span;
      }
      if (["here", "channel", "everyone"].includes(parts[0])) {
        return el("span", "mention mention-broadcast", "@" + parts[0]);
      }
      if (parts[0] === "subteam") return el("span", "mention", label || "@group");
      return document.createTextNode(label || "");
    }
    return link(decode(head), label !== null ? label : decode(head));
  }

  // ---- inline formatting ----------------------------------------------------------------

  const WORD = /[A-Za-z0-9]/;

  function openOk(s, i) {
    const prev = i > 0 ? s[i - 1] : "";
    const next = s[i + 1];
    return (!prev || !WORD.test(prev)) && next !== undefined && !/\s/.test(next) &&
      next !== s[i];
  }

  function findClose(s, i, mark) {
    for (let k = i + 2; k < s.length; k++) {
      if (s[k] === "\n") return -1;
      if (s[k] === mark && !/\s/.test(s[k - 1]) && (k + 1 === s.length || !WORD.test(s[k + 1]))) {
        return k;
      }
    }
    return -1;
  }

  const TAGS = { "*": "b", "_": "i", "~": "s" };

  function format(s, tokens, ctx, parent) {
    let buf = "";
    const flush = () => {
      if (buf) appendText(buf, tokens, ctx, parent);
      buf = "";
    };
    for (let i = 0; i < s.length; i++) {
      const ch = s[i];
      if (TAGS[ch] && openOk(s, i)) {
        const j = findClose(s, i, ch);
        if (j > i + 1) {
          flush();
          const node = el(TAGS[ch]);
          format(s.slice(i + 1, j), tokens, ctx, node);
          parent.appendChild(node);
          i = j;
          continue;
        }
      }
      buf += ch;
    }
    flush();
  }

  function appendText(s, tokens, ctx, parent) {
    let text = "";
    for (const ch of s) {
      const code = ch.codePointAt(0) - PH_BASE;
      if (code >= 0 && code < tokens.length) {
        if (text) parent.appendChild(document.createTextNode(emoji(decode(text))));
        text = "";
        parent.appendChild(tokens[code]());
      } else {
        text += ch;
      }
    }
    if (text) parent.appendChild(document.createTextNode(emoji(decode(text))));
  }

  function inline(line, ctx, parent) {
    const tokens = [];
    const placeholder = (make) => {
      tokens.push(make);
      return String.fromCodePoint(PH_BASE + tokens.length - 1);
    };
    // Placeholders must never be typed by people: drop any private-use characters first.
    let s = line.replace(/[\ue000-\uf8ff]/g, "");
    s = s.replace(/`([^`\n]+)`/g, (all, code) => placeholder(() => el("code", "", decode(code))));
    s = s.replace(/<([^<>\n]+)>/g, (all, body) => placeholder(() => control(body, ctx)));
    format(s, tokens, ctx, parent);
  }

  function lines(text, ctx, parent) {
    const rows = text.split("\n");
    let quote = null;
    rows.forEach((row, index) => {
      const quoted = /^(&gt;|>)\s?/.exec(row);
      if (quoted) {
        if (!quote) {
          quote = el("blockquote");
          parent.appendChild(quote);
        } else {
          quote.appendChild(el("br"));
        }
        inline(row.slice(quoted[0].length), ctx, quote);
        return;
      }
      if (quote) quote = null;
      else if (index > 0) parent.appendChild(el("br"));
      inline(row, ctx, parent);
    });
  }

  // The whole text: code blocks first (nothing inside them is formatted), then lines.
  function render(text, ctx) {
    const frag = el("span", "mrkdwn");
    const parts = String(text || "").split("```");
    parts.forEach((part, index) => {
      const isCode = index % 2 === 1 && index < parts.length - 1;
      if (isCode) {
        frag.appendChild(el("pre", "code-block", decode(part.replace(/^\n/, ""))));
      } else if (index % 2 === 1) {
        lines("```" + part, ctx, frag);
      } else if (part) {
        lines(part, ctx, frag);
      }
    });
    return frag;
  }

  function plain(text, withEmoji) {
    const value = String(text || "");
    return document.createTextNode(withEmoji === false ? value : emoji(value));
  }

  // A text object ({type: "mrkdwn"|"plain_text", text, emoji}).
  function textObject(obj, ctx) {
    if (!obj) return document.createTextNode("");
    if (typeof obj === "string") return plain(obj, true);
    if (obj.type === "mrkdwn") return render(obj.text, ctx);
    return plain(obj.text, obj.emoji !== false);
  }

  function plainText(obj) {
    if (!obj) return "";
    if (typeof obj === "string") return emoji(obj);
    return obj.type === "mrkdwn" ? emoji(decode(obj.text || "")) : emoji(obj.text || "");
  }

  return { render, textObject, plainText, formatDate, decode, emoji, el };
})();
