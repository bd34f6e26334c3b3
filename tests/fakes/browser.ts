/**
 * Launches Debian's Chromium (never a downloaded browser) headless through `puppeteer-core`, with
 * a fresh profile and every background network feature off: the machine's network is closed.
 *
 * @module
 */

import puppeteer, { type Browser } from "puppeteer-core";

/** Where Debian installs Chromium; `CHROMIUM_PATH` overrides. */
export function chromiumPath(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): string | undefined {
  for (const path of [env.CHROMIUM_PATH, "/usr/bin/chromium"]) {
    if (!path) continue;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not there */ }
  }
  return undefined;
}

/** A running browser and its throw-away profile. */
export interface TestBrowser {
  readonly browser: Browser;
  close(): Promise<void>;
}

/** Starts Chromium headless. */
export async function launchChromium(executablePath: string): Promise<TestBrowser> {
  const profile = await Deno.makeTempDir({ prefix: "dairouter-chromium-" });
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    userDataDir: profile,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}
