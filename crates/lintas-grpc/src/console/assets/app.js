// Lintas operator console. Plain script, no build step: it reads the
// node's console API with the token the operator gives and draws the
// pages. Text from the node is always set as text, never as markup.
"use strict";

const state = {
  token: sessionStorage.getItem("lintas-console-token") || "",
  lang: localStorage.getItem("lintas-console-lang") || "en",
  words: {},
  region: null,
};

// ---- words -------------------------------------------------------------

async function loadWords(lang) {
  const response = await fetch(`/console/i18n/${lang}.json`);
  state.words = response.ok ? await response.json() : {};
  state.lang = lang;
  document.documentElement.lang = lang;
  localStorage.setItem("lintas-console-lang", lang);
  for (const el of document.querySelectorAll("[data-i18n]")) {
    const word = state.words[el.dataset.i18n];
    if (word) el.textContent = word;
  }
}

// A value the node names in English (a notice kind, a stage, an action):
// its word in the chosen language, or the node's word when there is none.
function word(group, value) {
  return state.words[`${group}.${value}`] || value;
}

// What a notice concerns, in the chosen language.
function concerns(c) {
  if (!c) return "—";
  const parts = [];
  if (c.victims.length) parts.push(`${t("concerns.victims")} ${c.victims.join(", ")}`);
  if (c.suspects.length) parts.push(`${t("concerns.suspects")} ${c.suspects.join(", ")}`);
  if (c.targets.length) {
    parts.push(`${t("concerns.targets")} ${c.targets.map((x) =>
      x.target_id + (x.action ? ` (${word("action", x.action)})` : "") + (x.outcome ? ` ${word("outcome", x.outcome)}` : "")).join(", ")}`);
  }
  if (c.compound) parts.push(`${t("compound")} ${c.compound}`);
  return parts.join("; ") || "—";
}

// A word of the page in the chosen language, {name} replaced.
function t(key, vars = {}) {
  let text = state.words[key] || key;
  for (const [name, value] of Object.entries(vars)) {
    text = text.replaceAll(`{${name}}`, String(value));
  }
  return text;
}

// ---- building the page ------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "onclick") node.addEventListener("click", v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// A table: caption, header words, rows of cells (a cell is text, a node,
// or {text, number: true, class}).
function table(caption, headers, rows, empty) {
  if (rows.length === 0) return el("p", { text: empty });
  const head = el("tr", {}, headers.map((h) => el("th", { scope: "col", text: h })));
  const body = rows.map((cells) =>
    el("tr", {}, cells.map((c) => {
      if (c instanceof Node) return el("td", {}, c);
      if (c && typeof c === "object") {
        return el("td", { class: [c.number ? "number" : "", c.class || ""].join(" ").trim() || null, text: c.text });
      }
      return el("td", { text: c === null || c === undefined ? "—" : c });
    })));
  return el("table", {}, el("caption", { text: caption }), el("thead", {}, head), el("tbody", {}, body));
}

function card(label, figure, extra) {
  return el("div", { class: "card" }, el("div", { text: label }), el("div", { class: "figure", text: figure }), extra || null);
}

function when(text) {
  if (!text) return "—";
  return String(text).replace("T", " ").replace(/(\.\d+)?Z$/, " UTC");
}

function show(...nodes) {
  const view = document.getElementById("view");
  view.replaceChildren(...nodes);
}

// ---- the API ----------------------------------------------------------

class Unauthorized extends Error {}

