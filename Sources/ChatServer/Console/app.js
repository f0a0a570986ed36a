// The chatlog console: chat in a browser over the REST API and the WebSocket.
// Every piece of text from the server is set with textContent, never parsed as HTML.

import { $, APIError, attempt, request, showError } from "./common.js";
import { startOperate } from "./ops.js";

const ROW = 56; // px: each message row's fixed height, so only the visible rows are rendered
const PAGE = 50;

const state = {
  token: sessionStorage.getItem("chatlog.token"),
  user: null,
  channels: [],
  current: null, // the open channel
  messages: [], // the open channel's messages, by seq
  olderCursor: null,
  loadingOlder: false,
  lastSeq: 0, // the open channel's last seq seen: history, posts and frames
  socket: null,
  socketWanted: false,
  retry: 0,
  editing: null, // the message being edited
};

// ---- The API ------------------------------------------------------------------------------

function api(method, path, body, headers = {}) {
  return request(method, path, body, state.token ? { ...headers, Authorization: `Bearer ${state.token}` } : headers);
}

/** A random UUID, also where crypto.randomUUID is missing (a page served over plain http). */
function uuid() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// ---- Signing in ---------------------------------------------------------------------------

function subject(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).sub;
  } catch {
    return null;
  }
}

async function signIn(token) {
  const user = subject(token);
  if (!user) throw new Error("that is not a JWT with a subject");
  state.token = token;
  state.user = user;
  await refreshChannels();
  sessionStorage.setItem("chatlog.token", token);
  $("sign-in").hidden = true;
  $("chat").hidden = false;
  $("sign-out").hidden = false;
  $("whoami").textContent = `signed in as ${user}`;
  state.socketWanted = true;
  connect();
  clearInterval(signIn.poll);
  signIn.poll = setInterval(() => refreshChannels().catch(() => {}), 2000);
}

function signOut() {
  sessionStorage.removeItem("chatlog.token");
  location.reload();
}

// ---- Channels -----------------------------------------------------------------------------

async function refreshChannels() {
  const { channels } = await api("GET", "/v1/channels");
  state.channels = channels;
  renderChannels();
  if (state.current) {
    const current = channels.find((c) => c.id === state.current.id);
    if (!current) closeChannel();
    else { state.current = current; renderChannelHead(); }
  }
}

function renderChannels() {
  const list = $("channel-list");
  list.replaceChildren(...state.channels.map((channel) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.channelId = channel.id;
    button.setAttribute("aria-current", String(state.current?.id === channel.id));
    const name = document.createElement("span");
    name.textContent = channel.name;
    button.append(name);
    if (channel.unreadCount > 0 && channel.id !== state.current?.id) {
      const unread = document.createElement("span");
      unread.className = "unread";
      unread.textContent = channel.unreadCount >= 1000 ? "999+" : String(channel.unreadCount);
      unread.setAttribute("aria-label", `${unread.textContent} unread`);
      button.append(unread);
    }
    button.addEventListener("click", attempt(() => openChannel(channel)));
    item.append(button);
    return item;
  }));
}

function renderChannelHead() {
  const channel = state.current;
  $("channel-title").textContent = channel ? channel.name : "No channel open";
  $("channel-members").textContent = channel ? `members: ${channel.members.join(", ")}` : "";
  $("channel-actions").hidden = !channel;
  $("send-form").hidden = !channel;
}

async function openChannel(channel) {
  if (state.current) send({ type: "unsubscribe", channelId: state.current.id });
  state.current = channel;
  state.messages = [];
  state.lastSeq = 0;
  state.olderCursor = null;
  renderChannels();
  renderChannelHead();
  const page = await api("GET", `/v1/channels/${encodeURIComponent(channel.id)}/messages?limit=${PAGE}`);
  if (state.current?.id !== channel.id) return;
  page.messages.forEach(upsert);
  state.olderCursor = page.nextCursor;
  render({ toBottom: true });
  subscribe();
  markRead();
  $("send-text").focus();
}

