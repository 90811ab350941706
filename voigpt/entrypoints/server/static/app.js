// The chat page. A reply is untrusted: it is shown as sanitised Markdown (markdown.js), and
// what you type is shown as plain text, exactly as sent. With "JSON" on, a request asks for
// `response_format: {"type": "json_object"}`, and a reply that is a JSON object or array is
// shown formatted, as text (never Markdown, never HTML). Chats, the API key and the last
// model live in this browser's localStorage.

import { ApiError, listModels, streamCompletion } from "./api.js";
import { showMarkdown } from "./markdown.js";

const STORE = { chats: "voigpt.chats.v1", current: "voigpt.current", key: "voigpt.apiKey", model: "voigpt.model" };
const MAX_CHATS = 50;
const TITLE_LENGTH = 48;
// A phone or a touch screen, with no keyboard to speak of: no "Enter sends, Shift+Enter..." hints.
const TOUCH = matchMedia("(max-width: 600px), (pointer: coarse)");
const PLACEHOLDER = { keys: "Message voigpt (Enter sends, Shift+Enter: new line)", touch: "Message voigpt" };

const $ = (id) => document.getElementById(id);
const ui = {
  sidebar: $("sidebar"), toggle: $("toggle-chats"), newChat: $("new-chat"), chats: $("chats"),
  noChats: $("no-chats"), forgetKey: $("forget-key"), model: $("model"), system: $("system"),
  systemSet: $("system-set"), log: $("log"), empty: $("empty"), notice: $("notice"),
  composer: $("composer"), message: $("message"), send: $("send"), stop: $("stop"),
  json: $("json-mode"),
};
const JSON_FORMAT = { type: "json_object" };

// ---- storage (a browser without localStorage still chats, it just forgets) ----

function read(name, fallback) {
  try {
    const value = localStorage.getItem(name);
    return value === null ? fallback : JSON.parse(value);
  } catch {
    return fallback;
  }
}

function write(name, value) {
  try {
    if (value === null || value === undefined) localStorage.removeItem(name);
    else localStorage.setItem(name, JSON.stringify(value));
  } catch {
    // full or disabled: keep going in memory
  }
}

function validChat(chat) {
  return chat && typeof chat.id === "string" && Array.isArray(chat.messages)
    && chat.messages.every((m) => m && (m.role === "user" || m.role === "assistant")
      && typeof m.content === "string");
}

let chats = read(STORE.chats, []).filter(validChat);
let current = null;
let inFlight = null; // { controller, reason }

function apiKey() {
  const key = read(STORE.key, "");
  return typeof key === "string" ? key : "";
}

function newChat() {
  const id = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now() + Math.random());
  return { id, title: "", system: current ? current.system : "", model: read(STORE.model, ""),
           messages: [], updated: Date.now() };
}

function listed(chat) {
  return chats.some((c) => c.id === chat.id);
}

function saveChat(chat) {
  chat.updated = Date.now();
  if (!chat.title) {
    const first = chat.messages.find((m) => m.role === "user");
    if (first) chat.title = first.content.replace(/\s+/g, " ").trim().slice(0, TITLE_LENGTH);
  }
  if (chat.messages.length > 0 && !listed(chat)) chats.unshift(chat);
  if (listed(chat)) {
    chats.sort((a, b) => b.updated - a.updated);
    chats = chats.slice(0, MAX_CHATS);
    write(STORE.chats, chats);
  }
  write(STORE.current, chat.id);
}

// ---- rendering ----

function appendMessage(role, text, json = false) {
  ui.empty.hidden = true;
  const item = document.createElement("article");
  item.className = `message ${role}`;
  const who = document.createElement("h3");
  who.className = "who";
  who.textContent = role === "user" ? "You" : "voigpt";
  const body = document.createElement("div");
  body.className = role === "user" ? "text" : "text markdown";
  showText(body, role, text, json);
  item.append(who, body);
  ui.log.append(item);
  scrollToEnd();
  return { item, body };
}

