/**
 * The operator console in a real browser: the real gateway process (`main.ts`) in front of fake
 * upstreams, Debian's Chromium driven by `puppeteer-core`. Skipped (counted as ignored, with a
 * message) only where no Chromium is installed.
 *
 * `UPDATE_SCREENSHOT=1 deno test -A tests/console_browser_test.ts` also writes docs/console.png.
 */

import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { chromiumPath, launchChromium } from "./fakes/browser.ts";
import { type FakeUpstream, startFakeUpstream } from "./fakes/openai_upstream.ts";
import { spawnGateway } from "./fakes/process.ts";
import { rssMb } from "./bench/proc_stats.ts";

const CHROMIUM = chromiumPath();
if (!CHROMIUM) {
  console.warn("console browser test skipped: no Chromium (apt-get install chromium, or set CHROMIUM_PATH)");
}

const TOKEN = "console-admin-token-0123456789";
const HEALTH_INTERVAL_MS = 2000;
const BUDGET_BYTES = 250 * 1024;

const yamlFor = (a: FakeUpstream, b: FakeUpstream, c: FakeUpstream) =>
  `# like config/demo.yaml, with faster health checks
server: { host: 127.0.0.1, port: 0, drain-delay: 0 }
log: { level: info, format: json }
model:
  load-balance: { type: round-robin }
  health-check: { interval: ${HEALTH_INTERVAL_MS}, unhealthy-threshold: 1 }
  services:
    chat:
      instances:
        - { name: "demo-chat", base-url: "${a.url}", weight: 1 }
        - { name: "demo-chat", base-url: "${b.url}", weight: 1 }
    embedding:
      instances:
        - { name: "demo-embed", base-url: "${a.url}" }
        - { name: "demo-embed", base-url: "${c.url}" }
admin:
  token: ${TOKEN}
console:
  enabled: true
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Demo-like traffic until stopped (bounded: 60 s, 4000 rounds). */
function traffic(base: string) {
  let stop = false;
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then((r) => r.arrayBuffer()).catch(() => {});
  const done = (async () => {
    const until = Date.now() + 60_000;
    for (let i = 0; i < 4000 && !stop && Date.now() < until; i++) {
      const messages = [{ role: "user", content: "hi" }];
      await Promise.all([
        post("/v1/chat/completions", {
          model: i % 13 === 5 ? "no-such-model" : "demo-chat",
          stream: i % 2 === 0,
          messages,
        }),
        post("/v1/embeddings", { model: "demo-embed", input: "x" }),
      ]);
      await sleep(20 + 40 * Math.abs(Math.sin(i / 15)));
    }
  })();
  return async () => {
    stop = true;
    await done;
  };
}

/** Waits until `check()` in the page is true (polling, bounded). */
async function waitIn(page: Page, check: string, timeoutMs: number, what: string): Promise<number> {
  const start = Date.now();
  try {
    await page.waitForFunction(check, { timeout: timeoutMs, polling: 100 });
  } catch {
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
  return Date.now() - start;
}

const chatCalls = (u: FakeUpstream) => u.requests.filter((r) => r.path === "/v1/chat/completions").length;

Deno.test({
  name: "console in Chromium: CSP, login, every instance live, drain from the page, a dead upstream marked",
  ignore: !CHROMIUM,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const [a, b, c] = ["A", "B", "C"].map((name) =>
    startFakeUpstream({ name, streamChunks: 8, chunkDelayMs: 15 })
  );
  const dir = await Deno.makeTempDir({ prefix: "dairouter-console-" });
  const file = `${dir}/dairouter.yaml`;
  await Deno.writeTextFile(file, yamlFor(a, b, c));
  const gw = await spawnGateway(["--config", file, "--no-watch"]);
  const stopTraffic = traffic(gw.url);
  const chrome = await launchChromium(CHROMIUM!);
  const errors: string[] = [];
  try {
    const page = await chrome.browser.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => errors.push(`page: ${e}`));
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
    await page.setViewport({ width: 1280, height: 1000 });
    const cdp = await page.createCDPSession();
    await cdp.send("Network.enable");
    let transferred = 0;
    cdp.on("Network.loadingFinished", (e) => (transferred += e.encodedDataLength));

    await t.step(
      "the page has a strict CSP; its files come compressed and cached, within 250 KB",
      async () => {
        const res = await page.goto(`${gw.url}/ui/`, { waitUntil: "networkidle0" });
        assert.equal(res?.status(), 200);
        const csp = res!.headers()["content-security-policy"];
        assert.match(csp, /default-src 'none'/);
        assert.match(csp, /script-src 'self'(;|$)/);
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
        assert.equal(res!.headers()["cache-control"], "no-cache");
        assert.ok(res!.headers().etag);
        const scripts = await page.evaluate(
          `[...document.querySelectorAll("script")].map((s) => ({ src: s.src, inline: s.textContent.trim() }))`,
        ) as { src: string; inline: string }[];
        assert.ok(scripts.every((s) => s.src !== "" && s.inline === ""), "no inline script");
        const vendor = await fetch(
          `${gw.url}${new URL(scripts[0].src).pathname.replace("static/app.js", "vendor/uPlot.esm.js")}`,
          {
            headers: { "accept-encoding": "br, gzip" },
          },
        );
        await vendor.arrayBuffer();
        assert.equal(vendor.headers.get("cache-control"), "public, max-age=31536000, immutable");
        assert.equal(vendor.headers.get("content-type"), "text/javascript; charset=utf-8");
        assert.ok(vendor.headers.get("etag"));
        console.log(`console page + assets transferred: ${transferred} bytes (budget ${BUDGET_BYTES})`);
        assert.ok(transferred > 10_000 && transferred <= BUDGET_BYTES, `${transferred} bytes`);
      },
    );

    await t.step("a wrong token shows a clear message, not a blank page", async () => {
      const ctx = await chrome.browser.createBrowserContext();
      const other = await ctx.newPage();
      await other.goto(`${gw.url}/ui/`);
      await other.waitForSelector("input[type=password]");
      await other.type("input[type=password]", "not-the-admin-token-000000");
      await other.click("button[type=submit]");
      await other.waitForSelector(".login .error", { timeout: 5000 });
      const text = await other.$eval(".login .error", (e) => e.textContent);
      assert.match(text!, /Wrong admin token/);
      assert.ok(await other.$("input[type=password]"), "the form is still there to try again");
      await ctx.close();
      // Log lines are written in batches: wait for the refusal's line rather than race its flush.
      await gw.waitFor(/console request refused/, 5000);
      assert.ok(!gw.lines.some((l) => l.includes("not-the-admin-token")), "the wrong token is never logged");
    });

    const ids = {
      a: `chat/demo-chat@${a.url}`,
      b: `chat/demo-chat@${b.url}`,
      ea: `embedding/demo-embed@${a.url}`,
      ec: `embedding/demo-embed@${c.url}`,
    };
    const row = (id: string) => `tr[data-instance="${id}"]`;

    await t.step("with the admin token every configured instance shows, with live traffic", async () => {
      await page.type("input[type=password]", TOKEN);
      await page.click("button[type=submit]");
      await page.waitForSelector("[data-instance]", { timeout: 5000 });
      const shown = await page.$$eval(
        "tr[data-instance]",
        (rows) => rows.map((r) => r.getAttribute("data-instance")),
      );
      assert.deepEqual(shown.sort(), Object.values(ids).sort());
      assert.equal(await page.evaluate("sessionStorage.length"), 1, "the token is in session storage");
      assert.ok(!page.url().includes(TOKEN), "never in the URL");
      // Requests per second appear once a few seconds of traffic went by.
      await waitIn(
        page,
        `[...document.querySelectorAll('tr[data-instance] td.num:nth-child(5)')].every((td) => Number(td.textContent) > 0)`,
        15_000,
        "req/s > 0 on every instance",
      );
      assert.equal(await page.$$eval(".chart canvas", (c) => c.length), 8, "4 charts per service");
      // The header shows the process: its memory (the gateway's own RSS, give or take a tick) and loop lag.
      const rss = await page.$eval("[data-fact=rss]", (e) => e.textContent);
      const actual = (await rssMb(gw.pid))! * 1024 * 1024 / 1e6;
      const shownMb = Number(/^RSS (\d+) MB$/.exec(rss!)?.[1]);
      // The header is up to a second old and traffic keeps running: within a quarter.
      assert.ok(Math.abs(shownMb - actual) < actual / 4, `header ${rss}, process ${actual.toFixed(0)} MB`);
      assert.match(
        await page.$eval("[data-fact=lag]", (e) => e.textContent!),
        /^loop lag (\d+ ms|\d+\.\d s)$/,
      );
    });

    await t.step(
      "drain from the page: confirmed on screen, the YAML changes, traffic stops going there",
      async () => {
        await page.click(`${row(ids.b)} button.drain`);
        await page.waitForSelector(".dialog", { timeout: 2000 });
        assert.match(await page.$eval(".dialog h2", (e) => e.textContent!), /Drain/);
        await page.click(".dialog button[type=submit]");
        await page.waitForSelector(".toast.ok", { timeout: 5000 });
        assert.match(await page.$eval(".toast.ok", (e) => e.textContent!), /done/);
        const yaml = await Deno.readTextFile(file);
        assert.match(yaml, new RegExp(`base-url: "${b.url}", weight: 1, enabled: false`));
        await waitIn(
          page,
          `document.querySelector('${row(ids.b)}')?.dataset.state === "drained"`,
          5000,
          "drained row",
        );
        assert.ok(
          gw.lines.some((l) => l.includes("admin change applied") && l.includes("patch instance 1 of chat")),
        );
        await sleep(300); // requests already sent to B finish
        const before = chatCalls(b);
        const aBefore = chatCalls(a);
        await sleep(2000);
        assert.equal(chatCalls(b), before, "no new request reached the drained instance");
        assert.ok(chatCalls(a) > aBefore, "the other instance took the traffic");
      },
    );

    await t.step("a killed upstream is marked unhealthy within the health interval + 2 s", async () => {
      await c.close();
      const took = await waitIn(
        page,
        `document.querySelector('${row(ids.ec)}')?.dataset.state === "unhealthy"`,
        HEALTH_INTERVAL_MS + 2000,
        "the dead upstream marked unhealthy",
      );
      console.log(`dead upstream marked unhealthy after ${took} ms`);
      const cls = await page.$eval(row(ids.ec), (r) => r.className);
      assert.match(cls, /down/);
      assert.ok(await page.$(`${row(ids.ec)} .icon.down svg`), "an icon, not only colour");
    });

    await t.step("the screenshot for the README (traffic, a drained and a dead instance)", async () => {
      await sleep(4000);
      const path = Deno.env.get("UPDATE_SCREENSHOT") ? "docs/console.png" : `${dir}/console.png`;
      await page.screenshot({ path: path as `${string}.png` });
      const png = await Deno.readFile(path);
      assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
    });

    await t.step("at phone width nothing spills sideways: wide tables scroll inside their card", async () => {
      await page.setViewport({ width: 390, height: 844 });
      await sleep(300);
      const width = await page.evaluate("document.documentElement.scrollWidth") as number;
      assert.ok(width <= 390, `page is ${width} px wide`);
      assert.equal(await page.$$eval("tr[data-instance]", (r) => r.length), 4);
      await page.setViewport({ width: 1280, height: 1000 });
    });

    await t.step("no console errors in the page", () => {
      assert.deepEqual(errors, []);
    });

    await t.step("SIGTERM with the console open ends its feed: the gateway exits at once", async () => {
      await stopTraffic();
      const start = Date.now();
      gw.kill("SIGTERM");
      assert.equal(await gw.exited, 0);
      assert.ok(Date.now() - start < 5000, `took ${Date.now() - start} ms (shutdown-timeout is 30 s)`);
    });
  } finally {
    await stopTraffic();
    await chrome.close();
    try {
      gw.kill("SIGTERM");
    } catch { /* already exited */ }
    await gw.exited;
    for (const u of [a, b, c]) await u.close().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