function closeChannel() {
  state.current = null;
  state.messages = [];
  renderChannels();
  renderChannelHead();
  render();
}

async function createChannel(event) {
  event.preventDefault();
  const name = $("create-name").value.trim();
  const members = $("create-members").value.split(",").map((m) => m.trim()).filter(Boolean);
  const { channel } = await api("POST", "/v1/channels", { name, members, agent: $("create-agent").checked });
  $("create-form").reset();
  await refreshChannels();
  await openChannel(channel);
}

const channelPath = () => `/v1/channels/${encodeURIComponent(state.current.id)}`;

async function channelAction(kind) {
  if (!state.current) return;
  if (kind === "rename") {
    const name = prompt("New name", state.current.name);
    if (name) await api("PATCH", channelPath(), { name });
  } else if (kind === "add") {
    const userId = prompt("User to add");
    if (userId) await api("POST", `${channelPath()}/members`, { userId });
  } else if (kind === "remove") {
    const userId = prompt("User to remove");
    if (userId) await api("DELETE", `${channelPath()}/members/${encodeURIComponent(userId)}`);
  } else if (kind === "leave") {
    await api("DELETE", `${channelPath()}/members/${encodeURIComponent(state.user)}`);
  } else if (kind === "delete") {
    if (confirm(`Delete ${state.current.name} for everyone?`)) await api("DELETE", channelPath());
  }
  await refreshChannels();
}

// ---- Messages -----------------------------------------------------------------------------

/** Adds or replaces a message, keeping them ordered by seq. */
function upsert(message) {
  state.lastSeq = Math.max(state.lastSeq, message.seq);
  const list = state.messages;
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (list[mid].seq < message.seq) low = mid + 1; else high = mid;
  }
  if (list[low]?.seq === message.seq) list[low] = message; else list.splice(low, 0, message);
}

function update(messageId, change) {
  const message = state.messages.find((m) => m.id === messageId);
  if (message) change(message);
}

async function loadOlder() {
  if (!state.current || !state.olderCursor || state.loadingOlder) return;
  state.loadingOlder = true;
  const channelId = state.current.id;
  try {
    const page = await api(
      "GET", `${channelPath()}/messages?limit=${PAGE}&cursor=${encodeURIComponent(state.olderCursor)}`);
    if (state.current?.id !== channelId) return;
    const before = state.messages.length;
    page.messages.forEach((m) => upsert(m));
    state.olderCursor = page.nextCursor;
    const view = $("messages");
    view.scrollTop += (state.messages.length - before) * ROW;
    render();
  } finally {
    state.loadingOlder = false;
  }
}

/** Renders the rows in view (and a margin) between two spacers that stand for the rest. */
function render({ toBottom = false } = {}) {
  const view = $("messages");
  const total = state.messages.length;
  if (toBottom) view.scrollTop = total * ROW;
  const first = Math.max(0, Math.floor(view.scrollTop / ROW) - 10);
  const last = Math.min(total, first + Math.ceil(view.clientHeight / ROW) + 20);
  $("spacer-top").style.height = `${first * ROW}px`;
  $("spacer-bottom").style.height = `${(total - last) * ROW}px`;
  $("message-list").replaceChildren(...state.messages.slice(first, last).map(row));
  if (toBottom) view.scrollTop = total * ROW;
}

function row(message) {
  const item = document.createElement("li");
  item.dataset.seq = message.seq;
  item.dataset.messageId = message.id;
  if (message.deleted) item.classList.add("deleted");
  const sender = document.createElement("span");
  sender.className = "sender";
  sender.textContent = message.senderId;
  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = `#${message.seq} ${new Date(message.createdAt).toLocaleTimeString()}${message.editedAt ? " (edited)" : ""}`;
  const actions = document.createElement("span");
  actions.className = "row-actions";
  if (message.senderId === state.user && !message.deleted) {
    const edit = document.createElement("button");
    edit.type = "button";
    edit.className = "edit";
    edit.textContent = "Edit";
    edit.setAttribute("aria-label", `Edit message ${message.seq}`);
    edit.addEventListener("click", () => startEditing(message));
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "delete";
    remove.textContent = "Delete";
    remove.setAttribute("aria-label", `Delete message ${message.seq}`);
    remove.addEventListener("click", attempt(() =>
      api("DELETE", `${channelPath()}/messages/${encodeURIComponent(message.id)}`)));
    actions.append(edit, remove);
  }
  const text = document.createElement("div");
  text.className = "text";
  text.textContent = message.deleted ? "message deleted" : message.text;
  text.title = message.deleted ? "" : message.text;
  item.append(sender, meta, actions, text);
  return item;
}

