// The sandbox page's words, from the bot's message catalogs (GET /sandbox/api/texts):
// t("Send"), t("Message #%(name)s", {name}), tn("%(n)d day ago", "%(n)d days ago", n).
// Elements of the page itself name their text with data-t (and data-t-placeholder,
// data-t-title, data-t-label for aria-label).
"use strict";

const I18n = (() => {
  let texts = {};
  let language = "en";

  function fill(text, params) {
    return text.replace(/%\((\w+)\)[sd]/g, (all, name) =>
      params && Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : all);
  }

  function t(msgid, params) {
    const found = texts[msgid];
    return fill(typeof found === "string" && found ? found : msgid, params);
  }

  function tn(singular, plural, n, params) {
    const found = texts[singular];
    const forms = Array.isArray(found) && found.every(Boolean) ? found : [singular, plural];
    const index = forms.length === 1 ? 0 : (n === 1 ? 0 : 1);
    return fill(forms[index], Object.assign({ n }, params));
  }

  function translatePage() {
    document.documentElement.lang = language;
    document.querySelectorAll("[data-t]").forEach((node) => { node.textContent = t(node.dataset.t); });
    const attributes = [["tPlaceholder", "placeholder"], ["tTitle", "title"], ["tLabel", "aria-label"]];
    attributes.forEach(([key, attribute]) => {
      document.querySelectorAll(`[data-${key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}]`)
        .forEach((node) => { node.setAttribute(attribute, t(node.dataset[key])); });
    });
  }

  async function load() {
    try {
      const response = await fetch("/sandbox/api/texts");
      if (response.ok) {
        const answer = await response.json();
        texts = answer.texts || {};
        language = answer.language || "en";
      }
    } catch (e) {
      // the page still works in the words it was written in
    }
    translatePage();
  }

  return { t, tn, load, get language() { return language; } };
})();