function showText(body, role, text, json = false) {
  if (role === "user") body.textContent = text; // as typed: text only
  else if (!(json && showJson(body, text))) showMarkdown(body, text); // untrusted: sanitised
}

// A structured answer (asked for in JSON mode) as formatted JSON, as text only; false if
// `text` is not a JSON object or array (then it is shown as any other reply).
function showJson(body, text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  if (value === null || typeof value !== "object") return false;
  const pre = document.createElement("pre");
  pre.className = "json";
  pre.textContent = JSON.stringify(value, null, 2);
  body.replaceChildren(pre);
  return true;
}

function scrollToEnd() {
  ui.log.scrollTop = ui.log.scrollHeight;
}

function renderLog() {
  for (const node of [...ui.log.querySelectorAll(".message")]) node.remove();
  ui.empty.hidden = current.messages.length > 0;
  for (const message of current.messages) {
    appendMessage(message.role, message.content, message.format === "json");
  }
}

function renderChats() {
  ui.chats.replaceChildren();
  for (const chat of chats) {
    const item = document.createElement("li");
    const open = document.createElement("button");
    open.type = "button";
    open.className = "chat";
    open.textContent = chat.title || "Untitled chat";
    open.title = chat.title || "Untitled chat";
    if (current && chat.id === current.id) open.setAttribute("aria-current", "true");
    open.addEventListener("click", () => openChat(chat.id));
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "delete quiet";
    remove.textContent = "\u00d7";
    remove.setAttribute("aria-label", `Delete chat: ${chat.title || "Untitled chat"}`);
    remove.addEventListener("click", () => deleteChat(chat.id));
    item.append(open, remove);
    ui.chats.append(item);
  }
  ui.noChats.textContent = chats.length
    ? "Kept in this browser only."
    : "No past chats yet. They are kept in this browser only.";
  ui.forgetKey.hidden = !apiKey();
}

function renderChat() {
  ui.system.value = current.system || "";
  ui.systemSet.hidden = !ui.system.value.trim();
  if (current.model && [...ui.model.options].some((o) => o.value === current.model)) {
    ui.model.value = current.model;
  }
  renderLog();
  renderChats();
}

function setSidebar(open) {
  ui.sidebar.classList.toggle("open", open);
  ui.toggle.setAttribute("aria-expanded", String(open));
}

// ---- notices ----

function clearNotice() {
  ui.notice.hidden = true;
  ui.notice.className = "notice";
  delete ui.notice.dataset.kind;
  ui.notice.replaceChildren();
}

function notice(kind, headline, detail, actions = []) {
  clearNotice();
  ui.notice.classList.add(kind);
  ui.notice.dataset.kind = kind;
  const strong = document.createElement("p");
  strong.className = "headline";
  strong.textContent = headline;
  ui.notice.append(strong);
  if (detail) {
    const more = document.createElement("p");
    more.className = "detail";
    more.textContent = detail; // the server's message: text only
    ui.notice.append(more);
  }
  if (actions.length) {
    const row = document.createElement("div");
    row.className = "notice-actions";
    row.append(...actions);
    ui.notice.append(row);
  }
  ui.notice.hidden = false;
}

function button(label, onClick, className = "") {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = label;
  if (className) element.className = className;
  element.addEventListener("click", onClick);
  return element;
}

function retryButton(waitSeconds = 0) {
  const retry = button("Retry", () => send());
  if (waitSeconds > 0) {
    retry.disabled = true;
    setTimeout(() => { retry.disabled = false; }, waitSeconds * 1000);
  }
  return retry;
}