/** Moves the read marker to the last seq the open channel shows, once the view is at the
 * bottom; the server ignores a marker that is already there. */
function markRead() {
  const channel = state.current;
  if (!channel || !nearBottom() || state.lastSeq <= (channel.lastReadSeq || 0)) return;
  channel.lastReadSeq = state.lastSeq;
  api("POST", `/v1/channels/${encodeURIComponent(channel.id)}/read`, { seq: state.lastSeq }).catch(() => {});
}

function nearBottom() {
  const view = $("messages");
  return view.scrollHeight - view.scrollTop - view.clientHeight < ROW * 2;
}

function startEditing(message) {
  state.editing = message;
  const box = $("send-text");
  box.value = message.text;
  box.focus();
  $("send-form").querySelector("button").textContent = "Save";
}

function stopEditing() {
  state.editing = null;
  $("send-text").value = "";
  $("send-form").querySelector("button").textContent = "Send";
}

/** Posts with an idempotency key of its own, retried after a network error with the same
 * key, so a retry never doubles a message. */
async function post(text) {
  const key = uuid();
  for (let tries = 1; ; tries++) {
    try {
      return await api("POST", `${channelPath()}/messages`, { text }, { "Idempotency-Key": key });
    } catch (error) {
      if (error instanceof APIError || tries >= 4) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 * tries));
    }
  }
}

async function submit(event) {
  event.preventDefault();
  const text = $("send-text").value;
  if (!text.trim() || !state.current) return;
  if (state.editing) {
    const { message } = await api(
      "PATCH", `${channelPath()}/messages/${encodeURIComponent(state.editing.id)}`, { text });
    update(message.id, (m) => Object.assign(m, message));
    stopEditing();
    render();
    return;
  }
  $("send-text").value = "";
  const stick = nearBottom();
  const { message } = await post(text);
  if (state.current?.id === message.channelId) {
    upsert(message);
    render({ toBottom: stick });
  }
}

// ---- The agent -----------------------------------------------------------------------------

/** A synchronous conversation: the question, then the agent's reply or why there is none. */
async function ask(event) {
  event.preventDefault();
  const text = $("agent-text").value.trim();
  if (!text) return;
  $("agent-text").value = "";
  const log = $("agent-log");
  const line = (who, words, kind = "") => {
    const item = document.createElement("li");
    item.className = kind;
    item.textContent = `${who}: ${words}`;
    log.append(item);
    return item;
  };
  line(state.user, text);
  const waiting = line("agent", "thinking…", "waiting");
  try {
    const body = { message: text };
    if (state.conversationId) body.conversationId = state.conversationId;
    const answer = await api("POST", `/v1/users/${encodeURIComponent(state.user)}/chat`, body);
    state.conversationId = answer.conversationId;
    waiting.remove();
    line("agent", answer.reply.text);
  } catch (error) {
    waiting.remove();
    line("agent", `no reply (${error.code || "error"}: ${error.message})`, "waiting");
    throw error;
  }
}

// ---- Live delivery ------------------------------------------------------------------------

function setConnection(text, kind) {
  const badge = $("connection");
  badge.textContent = text;
  badge.className = `connection ${kind}`;
}

function send(frame) {
  if (state.socket?.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(frame));
}

function subscribe() {
  if (!state.current) return;
  state.subscribedFrom = state.lastSeq;
  send({ type: "subscribe", channelId: state.current.id, sinceSeq: state.lastSeq });
}

