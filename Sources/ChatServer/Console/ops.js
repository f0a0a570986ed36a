// The operator view: consumer groups with their lag per shard, a live chart of lag and commit
// rate, dead-letter redrive, and a reset with its dry run; all through the admin API with an
// API key holding the `admin` scope.

import { $, attempt, element, request, showError } from "./common.js";

const SAMPLES = 60;
const COLORS = ["#1f5fbf", "#c2410c", "#15803d", "#7e22ce"];
const ops = {
  key: sessionStorage.getItem("chatlog.adminKey"),
  timer: null,
  history: new Map(), // group → [{ lag, processed, at }]
  plan: null, // the last previewed reset
};

const admin = (method, path, body) => request(method, `/v1/admin${path}`, body, { "X-API-Key": ops.key });

/** Switches between the chat and operator views; the chat view keeps what it showed. */
function show(view) {
  const operate = view === "operate";
  $("tab-chat").setAttribute("aria-pressed", String(!operate));
  $("tab-operate").setAttribute("aria-pressed", String(operate));
  if (operate) {
    ops.chatViews = ["sign-in", "chat"].filter((id) => !$(id).hidden);
    for (const id of ["sign-in", "chat"]) $(id).hidden = true;
  } else {
    for (const id of ops.chatViews || ["sign-in"]) $(id).hidden = false;
  }
  $("operate").hidden = !operate;
  clearInterval(ops.timer);
  if (operate && ops.key) {
    refresh().catch(showError);
    ops.timer = setInterval(() => refresh().catch(showError), 1000);
  }
}

async function refresh() {
  const [{ groups }, { shards }] = await Promise.all([admin("GET", "/consumers"), admin("GET", "/streams")]);
  $("streams").tBodies[0].replaceChildren(...shards.map((shard) => {
    const row = element("tr", undefined, { "data-shard": `${shard.stream}/${shard.shard}` });
    for (const value of [`${shard.stream}/${shard.shard}`, shard.firstSeq, shard.head, shard.records, shard.bytes]) {
      row.append(element("td", value));
    }
    return row;
  }));
  const now = performance.now();
  for (const group of groups) {
    const samples = ops.history.get(group.name) || [];
    samples.push({
      lag: group.shards.reduce((sum, shard) => sum + shard.lag, 0),
      processed: group.shards.reduce((sum, shard) => sum + shard.processed, 0),
      at: now,
    });
    ops.history.set(group.name, samples.slice(-SAMPLES - 1));
  }
  renderGroups(groups);
  renderChart(groups.map((group) => group.name));
  const select = $("reset-group");
  if (select.options.length !== groups.length) {
    select.replaceChildren(...groups.map((group) => element("option", group.name, { value: group.name })));
  }
}

function renderGroups(groups) {
  $("groups").replaceChildren(...groups.map((group) => {
    const box = element("div", undefined, { class: "group", "data-group": group.name });
    const title = element("h4", `${group.name} — ${group.running ? "running" : "stopped"}, `
      + `${group.deadLetters} dead letter${group.deadLetters === 1 ? "" : "s"}`);
    const redrive = element("button", "Redrive dead letters", { type: "button", class: "redrive" });
    redrive.disabled = group.deadLetters === 0;
    redrive.addEventListener("click", attempt(async () => {
      const result = await admin("POST", `/consumers/${encodeURIComponent(group.name)}/dlq/redrive`);
      $("operate-result").textContent = `${group.name}: redriven ${result.redriven.length}, `
        + `still failing ${result.failed.length}`
        + result.failed.map((failure) => ` (${failure.position}: ${failure.error})`).join("");
      await refresh();
    }));
    const table = element("table", undefined, { class: "table" });
    const head = element("tr");
    for (const name of ["shard", "head", "checkpoint", "lag", "processed", "last error"]) head.append(element("th", name));
    table.append(element("thead"), element("tbody"));
    table.tHead.append(head);
    for (const shard of group.shards) {
      const row = element("tr", undefined, { "data-shard": `${shard.stream}/${shard.shard}` });
      for (const value of [`${shard.stream}/${shard.shard}`, shard.head, shard.checkpoint, shard.lag,
        shard.processed, shard.lastError || ""]) row.append(element("td", value));
      table.tBodies[0].append(row);
    }
    box.append(title, redrive, table);
    return box;
  }));
}

