/**
 * Smoke test of a built gateway, as a user would first run it: `--version`, `check --config` on
 * every example config, then serve a loopback config (Deno KV state, active health checks) in
 * front of the fake upstream and answer a plain and a streamed chat through curl, `/readyz` and
 * `/metrics`, and stop on SIGTERM with exit 0 and the state saved. It catches what only a compiled
 * binary gets wrong: a file read at run time that was not embedded, a permission or unstable flag
 * that was not baked in.
 *
 * Usage: `deno run -A tests/compiled/smoke.ts COMMAND...` where COMMAND runs the gateway — the
 * binary (`dist/dairouter`), or `deno run <flags> main.ts` to try the script without compiling.
 *
 * @module
 */

import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { spawnChild } from "../fakes/child.ts";
import { startFakeUpstream } from "../fakes/openai_upstream.ts";

const ROOT = new URL("../../", import.meta.url);
const decoder = new TextDecoder();

/** Runs `command` with `args` to completion (bounded). */
async function run(command: readonly string[], args: string[], cwd = ROOT.pathname) {
  const out = await new Deno.Command(command[0], {
    args: [...command.slice(1), ...args],
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

async function curl(args: string[]): Promise<string> {
  const out = await run(["curl", "-sS", "--fail-with-body", "--max-time", "20"], args);
  assert.equal(out.code, 0, `curl ${args.join(" ")}: exit ${out.code} ${out.stderr}${out.stdout}`);
  return out.stdout;
}

/** Every example config in config/ (the ones `check` must accept). */
async function exampleConfigs(): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(new URL("config/", ROOT))) {
    if (e.isFile && e.name.endsWith(".yaml")) names.push(`config/${e.name}`);
  }
  return names.sort();
}

function loopbackConfig(upstream: string, kvPath: string): string {
  return `server: { host: 127.0.0.1, port: 0 }
log: { level: info, format: json }
state: { backend: kv, path: ${JSON.stringify(kvPath)}, flush-interval: 100 }
model:
  health-check: { interval: 200 }
  services:
    chat:
      instances:
        - { name: smoke-chat, base-url: "${upstream}" }
`;
}

/** Serves `config` with `command`; resolves once it logs its address. */
function serve(command: readonly string[], config: string) {
  return spawnChild(command[0], {
    args: [...command.slice(1), "--config", config],
    cwd: ROOT,
    ready: (line) => line.includes('"msg":"listening"') ? JSON.parse(line).address as string : undefined,
  });
}

async function chats(url: string): Promise<void> {
  const body = (stream: boolean) =>
    JSON.stringify({ model: "smoke-chat", stream, messages: [{ role: "user", content: "hi" }] });
  const plain = JSON.parse(
    await curl([`${url}/v1/chat/completions`, "-H", "content-type: application/json", "-d", body(false)]),
  );
  assert.equal(plain.choices[0].message.content, "S: w0 w1 w2 w3 w4");
  const sse = await curl([
    "-N",
    `${url}/v1/chat/completions`,
    "-H",
    "content-type: application/json",
    "-d",
    body(true),
  ]);
  const events = sse.split("\n\n").filter((e) => e.trim() !== "");
  assert.equal(events.at(-1), "data: [DONE]", sse);
  const words = events.slice(0, -1).map((e) => JSON.parse(e.replace(/^data: /, "")).choices[0].delta.content);
  assert.equal(words.join(""), "w0 w1 w2 w3 w4 ");
}

/**
 * Runs every step against `command`; throws on the first that fails. `log` hears what passed.
 *
 * @example
 * ```ts ignore
 * await smoke(["dist/dairouter"]);
 * ```
 */
export async function smoke(
  command: readonly string[],
  log: (line: string) => void = () => {},
): Promise<void> {
  const version = await run(command, ["--version"]);
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout.trim(), `dairouter ${denoJson.version}`);
  log(`--version: ${version.stdout.trim()}`);
  for (const file of await exampleConfigs()) {
    const out = await run(command, ["check", "--config", file]);
    assert.equal(out.code, 0, `check ${file}: ${out.stderr}`);
    assert.match(out.stdout, /is valid/);
    log(`check ${file}: ${out.stdout.trim()}`);
  }
  const upstream = startFakeUpstream({ name: "S" });
  const dir = await Deno.makeTempDir({ prefix: "dairouter-smoke-" });
  try {
    const config = `${dir}/smoke.yaml`;
    await Deno.writeTextFile(config, loopbackConfig(upstream.url, `${dir}/state.kv`));
    const gw = await serve(command, config);
    try {
      await chats(gw.ready);
      assert.equal(JSON.parse(await curl([`${gw.ready}/readyz`])).status, "ready");
      assert.match(
        await curl([`${gw.ready}/metrics`]),
        /^dairouter_requests_total\{.*model="smoke-chat".*status="200"/m,
      );
      log(`serve: plain and streamed chat, /readyz and /metrics answered at ${gw.ready}`);
    } finally {
      gw.kill("SIGTERM");
    }
    assert.equal(await gw.exited, 0, gw.lines.join("\n"));
    assert.ok(gw.lines.some((l) => l.includes('"msg":"stopped"')), gw.lines.join("\n"));
    assert.ok((await Deno.stat(`${dir}/state.kv`)).size > 0, "no KV state file written");
    log("SIGTERM: drained, exit 0, state saved to Deno KV");
  } finally {
    await upstream.close();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  if (Deno.args.length === 0) {
    console.error("usage: deno run -A tests/compiled/smoke.ts COMMAND... (e.g. dist/dairouter)");
    Deno.exit(2);
  }
  try {
    await smoke(Deno.args, (line) => console.log(`ok  ${line}`));
    console.log("smoke: all steps passed");
  } catch (error) {
    console.error(`smoke: FAILED: ${error instanceof Error ? error.stack : error}`);
    Deno.exit(1);
  }
}
