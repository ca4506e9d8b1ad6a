// Drives the operator console in headless Chromium (called by
// .ci/console-browser, which starts the nodes). Fails with a message on
// the first thing that is not as the console's API reports it.
"use strict";
const { chromium } = require("playwright-core");
const assert = require("node:assert/strict");

const base = process.env.CONSOLE;
const token = process.env.TOKEN;
const shots = process.env.SHOTS;
const CASE = "IDN-KEMLU-2026-0417";

async function api(path, method = "GET") {
  const response = await fetch(`${base}/console/api${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}` },
  });
  assert.equal(response.status, 200, `${path}: ${response.status}`);
  return response.json();
}

async function eventually(what, check, seconds = 30) {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`not within ${seconds} s: ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function metric(name) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name));
  return line ? Number(line.split(" ").pop()) : 0;
}

(async () => {
  // Without the token the API answers nothing.
  const refused = await fetch(`${base}/console/api/overview`);
  assert.equal(refused.status, 401, "the API answered without a token");

  await eventually("a dead letter on Indonesia's node", async () => (await api("/dead-letters")).dead_letters.length > 0);

  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));

  // Signing in: the form, then the overview.
  await page.goto(`${base}/console/`);
  await page.waitForSelector("#login:not([hidden])");
  await page.fill("#token", token);
  await page.click("#login button[type=submit]");
  await page.waitForSelector("body[data-loaded='overview']");
  await eventually("Indonesia refused Thailand's withdrawal", async () =>
    ((await api("/overview")).refusals.not_own_notice || 0) > 0);
  await page.reload();
  await page.waitForSelector("body[data-loaded='overview']");
  const overview = await api("/overview");
  const text = await page.textContent("#view");
  // Each peer's last answer and round trip, and its queue by priority.
  const answered = overview.peers.filter((p) => p.round_trip_ms !== null);
  assert.ok(answered.length > 0, "no peer has answered");
  for (const peer of answered) {
    const row = await page.$$eval(`xpath=//table[caption[normalize-space()='Peers']]//tr[td[1][normalize-space()='${peer.agency}']]/td`, (cells) => cells.map((c) => c.textContent));
    assert.ok(row[4].endsWith(" ms"), `round trip of ${peer.agency}: ${row}`);
    assert.equal(row[6], String(peer.queued_by_priority.urgent), `urgent queue of ${peer.agency}`);
  }
  // Receipts by stage, as the API counts them.
  const accepted = overview.receipts.find((r) => r.direction === "received" && r.stage === "accepted");
  assert.ok(accepted, "no receipt received");
  const receiptRow = await page.$$eval("xpath=//table[caption[starts-with(., 'Receipts')]]//tr[td[1][normalize-space()='accepted']]/td", (cells) => cells.map((c) => c.textContent));
  assert.equal(receiptRow[2], String(accepted.count), "accepted receipts received");
  // The refusal in the latest ten minutes, with its bars over the day.
  const refusalRow = await page.$$eval("xpath=//table[caption[starts-with(., 'Notices this node refused')]]//tr[td[1][normalize-space()='not_own_notice']]/td", (cells) => cells.map((c) => c.textContent));
  assert.equal(refusalRow[1], String(overview.refusals.not_own_notice), "refusals since start");
  assert.equal(refusalRow[2], String(overview.refusals.not_own_notice), "refusals in the latest ten minutes");
  assert.ok(await page.$("svg.bars[aria-label^='not_own_notice'] rect"), "no bar for the refusal");
  for (const peer of overview.peers) {
    assert.ok(text.includes(peer.agency), `the overview does not list ${peer.agency}`);
  }
  const figure = async (label) => page.$eval(`xpath=//div[@class='card'][div[1][normalize-space()='${label}']]/div[2]`, (n) => n.textContent);
  assert.equal(await figure("Dead letters"), String(overview.dead_letters));
  assert.equal(await figure("Notices sent"), String(overview.counts.sent));
  assert.equal(await figure("Outbox entries"), String(overview.outbox));
  assert.ok(text.includes(`Version ${overview.roster.version}`), "no roster version");
  if (shots) await page.screenshot({ path: `${shots}/overview.png`, fullPage: true });

  // Dead letters: retry one from the page; the node sends it again (and
  // Cambodia refuses it again: one more dead-letter outcome).
  await page.click("nav a[href='#dead-letters']");
  await page.waitForSelector("body[data-loaded='dead-letters']");
  const letters = (await api("/dead-letters")).dead_letters;
  const seq = letters[0].seq;
  assert.ok((await page.textContent("#view")).includes(letters[0].recipient));
  if (shots) await page.screenshot({ path: `${shots}/dead-letters.png`, fullPage: true });
  const before = await metric('lintas_deliveries_total{outcome="dead_letter"}');
  const retry = page.getByRole("button", { name: `Retry dead letter ${seq} to ${letters[0].recipient}` });
  await retry.focus();
  await page.keyboard.press("Enter");
  await page.waitForSelector(`text=Dead letter ${seq} is back in the outbox.`);
  await eventually("the retried letter was sent and refused again", async () =>
    (await metric('lintas_deliveries_total{outcome="dead_letter"}')) > before);

  // The case: timeline with stages, and the map with the route and the
  // compound.
  await page.goto(`${base}/console/#case/${CASE}`);
  await page.waitForSelector(`body[data-loaded='case/${CASE}']`);
  const view = await api(`/cases/${CASE}`);
  const rows = await page.$$eval("table tbody tr", (r) => r.length);
  assert.equal(rows, view.timeline.length, "timeline rows");
  assert.ok(await page.$("svg.map path.country.origin"), "no origin state on the map");
  assert.ok(await page.$("svg.map path.country.destination"), "no destination state on the map");
  assert.ok(await page.$("svg.map rect.compound"), "no compound on the map");
  assert.ok(await page.$("svg.map path.leg"), "no leg of the route on the map");
  assert.ok((await page.textContent("#view")).includes("Golden Coast Tower"), "the compound is not named");
  if (shots) await page.screenshot({ path: `${shots}/case.png`, fullPage: true });

  // In Indonesian.
  await page.selectOption("#lang", "id");
  await page.waitForFunction(() => document.querySelector("nav a[href='#overview']").textContent === "Ikhtisar");
  // The node's words too: the kind and what the notice concerns.
  await page.waitForSelector("text=permintaan penyelamatan");
  assert.ok((await page.textContent("#view")).includes("korban V-001"), "what the notice concerns is not in Indonesian");
  if (shots) await page.screenshot({ path: `${shots}/case-id.png`, fullPage: true });

  await browser.close();
  assert.deepEqual(problems, [], "the page reported problems");
  console.log("console: pages load, figures match the API, a dead letter was retried from the page, the case map is drawn, Indonesian words");
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
