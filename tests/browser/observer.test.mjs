// The observer's page in a real browser: Debian's chromium, driven by playwright-core.
//
// Starts the `observer` example (built beforehand: `cargo build --release --example
// observer`; its path from OBSERVER_BIN, else target/release/examples/observer) on a
// free port, reads the URL it prints, and walks the page as a person would: the
// process table lists the shop's named processes, sorting by message queue length
// puts `backlog` first, the supervision tree shows `payments_sup`'s child `gateway`,
// and killing `inventory` from its detail panel makes `shop_sup` restart it under a
// new pid. Ends with a screenshot (SCREENSHOT, else target/browser/observer.png),
// taken at the point of failure if a test fails.
//
// Every wait is bounded; the example is killed at the end whatever happened.
// Run: `node --test tests/browser/` (see .ci/browser.sh).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = process.env.OBSERVER_BIN || path.join(ROOT, "target/release/examples/observer");
const SHOT = process.env.SCREENSHOT || path.join(ROOT, "target/browser/observer.png");
const STARTUP_MS = 30_000; // the example prints its URL within this
const WAIT_MS = 15_000; // any one thing the page should show within this

let example = null;
let browser = null;
let page = null;
let url = null;
let shotTaken = false;
const pageErrors = [];

/** Starts the example and resolves with the URL it prints (`observer: http://...`). */
function startExample() {
  return new Promise((resolve, reject) => {
    example = spawn(BIN, ["--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
    const timer = setTimeout(() => reject(new Error(`${BIN} printed no URL in ${STARTUP_MS} ms`)), STARTUP_MS);
    let buf = "";
    example.stdout.setEncoding("utf8");
    example.stdout.on("data", (chunk) => {
      buf += chunk;
      const m = /^observer: (http:\/\/\S+)$/m.exec(buf);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    example.on("error", (e) => { clearTimeout(timer); reject(e); });
    example.on("exit", (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${BIN} exited early (code ${code}, signal ${sig})`));
    });
  });
}

function stopExample() {
  if (example && example.exitCode === null && example.signalCode === null) example.kill("SIGKILL");
}
// Also on an abrupt end of the test process (an uncaught error, ^C).
process.on("exit", stopExample);

before(async () => {
  url = await startExample();
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(WAIT_MS);
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(url, { timeout: WAIT_MS });
});

after(async () => {
  try {
    // A test failed before the last one: the screenshot shows the page as it was then.
    if (page && !shotTaken) await takeShot().catch(() => {});
    if (browser) await browser.close();
  } finally {
    stopExample();
  }
});

async function takeShot() {
  mkdirSync(path.dirname(SHOT), { recursive: true });
  await page.screenshot({ path: SHOT, timeout: WAIT_MS });
  shotTaken = true;
}

/** The table row of the process registered as `name`. */
const row = (name) => page.locator(`[data-testid=proc-row][data-name="${name}"]`);
/** A tree node by its child id (or a root's name). */
const node = (id) => `[data-testid=tree-node][data-id="${id}"]`;

/** Waits until the first row of the table is the process registered as `name`. */
async function firstRowIs(name) {
  await page.waitForFunction(
    (n) => document.querySelector("[data-testid=proc-row]")?.getAttribute("data-name") === n,
    name, { timeout: WAIT_MS });
}

test("the process table lists the shop's named processes", async () => {
  await page.selectOption("[data-testid=page-size]", "500");
  for (const name of ["inventory", "orders", "gateway", "backlog", "shop_sup", "payments_sup", "sessions"]) {
    await row(name).first().waitFor({ state: "visible" });
  }
  // The header's figures come from /api/events (or /api/system).
  await page.waitForFunction(() => /^\d[\d,]*$/.test(document.getElementById("hdr-processes").textContent));
  // The filter box narrows the table (on the server) to the matching processes.
  await page.fill("[data-testid=filter]", "backlog");
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll("[data-testid=proc-row]")];
    return rows.length >= 1 && rows.every((r) => r.textContent.includes("backlog"));
  }, null, { timeout: WAIT_MS });
  await page.fill("[data-testid=filter]", "");
  await row("inventory").first().waitFor({ state: "visible" });
});

test("sorting by message queue length puts backlog first", async () => {
  await page.click("[data-testid=sort-message_queue_len]");
  const header = page.locator("[data-testid=sort-message_queue_len]");
  assert.equal(await header.getAttribute("aria-sort"), "descending");
  await firstRowIs("backlog");
  const queue = Number((await row("backlog").first().locator("td").nth(4).textContent()).replace(/,/g, ""));
  assert.ok(queue > 0, `backlog's queue is ${queue}`);
});

test("the supervision tree shows payments_sup's child gateway, collapsible", async () => {
  await page.click("[data-testid=tab-tree]");
  const gateway = page.locator(`${node("payments_sup")} ${node("gateway")}`);
  await gateway.waitFor({ state: "visible" });
  assert.match(await gateway.getAttribute("data-pid"), /^<\d+\.\d+\.\d+>$/);
  const toggle = page.locator(`${node("payments_sup")} > .node [data-testid=tree-toggle]`);
  await toggle.click();
  await gateway.waitFor({ state: "detached" });
  await toggle.click();
  await gateway.waitFor({ state: "visible" });
});

test("killing inventory from the page makes shop_sup restart it under a new pid", async () => {
  const inventory = page.locator(`${node("shop_sup")} > ul > ${node("inventory")}`);
  await inventory.waitFor({ state: "visible" });
  const oldPid = await inventory.getAttribute("data-pid");
  assert.match(oldPid, /^<\d+\.\d+\.\d+>$/);
  await inventory.locator("> .node a.pid").click();
  await page.waitForFunction((p) => document.getElementById("detail-pid").textContent === p, oldPid);
  await page.locator("[data-testid=detail] [data-field=name]", { hasText: "inventory" }).waitFor();
  await page.click("[data-testid=action-kill]");
  await page.locator("[data-testid=action-result]", { hasText: "ok" }).waitFor();
  // The old pid is gone from the detail panel, and the tree has a new one.
  await page.locator("[data-testid=detail-gone]").waitFor();
  await page.waitForFunction((old) => {
    const n = document.querySelector('[data-testid=tree-node][data-id="inventory"]');
    const pid = n && n.getAttribute("data-pid");
    return !!pid && pid !== old;
  }, oldPid, { timeout: WAIT_MS });
  const newPid = await inventory.getAttribute("data-pid");
  assert.notEqual(newPid, oldPid);
  // The table agrees: the process registered as inventory has the new pid.
  await page.click("[data-testid=tab-processes]");
  await page.fill("[data-testid=filter]", "inventory");
  await page.waitForFunction((p) => {
    const r = document.querySelector('[data-testid=proc-row][data-name="inventory"]');
    return !!r && r.getAttribute("data-pid") === p;
  }, newPid, { timeout: WAIT_MS });
  // Open the new one: its state is the restarted GenServer's.
  await row("inventory").first().click();
  await page.waitForFunction((p) => document.getElementById("detail-pid").textContent === p, newPid);
});

test("screenshot, and no script errors on the page", async () => {
  await page.fill("[data-testid=filter]", "");
  await firstRowIs("backlog");
  // Let the charts gather a few samples.
  await page.waitForTimeout(1500);
  await takeShot();
  assert.deepEqual(pageErrors, []);
});
