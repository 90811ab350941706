// A reply as Markdown, safely. The reply is untrusted, so there are three locks, each
// enough on its own for script: markdown-it renders with raw HTML off (a tag in a reply is
// shown as text), DOMPurify keeps only the tags and attributes that markdown-it's own
// output needs, and the page's CSP runs no inline script. Nothing in a reply fetches
// anything: an image becomes a link to it, and only http(s) and mailto links are links.
// The result is a DOM fragment (DOMPurify's): no HTML string is ever assigned to the page.

import MarkdownIt from "./vendor/markdown-it-15.0.3/markdown-it.esm.min.mjs";
import DOMPurify from "./vendor/dompurify-3.5.0/purify.es.mjs";

const LINKABLE = /^(?:https?:|mailto:)/i;
const TAGS = [
  "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li",
  "pre", "code", "em", "strong", "s", "a", "table", "thead", "tbody", "tr", "th", "td",
];
const SANITIZE = {
  ALLOWED_TAGS: TAGS, ALLOWED_ATTR: ["href", "title", "start", "class"],
  ALLOW_DATA_ATTR: false, ALLOW_ARIA_ATTR: false, ALLOWED_URI_REGEXP: LINKABLE,
  RETURN_DOM_FRAGMENT: true,
};

// breaks: a single newline in a reply is a line break, as it was when replies were text.
const md = new MarkdownIt({ html: false, linkify: false, breaks: true });
md.validateLink = (url) => LINKABLE.test(url.trim());

// An image is a link to it, never an <img>: a reply cannot make the browser fetch.
md.renderer.rules.image = (tokens, index, options, env, renderer) => {
  const token = tokens[index];
  const alt = renderer.renderInlineAsText(token.children || [], options, env);
  const label = md.utils.escapeHtml(alt ? `[image: ${alt}]` : "[image]");
  const src = token.attrGet("src");
  return src ? `<a href="${md.utils.escapeHtml(src)}">${label}</a>` : label;
};

// A table's column alignment as a class: the CSP refuses style attributes.
md.core.ruler.push("align_as_class", (state) => {
  for (const token of state.tokens) {
    const align = /^text-align:(left|right|center)$/.exec(token.attrGet("style") || "");
    if (!align) continue;
    token.attrs = token.attrs.filter(([name]) => name !== "style");
    token.attrJoin("class", `align-${align[1]}`);
  }
});

const usable = DOMPurify.isSupported;

// Shows `text` as Markdown in `target`, replacing what it held; as plain text if this
// browser cannot sanitise.
export function showMarkdown(target, text) {
  if (!usable) {
    target.textContent = text;
    return;
  }
  const fragment = DOMPurify.sanitize(md.render(text), SANITIZE);
  for (const link of fragment.querySelectorAll("a")) {
    link.target = "_blank";
    link.rel = "noopener noreferrer";
  }
  for (const pre of fragment.querySelectorAll("pre")) withCopyButton(pre);
  target.replaceChildren(fragment);
}

// ---- code blocks ----

let status = null; // one polite live region that says what a copy did

function announce(message) {
  if (!status) {
    status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    document.body.append(status);
  }
  status.textContent = message;
}

function withCopyButton(pre) {
  const code = pre.querySelector("code") || pre;
  const language = /(?:^|\s)language-(\S+)/.exec(code.className);
  const block = document.createElement("div");
  block.className = "code-block";
  const bar = document.createElement("div");
  bar.className = "code-bar";
  const name = document.createElement("span");
  name.className = "code-language";
  name.textContent = language ? language[1] : "code";
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "copy quiet";
  label(copy, "Copy", " code"); // its name: "Copy code"
  copy.addEventListener("click", () => copyCode(code, copy));
  bar.append(name, copy);
  pre.replaceWith(block);
  block.append(bar, pre);
}

function label(button, shown, unseen = "") {
  const more = document.createElement("span");
  more.className = "visually-hidden";
  more.textContent = unseen;
  button.replaceChildren(shown, more);
}

const resets = new WeakMap(); // button -> the timer that puts "Copy" back

async function copyCode(code, button) {
  const text = code.textContent.replace(/\n$/, "");
  let copied = false;
  try {
    await navigator.clipboard.writeText(text);
    copied = true;
  } catch {
    // no Clipboard API (a page over plain http from another machine): select and copy
    const range = document.createRange();
    range.selectNodeContents(code);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
  }
  label(button, copied ? "Copied" : "Selected");
  announce(copied ? "Code copied to the clipboard." : "Could not copy: the code is selected.");
  clearTimeout(resets.get(button));
  resets.set(button, setTimeout(() => label(button, "Copy", " code"), 2000));
}
