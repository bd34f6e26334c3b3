/**
 * The README's Quickstart, run as written: the demo is started the way the README says (its own
 * process, `deno task demo` with the port flags the README documents, every port free), and each
 * shell command of the Quickstart runs in `sh` with only `localhost:8080` rewritten to the demo's
 * address. Every command needs a check here that its answer makes sense — a README command
 * without one fails the test, so a new example cannot go unchecked.
 */

import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { spawnChild } from "./fakes/child.ts";
import { parsePng } from "./fakes/png.ts";
import { parseWav } from "./fakes/wav.ts";

const ROOT = new URL("../", import.meta.url);
const README = await Deno.readTextFile(new URL("README.md", ROOT));
const decoder = new TextDecoder();

/** The text of a `## ` section. */
function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `README has no "## ${title}" section`);
  const end = markdown.indexOf("\n## ", start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

/** The commands of each ```sh block, continuation lines joined. */
function shellBlocks(text: string): string[][] {
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
    m[1].replace(/\\\n\s*/g, "").split("\n").map((l) => l.trim()).filter((l) =>
      l !== "" && !l.startsWith("#")
    )
  );
}

const QUICKSTART = section(README, "Quickstart");
const BLOCKS = shellBlocks(QUICKSTART);
const tasks = denoJson.tasks as Record<string, string>;

Deno.test("README Quickstart: its deno and npx commands name real tasks and the Deno version CI installs", async () => {
  const ciDeno = /DENO_VERSION=(\S+)/.exec(await Deno.readTextFile(new URL(".ci/run", ROOT)))?.[1];
  const [plain, npx] = BLOCKS;
  // `deno task test` is this suite itself and `deno task demo` is started by the test below.
  assert.deepEqual(plain.map((l) => /^deno task (\S+)/.exec(l)?.[1]), ["demo", "test"]);
  for (const line of [...plain, ...npx]) {
    const m = /^(?:deno|npx -y deno@(\S+)) task (\S+)/.exec(line);
    assert.ok(m, `not a deno task command: ${line}`);
    if (m[1] !== undefined) assert.equal(m[1], ciDeno, `${line}: not the Deno version .ci/run uses`);
    assert.ok(Object.hasOwn(tasks, m[2]), `${line}: deno.json has no task "${m[2]}"`);
  }
  assert.deepEqual(
    npx.map((l) => l.replace(/^npx -y deno@\S+ /, "deno ")),
    plain.map((l) => l.replace(/\s+#.*/, "")),
  );
});

/** `deno task demo ARGS`, resolved with the address its gateway logged. */
function startDemo(args: string[]) {
  return spawnChild(Deno.execPath(), {
    args: ["task", "demo", ...args],
    cwd: ROOT,
    ready: (line) => / listening .*address=(http:\/\/\S+)/.exec(line)?.[1],
  });
}

const json = (out: string) => JSON.parse(out);
const b64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** What each Quickstart command must answer, matched on its route (and body, for the stream). */
const CHECKS: ReadonlyArray<[RegExp, (out: string, dir: string) => Promise<void> | void]> = [
  [/\/v1\/models$/, (out) => {
    const ids = json(out).data.map((m: { id: string }) => m.id);
    for (const id of ["demo-chat", "demo-embed", "demo-rerank", "demo-tts", "demo-whisper", "demo-sd"]) {
      assert.ok(ids.includes(id), `models lacks ${id}: ${out}`);
    }
  }],
  [/\/v1\/chat\/completions .*"stream":true/, (out) => {
    const events = out.split("\n\n").filter((e) => e.trim() !== "");
    assert.equal(events.at(-1), "data: [DONE]");
    const words = events.slice(0, -1).map((e) => json(e.replace(/^data: /, "")).choices[0].delta.content);
    assert.equal(words.join(""), "w0 w1 w2 w3 w4 w5 w6 w7 ");
  }],
  [/\/v1\/chat\/completions /, (out) => assert.match(json(out).choices[0].message.content, /^[AB]: w0 w1/)],
  [/\/v1\/embeddings /, (out) => assert.equal(json(out).data[0].embedding.length, 3)],
  [
    /\/v1\/rerank /,
    (out) => assert.deepEqual(json(out).results.map((r: { index: number }) => r.index), [0, 1]),
  ],
  [/\/v1\/audio\/speech .* -o speech\.wav$/, async (out, dir) => {
    assert.equal(out, "");
    const wav = parseWav(await Deno.readFile(`${dir}/speech.wav`));
    assert.equal(wav.seconds, 0.3);
  }],
  [/\/v1\/audio\/transcriptions .*file=@speech\.wav$/, (out) => {
    assert.match(json(out).text, /^[AB] heard 0\.30 s of a \d+ Hz tone in speech\.wav$/);
  }],
  [/\/v1\/images\/generations .*> cat\.png$/, async (out, dir) => {
    assert.equal(out, "");
    assert.equal(parsePng(await Deno.readFile(`${dir}/cat.png`)).width, 64);
  }],
  [/\/v1\/images\/edits .*image=@cat\.png$/, (out) => {
    const image = json(out).data[0];
    assert.match(image.revised_prompt, /^[AB]: add a hat$/);
    assert.equal(parsePng(b64(image.b64_json)).width, 64);
  }],
  [/\/v1\/chat\/status$/, (out) => {
    const text = JSON.stringify(json(out));
    assert.ok(text.includes("demo-chat") && text.includes("127.0.0.1"), out);
  }],
  [/\/metrics$/, (out) => assert.match(out, /^dairouter_requests_total\{.*service="chat"/m)],
];

async function run(command: string, dir: string): Promise<string> {
  const out = await new Deno.Command("sh", {
    args: ["-c", command],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output().catch((error) => {
    throw new Error(`cannot run sh (${error}); .ci/run installs curl on a bare machine`);
  });
  assert.equal(out.code, 0, `${command}\nexited ${out.code}: ${decoder.decode(out.stderr)}`);
  return decoder.decode(out.stdout);
}

Deno.test("README Quickstart: every curl command works as written against `deno task demo`", async () => {
  const curls = BLOCKS.flat().filter((c) => c.startsWith("curl "));
  assert.ok(curls.length >= 11, `only ${curls.length} curl commands found`);
  await run("command -v curl >/dev/null || { echo 'curl is not installed' >&2; exit 1; }", ".");
  // The README's "ports taken?" command, with every port free.
  const portsLine = /`(deno task demo (--port \d+ --upstream-ports \d+,\d+))`/.exec(QUICKSTART);
  assert.ok(portsLine, "README no longer shows how to move the demo's ports");
  const demo = await startDemo(portsLine[2].replace(/\d+/g, "0").split(" "));
  const dir = await Deno.makeTempDir({ prefix: "dairouter-readme-" });
  try {
    const host = demo.ready.replace("http://", "");
    for (const command of curls) {
      const check = CHECKS.find(([re]) => re.test(command.replace(/\s+#.*$/, "")));
      assert.ok(check, `README command without a check in this test: ${command}`);
      const rewritten = command.replaceAll("localhost:8080", host);
      assert.ok(!/localhost|:8080/.test(rewritten), `unexpected address in: ${command}`);
      const out = await run(rewritten, dir);
      try {
        await check[1](out, dir);
      } catch (error) {
        throw new Error(`${command}\nanswered: ${out.slice(0, 500)}\n${(error as Error).message}`);
      }
    }
  } finally {
    demo.kill("SIGTERM");
    assert.equal(await demo.exited, 0, demo.lines.join("\n"));
    await Deno.remove(dir, { recursive: true });
  }
});