async function api(path, method = "GET") {
  const response = await fetch(`/console/api${path}`, {
    method,
    headers: { Authorization: `Bearer ${state.token}` },
  });
  if (response.status === 401) throw new Unauthorized();
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// ---- pages ------------------------------------------------------------

async function overview() {
  const o = await api("/overview");
  document.getElementById("agency").textContent = `· ${o.agency}`;
  const cards = el("div", { class: "cards" },
    card(t("outbox"), o.outbox),
    card(t("dead_letters"), o.dead_letters),
    card(t("overdue"), o.overdue),
    card(t("accepted"), o.counts.accepted),
    card(t("sent"), o.counts.sent),
    card(t("delivered"), o.counts.delivered),
    card(t("alarms"), o.log.alarms.length));
  const peers = table(t("peers"), [t("agency"), t("name"), t("state"), t("last_answer"), t("round_trip"),
    t("queued"), t("priority.urgent"), t("priority.high"), t("priority.routine"), t("in_flight"), t("failures")],
    o.peers.map((p) => [p.agency, p.name,
      { text: t(`state.${p.state}`), class: `state-${p.state.replace(" ", "-")}` },
      when(p.last_answer),
      { text: p.round_trip_ms === null ? "—" : `${p.round_trip_ms.toFixed(1)} ms`, number: true },
      { text: p.queued, number: true },
      { text: p.queued_by_priority.urgent, number: true, class: p.queued_by_priority.urgent ? "warn" : "" },
      { text: p.queued_by_priority.high, number: true }, { text: p.queued_by_priority.routine, number: true },
      { text: p.in_flight, number: true }, { text: p.failures, number: true }]),
    t("no_peers"));
  const refusals = refusalTable(o);
  const stages = ["accepted", "delivered", "read", "action started", "action completed", "declined", "not competent", "forwarded", "erased"];
  const count = (direction, stage) => (o.receipts.find((r) => r.direction === direction && r.stage === stage) || { count: 0 }).count;
  const receipts = table(t("receipts"), [t("stage"), t("receipts.given"), t("receipts.received")],
    stages.filter((s) => count("given", s) || count("received", s))
      .map((s) => [word("stage", s), { text: count("given", s), number: true }, { text: count("received", s), number: true }]),
    t("no_receipts"));
  const deliveries = table(t("deliveries"), [t("outcome"), t("count")], [
    [t("delivered"), { text: o.counts.delivered, number: true }],
    [t("refused_by_peers"), { text: o.counts.refused_by_peers, number: true }],
    [t("unreachable"), { text: o.counts.unreachable, number: true }],
    [t("dead_letters"), { text: o.counts.dead_letters, number: true }],
    [t("duplicates"), { text: o.counts.duplicates, number: true }],
  ], "");
  const r = o.roster;
  const roster = el("section", {},
    el("h2", { text: t("roster") }),
    el("p", { text: t("roster_line", { version: r.version, agencies: r.agencies, expires: when(r.expires_at), days: r.expires_in_days }),
      class: r.expires_in_days < 30 ? "warn" : null }),
    table(t("keys_expiring"), [t("agency"), t("key"), t("valid_until")],
      r.keys_expiring.map((k) => [k.agency, k.key_id, { text: when(k.valid_until), class: k.expired ? "alarm" : "warn" }]),
      t("no_keys_expiring")));
  const log = el("section", {},
    el("h2", { text: t("log") }),
    el("p", { text: t("log_line", { size: o.log.size, cosigned: o.log.cosigned ? o.log.cosigned.size : "—", cosignatures: o.log.cosigned ? o.log.cosigned.cosignatures : 0 }) }),
    table(t("alarms"), [t("origin"), t("detected_at"), t("detail")],
      o.log.alarms.map((a) => [{ text: a.origin, class: "alarm" }, when(a.detected_at), a.detail]), t("no_alarms")));
  show(el("h2", { text: t("nav.overview") }), cards, peers, deliveries, receipts, refusals, roster, log);
}

// Refusals by reason: since the node started, in the latest ten minutes,
// hour and day, and a bar per ten minutes over the day.
function refusalTable(o) {
  const span = o.refusal_history.bucket_seconds * 1000;
  const now = Date.parse(o.now);
  const buckets = o.refusal_history.buckets.map((b) => ({ start: Date.parse(b.start), counts: b.counts }));
  const within = (reason, ms) => buckets.filter((b) => b.start + span > now - ms)
    .reduce((sum, b) => sum + (b.counts[reason] || 0), 0);
  const slots = 144;
  const first = Math.floor(now / span) * span - (slots - 1) * span;
  const ns = "http://www.w3.org/2000/svg";
  const bars = (reason) => {
    const root = document.createElementNS(ns, "svg");
    const values = new Array(slots).fill(0);
    for (const b of buckets) {
      const i = Math.round((b.start - first) / span);
      if (i >= 0 && i < slots) values[i] += b.counts[reason] || 0;
    }
    const top = Math.max(1, ...values);
    root.setAttribute("viewBox", `0 0 ${slots * 2} 20`);
    root.setAttribute("class", "bars");
    root.setAttribute("role", "img");
    root.setAttribute("aria-label", t("refusals_bars", { reason, total: within(reason, 86400000) }));
    values.forEach((v, i) => {
      if (!v) return;
      const rect = document.createElementNS(ns, "rect");
      const h = Math.max(2, (v / top) * 20);
      for (const [a, x] of Object.entries({ x: i * 2, y: 20 - h, width: 2, height: h })) rect.setAttribute(a, String(x));
      root.append(rect);
    });
    return root;
  };
  return table(t("refusals"), [t("reason"), t("since_start"), t("last_10_min"), t("last_hour"), t("last_day"), t("over_the_day")],
    Object.entries(o.refusals).map(([reason, n]) => [reason, { text: n, number: true },
      { text: within(reason, 600000), number: true }, { text: within(reason, 3600000), number: true },
      { text: within(reason, 86400000), number: true }, bars(reason)]),
    t("no_refusals"));
}

async function deadLetters() {
  const { dead_letters: letters } = await api("/dead-letters");
  const act = (seq, what) => async () => {
    if (what === "drop" && !window.confirm(t("confirm_drop", { seq }))) return;
    try {
      await api(`/dead-letters/${seq}/${what}`, "POST");
      await deadLetters();
      announce(t(what === "retry" ? "retried" : "dropped", { seq }));
    } catch (e) { failed(e); }
  };
  show(el("h2", { text: t("nav.dead_letters") }),
    el("p", { text: t("dead_letters_help") }),
    table(t("nav.dead_letters"), ["#", t("recipient"), t("case"), t("notice"), t("error"), t("refused_at"), t("actions")],
      letters.map((d) => [{ text: d.seq, number: true }, d.recipient, d.case_id || "—",
        d.notice_id ? d.notice_id.slice(0, 16) + "…" : "—", d.error, when(d.refused_at),
        el("span", {},
          el("button", { type: "button", "aria-label": t("retry_label", { seq: d.seq, to: d.recipient }), onclick: act(d.seq, "retry"), text: t("retry") }),
          " ",
          el("button", { type: "button", class: "danger", "aria-label": t("drop_label", { seq: d.seq, to: d.recipient }), onclick: act(d.seq, "drop"), text: t("drop") }))]),
      t("no_dead_letters")),
    el("p", { id: "announce", role: "status" }));
}

function announce(text) {
  const node = document.getElementById("announce");
  if (node) node.textContent = text;
}

async function overdue() {
  const { overdue: items } = await api("/overdue");
  show(el("h2", { text: t("nav.overdue") }),
    table(t("nav.overdue"), [t("deadline"), t("kind"), t("case"), t("sender"), t("awaiting")],
      items.map((o) => [{ text: when(o.deadline), class: "warn" }, word("kind", o.kind), o.case_id || "—", o.sender, o.awaiting.join(", ")]),
      t("no_overdue")));
}

async function caseView(caseId) {
  const form = el("form", { id: "case-form" },
    el("label", { for: "case-id", text: t("case_id") }), " ",
    el("input", { id: "case-id", value: caseId || "", required: true, autocomplete: "off" }), " ",
    el("button", { type: "submit", text: t("open") }));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#case/${encodeURIComponent(document.getElementById("case-id").value.trim())}`;
  });
  if (!caseId) { show(el("h2", { text: t("nav.case") }), form); return; }
  const c = await api(`/cases/${encodeURIComponent(caseId)}`);
  const route = ["origin", "transit", "destination"]
    .map((role) => `${t(role)}: ${c.route[role].join(", ") || "—"}`).join(" → ");
  const rows = c.timeline.map((e) => [when(e.created_at), `${e.sender} → ${e.recipients.join(", ")}`, word("kind", e.kind), concerns(e.concerns),
    el("ul", {}, e.stages.length ? e.stages.map((s) => el("li", { text: `${s.agency}: ${t(`stage.${s.stage}`)} (${when(s.at)})` }))
      : [el("li", { text: t("no_receipt") })])]);
  show(el("h2", { text: `${t("nav.case")} ${c.case_id}` }), form,
    el("p", { text: `${t("status")}: ${c.status ? t(`case_status.${c.status}`) : "—"}` }),
    el("p", { text: route }),
    await map(c),
    table(t("timeline"), [t("time"), t("from_to"), t("kind"), t("about"), t("furthest_stages")], rows, t("no_notices")));
}