function keyForm(afterSave) {
  const form = document.createElement("form");
  form.className = "key-form";
  const label = document.createElement("label");
  label.htmlFor = "api-key";
  label.textContent = "API key";
  const input = document.createElement("input");
  input.id = "api-key";
  input.type = "password";
  input.autocomplete = "off";
  input.spellcheck = false;
  input.required = true;
  const save = document.createElement("button");
  save.type = "submit";
  save.className = "primary";
  save.textContent = afterSave ? "Save key and retry" : "Save key";
  form.append(label, input, save);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return input.focus();
    write(STORE.key, key);
    clearNotice();
    renderChats();
    loadModels();
    if (afterSave) afterSave();
  });
  return { form, input };
}

function showError(error, retry) {
  const status = error.status ? ` (HTTP ${error.status})` : "";
  switch (error.kind) {
    case "auth": {
      const { form, input } = keyForm(retry);
      notice("auth", error.keySent
        ? "The server refused this API key. Enter the right one."
        : "This server needs an API key. Enter it to chat.", error.message, [form]);
      input.focus();
      return;
    }
    case "rate": {
      const wait = error.retryAfter;
      const when = wait == null ? "Try again shortly." : `Try again in ${wait} s.`;
      notice("rate", `voigpt.com is rate limiting. ${when}`, error.message,
        retry ? [retryButton(wait || 0)] : []);
      return;
    }
    case "timeout":
      notice("timeout", `voigpt.com did not answer in time${status}.`, error.message,
        retry ? [retryButton()] : []);
      return;
    case "upstream":
      notice("upstream", `voigpt.com failed to answer${status}.`, error.message,
        retry ? [retryButton()] : []);
      return;
    case "network":
      notice("network", "Could not reach the voigpt server. Is it still running?",
        error.message, retry ? [retryButton()] : []);
      return;
    case "stream":
      notice("upstream", "The reply was cut off.", error.message, retry ? [retryButton()] : []);
      return;
    case "aborted":
      notice("info", "Stopped. Your message is back in the box.", "", []);
      return;
    default:
      notice("request", `The server refused the request${status}.`, error.message, []);
  }
}

// ---- models ----

async function loadModels() {
  try {
    const models = await listModels(apiKey());
    const previous = current.model || read(STORE.model, "") || ui.model.value;
    ui.model.replaceChildren();
    for (const id of models) {
      const option = document.createElement("option");
      option.value = id;
      option.textContent = id;
      ui.model.append(option);
    }
    if (models.includes(previous)) ui.model.value = previous;
  } catch (error) {
    // a key prompt already up (say, one that retries a message) stays as it is
    const prompting = !ui.notice.hidden && ui.notice.dataset.kind === "auth";
    if (error instanceof ApiError && error.kind === "auth" && !prompting) showError(error, null);
  }
}

// ---- sending ----

function setBusy(flight) {
  inFlight = flight;
  ui.send.hidden = Boolean(flight);
  ui.stop.hidden = !flight;
  ui.log.setAttribute("aria-busy", String(Boolean(flight)));
}

function conversation(chat) {
  const system = (chat.system || "").trim();
  const messages = chat.messages.map(({ role, content }) => ({ role, content }));
  return system ? [{ role: "system", content: chat.system }, ...messages] : messages;
}