/** Lag (solid) and commits per second (dashed) of each group, scaled to the chart's height. */
function renderChart(names) {
  const svg = $("chart");
  const width = 600;
  const height = 180;
  const series = [];
  names.forEach((name, index) => {
    const samples = ops.history.get(name) || [];
    const lag = samples.map((sample) => sample.lag);
    const rate = samples.slice(1).map((sample, i) =>
      Math.max(0, (sample.processed - samples[i].processed) / Math.max(0.001, (sample.at - samples[i].at) / 1000)));
    series.push({ name: `${name} lag`, values: lag, color: COLORS[index % COLORS.length], dashed: false });
    series.push({ name: `${name} commits/s`, values: rate, color: COLORS[index % COLORS.length], dashed: true });
  });
  const top = Math.max(1, ...series.flatMap((line) => line.values));
  const ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren(...series.map((line) => {
    const polyline = document.createElementNS(ns, "polyline");
    const step = width / SAMPLES;
    const offset = width - (line.values.length - 1) * step;
    polyline.setAttribute("points", line.values.map((value, i) =>
      `${(offset + i * step).toFixed(1)},${(height - 4 - (value / top) * (height - 8)).toFixed(1)}`).join(" "));
    polyline.setAttribute("fill", "none");
    polyline.setAttribute("stroke", line.color);
    polyline.setAttribute("stroke-width", "2");
    if (line.dashed) polyline.setAttribute("stroke-dasharray", "4 3");
    return polyline;
  }));
  $("legend").replaceChildren(...series.map((line) => {
    const item = element("li", `${line.name}: ${Math.round(line.values.at(-1) ?? 0)}`);
    item.style.color = line.color;
    return item;
  }));
  svg.setAttribute("aria-label", `Lag and commit rate per group; highest ${Math.round(top)}`);
}

function resetBody(dryRun) {
  const to = $("reset-to").value;
  const body = { dryRun };
  if (to === "toSeq") body.toSeq = Number($("reset-seq").value); else body[to] = true;
  return body;
}

async function preview(event) {
  event.preventDefault();
  const group = $("reset-group").value;
  const plan = await admin("POST", `/consumers/${encodeURIComponent(group)}/reset`, resetBody(true));
  ops.plan = { group, body: resetBody(false) };
  const table = $("reset-plan");
  table.tBodies[0].replaceChildren(...plan.shards.map((move) => {
    const row = element("tr");
    for (const value of [`${move.stream}/${move.shard}`, move.from, move.to, move.toReprocess]) {
      row.append(element("td", value));
    }
    return row;
  }));
  table.hidden = false;
  $("reset-apply").disabled = false;
  $("operate-result").textContent = `dry run: ${group} would move as shown; nothing changed yet`;
}

async function apply() {
  if (!ops.plan) return;
  const { group, body } = ops.plan;
  if (!confirm(`Reset ${group} as previewed?`)) return;
  await admin("POST", `/consumers/${encodeURIComponent(group)}/reset`, body);
  $("reset-apply").disabled = true;
  ops.plan = null;
  $("operate-result").textContent = `${group} reset`;
  await refresh();
}

export function startOperate() {
  $("tab-chat").addEventListener("click", () => show("chat"));
  $("tab-operate").addEventListener("click", () => show("operate"));
  $("key-form").addEventListener("submit", attempt(async (event) => {
    event.preventDefault();
    ops.key = $("key-input").value.trim();
    sessionStorage.setItem("chatlog.adminKey", ops.key);
    $("key-input").value = "";
    show("operate");
  }));
  $("reset-form").addEventListener("submit", attempt(preview));
  $("reset-apply").addEventListener("click", attempt(apply));
  for (const id of ["reset-group", "reset-to", "reset-seq"]) {
    $(id).addEventListener("change", () => { $("reset-apply").disabled = true; ops.plan = null; });
  }
}