// ---- the map ----------------------------------------------------------

async function map(c) {
  if (!state.region) state.region = await (await fetch("/console/region.json")).json();
  const [W, S, E, N] = state.region.bbox;
  const k = 14, squash = Math.cos(((S + N) / 2) * Math.PI / 180);
  const x = (lon) => ((lon - W) * k * squash).toFixed(1);
  const y = (lat) => ((N - lat) * k).toFixed(1);
  const width = (E - W) * k * squash, height = (N - S) * k;
  const ns = "http://www.w3.org/2000/svg";
  const svg = (tag, attrs = {}) => {
    const node = document.createElementNS(ns, tag);
    for (const [a, v] of Object.entries(attrs)) node.setAttribute(a, v);
    return node;
  };
  const role = {};
  for (const r of ["origin", "transit", "destination"]) for (const code of c.route[r]) role[code] = r;
  const root = svg("svg", { class: "map", viewBox: `0 0 ${width.toFixed(0)} ${height.toFixed(0)}`, role: "img", "aria-labelledby": "map-caption" });
  const defs = svg("defs");
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#111" }));
  defs.append(marker);
  root.append(defs);
  const centre = {};
  for (const country of state.region.countries) {
    const d = country.rings.map((ring) => "M" + ring.map(([lon, lat]) => `${x(lon)},${y(lat)}`).join("L") + "Z").join("");
    const path = svg("path", { d, class: `country ${role[country.code] || ""}`.trim() });
    const title = svg("title");
    title.textContent = role[country.code] ? `${country.name}: ${t(role[country.code])}` : country.name;
    path.append(title);
    root.append(path);
    // The centre of its largest ring, for the arrows of the route.
    const ring = country.rings.reduce((a, b) => (b.length > a.length ? b : a));
    centre[country.code] = [ring.reduce((s, p) => s + p[0], 0) / ring.length, ring.reduce((s, p) => s + p[1], 0) / ring.length];
  }
  const legs = [];
  const stops = ["origin", "transit", "destination"].map((r) => c.route[r]).filter((l) => l.length);
  for (let i = 0; i + 1 < stops.length; i++) for (const a of stops[i]) for (const b of stops[i + 1]) legs.push([a, b]);
  for (const [a, b] of legs) {
    if (!centre[a] || !centre[b]) continue;
    root.append(svg("path", { class: "leg", d: `M${x(centre[a][0])},${y(centre[a][1])}L${x(centre[b][0])},${y(centre[b][1])}` }));
  }
  const listed = [];
  for (const p of c.places) {
    listed.push(`${t(p.kind)}: ${p.name}${p.locality ? ", " + p.locality : ""} (${p.country})`);
    if (p.lat === null || p.lon === null) continue;
    const shape = p.kind === "compound"
      ? svg("rect", { class: "compound", x: (x(p.lon) - 6).toFixed(1), y: (y(p.lat) - 6).toFixed(1), width: "12", height: "12" })
      : svg("circle", { class: "checkpoint", cx: x(p.lon), cy: y(p.lat), r: "6" });
    const title = svg("title");
    title.textContent = `${t(p.kind)}: ${p.name}`;
    shape.append(title);
    const label = svg("text", { x: (Number(x(p.lon)) + 9).toFixed(1), y: (Number(y(p.lat)) + 4).toFixed(1) });
    label.textContent = p.name;
    root.append(shape, label);
  }
  const legend = el("p", { class: "legend" },
    ["origin", "transit", "destination", "compound", "checkpoint"].map((k) => el("span", {}, el("span", { class: `swatch ${k}` }), t(k))));
  return el("figure", {}, root,
    el("figcaption", { id: "map-caption" }, el("span", { text: t("map_caption") }), legend,
      el("ul", {}, listed.map((line) => el("li", { text: line })))),
    el("p", { class: "attribution", text: t("map_source") }));
}