function connect() {
  if (!state.socketWanted) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/v1/ws?token=${encodeURIComponent(state.token)}`);
  state.socket = socket;
  socket.addEventListener("open", () => {
    state.retry = 0;
    setConnection("live", "live");
    subscribe();
  });
  socket.addEventListener("message", (event) => receive(JSON.parse(event.data)));
  socket.addEventListener("close", () => {
    if (state.socket !== socket) return;
    state.reconnecting = true;
    setConnection("reconnecting", "reconnecting");
    const wait = Math.max(state.holdReconnect || 0, Math.min(5000, 200 * 2 ** state.retry++));
    state.holdReconnect = 0;
    setTimeout(connect, wait);
  });
}

function receive(frame) {
  if (frame.type === "read") {
    // This user read on in another session.
    const channel = state.channels.find((c) => c.id === frame.channelId);
    if (channel) { channel.lastReadSeq = frame.seq; refreshChannels().catch(() => {}); }
    return;
  }
  if (frame.channelId && frame.channelId !== state.current?.id) return;
  const stick = nearBottom();
  switch (frame.type) {
    case "subscribed":
      if (state.reconnecting) setConnection(`resumed from ${state.subscribedFrom}`, "live");
      state.reconnecting = false;
      return;
    case "message":
      upsert(frame.message);
      break;
    case "event": {
      state.lastSeq = Math.max(state.lastSeq, frame.seq);
      const change = frame.event;
      if (change.type === "message.edited") {
        update(change.messageId, (m) => { m.text = change.text; m.editedAt = change.createdAt; });
      } else if (change.type === "message.deleted") {
        update(change.messageId, (m) => { m.deleted = true; m.text = undefined; });
      } else {
        refreshChannels().catch(() => {});
      }
      break;
    }
    case "unsubscribed":
      refreshChannels().catch(() => {});
      return;
    case "error":
      showError(new APIError(0, { error: frame }));
      return;
    default:
      return;
  }
  render({ toBottom: stick });
  markRead();
}

// ---- Wiring -------------------------------------------------------------------------------

async function start() {
  const config = await fetch("/console/config.json").then((r) => r.json()).catch(() => ({}));
  if (config.dev) {
    $("dev-banner").hidden = false;
    $("dev-form").hidden = false;
  }
  $("token-form").addEventListener("submit", attempt((event) => {
    event.preventDefault();
    return signIn($("token-input").value.trim());
  }));
  $("dev-form").addEventListener("submit", attempt(async (event) => {
    event.preventDefault();
    const { token } = await api("POST", "/v1/dev/token", { userId: $("dev-user").value.trim() });
    await signIn(token);
  }));
  $("sign-out").addEventListener("click", signOut);
  $("create-form").addEventListener("submit", attempt(createChannel));
  $("agent-form").addEventListener("submit", attempt(ask));
  $("send-form").addEventListener("submit", attempt(submit));
  $("send-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("send-form").requestSubmit();
    } else if (event.key === "Escape" && state.editing) {
      stopEditing();
    }
  });
  for (const [id, kind] of [["rename", "rename"], ["add-member", "add"], ["remove-member", "remove"],
    ["leave", "leave"], ["delete-channel", "delete"]]) {
    $(id).addEventListener("click", attempt(() => channelAction(kind)));
  }
  $("messages").addEventListener("scroll", () => {
    render();
    markRead();
    if ($("messages").scrollTop < ROW * 5) loadOlder().catch(showError);
  });
  window.addEventListener("resize", () => render());
  startOperate();
  if (state.token) await signIn(state.token).catch(() => sessionStorage.removeItem("chatlog.token"));
}

// For tests and the curious: drop the live connection as a network failure would, and stay
// away for `holdMs` before reconnecting.
window.chatlogConsole = {
  dropConnection: (holdMs = 0) => {
    state.holdReconnect = holdMs;
    state.socket?.close();
  },
};

start().catch(showError);