async function send() {
  if (inFlight) return;
  const text = ui.message.value;
  if (!text.trim()) return;
  clearNotice();
  const chat = current;
  chat.model = ui.model.value;
  const json = ui.json.checked;
  const turn = { role: "user", content: text };
  chat.messages.push(turn);
  ui.message.value = "";
  const asked = appendMessage("user", text);
  const answer = appendMessage("assistant", "");
  answer.item.classList.add("pending");
  answer.body.textContent = "\u2026";
  const controller = new AbortController();
  const flight = { controller, reason: "stop" }; // "switch" when another chat is opened
  setBusy(flight);
  let reply = "";
  try {
    const stream = streamCompletion({
      messages: conversation(chat), model: chat.model, key: apiKey(), signal: controller.signal,
      responseFormat: json ? JSON_FORMAT : null,
    });
    for await (const delta of stream) {
      reply += delta;
      showText(answer.body, "assistant", reply, json); // the Markdown of the text so far
      scrollToEnd();
    }
    answer.item.classList.remove("pending");
    showText(answer.body, "assistant", reply, json);
    chat.messages.push(json ? { role: "assistant", content: reply, format: "json" }
      : { role: "assistant", content: reply });
    saveChat(chat);
    if (chat === current) renderChats();
  } catch (caught) {
    if (chat.messages[chat.messages.length - 1] === turn) chat.messages.pop();
    asked.item.remove();
    answer.item.remove();
    if (chat !== current || flight.reason === "switch") return;
    ui.empty.hidden = chat.messages.length > 0;
    if (!ui.message.value.trim()) ui.message.value = text;
    const error = caught instanceof ApiError
      ? caught : new ApiError("stream", String(caught && caught.message ? caught.message : caught));
    showError(error, () => send());
  } finally {
    if (inFlight === flight) setBusy(null);
    if (chat === current && ui.notice.dataset.kind !== "auth") ui.message.focus();
  }
}

function stop() {
  if (inFlight) inFlight.controller.abort();
}

function abortForSwitch() {
  if (!inFlight) return;
  inFlight.reason = "switch";
  inFlight.controller.abort();
  setBusy(null);
}

function openChat(id) {
  const chat = chats.find((c) => c.id === id);
  if (!chat || chat === current) return setSidebar(false);
  abortForSwitch();
  clearNotice();
  current = chat;
  write(STORE.current, chat.id);
  renderChat();
  setSidebar(false);
  ui.message.focus();
}

function startNewChat() {
  abortForSwitch();
  clearNotice();
  if (current.messages.length > 0) current = newChat();
  write(STORE.current, current.id);
  renderChat();
  setSidebar(false);
  ui.message.value = "";
  ui.message.focus();
}

function deleteChat(id) {
  chats = chats.filter((c) => c.id !== id);
  write(STORE.chats, chats);
  if (current.id === id) {
    abortForSwitch();
    current = newChat();
    renderChat();
  } else {
    renderChats();
  }
}

function keyHints() {
  for (const hint of document.querySelectorAll(".key-hint")) hint.hidden = TOUCH.matches;
  ui.message.placeholder = TOUCH.matches ? PLACEHOLDER.touch : PLACEHOLDER.keys;
}

// ---- wiring ----

ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  send();
});
ui.message.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.altKey && !event.isComposing) {
    event.preventDefault();
    send();
  } else if (event.key === "Escape" && inFlight) {
    stop();
  }
});
ui.stop.addEventListener("click", stop);
ui.newChat.addEventListener("click", startNewChat);
ui.toggle.addEventListener("click", () => {
  const open = !ui.sidebar.classList.contains("open");
  setSidebar(open);
  if (open) ui.newChat.focus();
});
document.addEventListener("click", (event) => {
  const outside = !ui.sidebar.contains(event.target) && !ui.toggle.contains(event.target);
  if (outside && ui.sidebar.classList.contains("open")) setSidebar(false);
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && ui.sidebar.classList.contains("open")) {
    setSidebar(false);
    ui.toggle.focus();
  }
});
ui.system.addEventListener("input", () => {
  current.system = ui.system.value;
  ui.systemSet.hidden = !ui.system.value.trim();
  if (listed(current)) saveChat(current);
});
ui.model.addEventListener("change", () => {
  current.model = ui.model.value;
  write(STORE.model, ui.model.value);
  if (listed(current)) saveChat(current);
});
ui.forgetKey.addEventListener("click", () => {
  write(STORE.key, null);
  renderChats();
  ui.message.focus();
});

TOUCH.addEventListener("change", keyHints);
keyHints();

current = chats.find((c) => c.id === read(STORE.current, "")) || newChat();
renderChat();
loadModels();
document.documentElement.dataset.ready = "true";