// ---- navigation -------------------------------------------------------

function failed(e) {
  if (e instanceof Unauthorized) { signIn(t("token_refused")); return; }
  show(el("p", { class: "error", role: "alert", text: `${t("failed")}: ${e.message}` }));
}

function signIn(message) {
  document.getElementById("login").hidden = false;
  document.getElementById("view").replaceChildren();
  document.getElementById("login-error").textContent = message || "";
  document.getElementById("token").focus();
}

async function route() {
  if (!state.token) { signIn(); return; }
  document.getElementById("login").hidden = true;
  const hash = location.hash.replace(/^#/, "") || "overview";
  const [page, arg] = hash.split("/");
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.getAttribute("href") === `#${page}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  try {
    if (page === "dead-letters") await deadLetters();
    else if (page === "overdue") await overdue();
    else if (page === "case") await caseView(arg ? decodeURIComponent(arg) : "");
    else await overview();
    document.body.dataset.loaded = hash;
  } catch (e) { failed(e); }
}

async function start() {
  // A token in the address (…/console/#token=…, for scripts) is taken and
  // removed from the address at once.
  const match = location.hash.match(/token=([^&]+)/);
  if (match) {
    state.token = decodeURIComponent(match[1]);
    sessionStorage.setItem("lintas-console-token", state.token);
    const rest = location.hash.replace(/[#&]?token=[^&]+/, "").replace(/^&/, "");
    history.replaceState(null, "", location.pathname + (rest ? `#${rest.replace(/^#/, "")}` : ""));
  }
  const lang = document.getElementById("lang");
  const asked = new URLSearchParams(location.search).get("lang");
  await loadWords(asked || state.lang);
  lang.value = state.lang;
  lang.addEventListener("change", async () => { await loadWords(lang.value); await route(); });
  document.getElementById("login").addEventListener("submit", async (e) => {
    e.preventDefault();
    state.token = document.getElementById("token").value.trim();
    sessionStorage.setItem("lintas-console-token", state.token);
    await route();
  });
  window.addEventListener("hashchange", route);
  await route();
  // Figures change: the overview refreshes itself every 15 seconds.
  setInterval(() => { if (!location.hash || location.hash === "#overview") route(); }, 15000);
}

start();
