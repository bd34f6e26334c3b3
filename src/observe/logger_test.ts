import assert from "node:assert/strict";
import { accessRecord } from "./_testing.ts";
import type { AccessRecord } from "../types.ts";
import { ACCESS_FIELDS, createLogger, type LoggerOptions } from "./logger.ts";
import { seededRandom as seeded } from "../../tests/fakes/random.ts";

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5, 678);

function capture(over: Partial<LoggerOptions> = {}) {
  const lines: string[] = [];
  const log = createLogger({
    level: "debug",
    format: "json",
    clock: () => T0,
    write: (l) => lines.push(l),
    ...over,
  });
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l)) };
}

const ACCESS: AccessRecord = accessRecord({
  requestId: "req-1",
  clientIp: "10.0.0.7",
  durationMs: 812,
  ttftMs: 95,
  stream: true,
  tokensIn: 21,
  tokensOut: 144,
  retries: 1,
});

Deno.test("createLogger() writes one JSON object per line with ts from the clock, level, msg and fields", () => {
  const { log, lines, parsed } = capture();
  log.info("started", { port: 8080, tags: ["a"] });
  assert.equal(lines.length, 1);
  assert.equal(
    lines[0],
    '{"ts":"2025-01-02T03:04:05.678Z","level":"info","msg":"started","port":8080,"tags":["a"]}',
  );
  assert.deepEqual(parsed()[0], {
    ts: "2025-01-02T03:04:05.678Z",
    level: "info",
    msg: "started",
    port: 8080,
    tags: ["a"],
  });
});

Deno.test("createLogger() drops lines below the level and reports enabled()", () => {
  const { log, lines, parsed } = capture({ level: "warn" });
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  log.access(ACCESS);
  assert.deepEqual(parsed().map((l) => l.level), ["warn", "error"]);
  assert.equal(lines.length, 2);
  assert.equal(log.enabled("info"), false);
  assert.equal(log.enabled("error"), true);
});

Deno.test("createLogger() pretty format is one readable line with escaped control characters", () => {
  const { log, lines } = capture({ format: "pretty" });
  log.warn("bad\nline", {
    instance: "chat/a#0",
    reason: "two words",
    n: 3,
    nested: { a: 1 },
    none: undefined,
  });
  assert.equal(lines.length, 1);
  assert.equal(
    lines[0],
    '2025-01-02T03:04:05.678Z WARN  bad\\nline instance=chat/a#0 reason="two words" n=3 nested={"a":1}',
  );
});

Deno.test("createLogger() access() writes every AccessRecord field, absent ones as null", () => {
  const { log, parsed } = capture();
  log.access(ACCESS);
  const [line] = parsed();
  assert.equal(line.msg, "access");
  assert.equal(line.level, "info");
  for (const k of ACCESS_FIELDS) assert.ok(k in line, `missing ${k}`);
  assert.equal(line.tokensIn, 21);
  assert.equal(line.tokensOut, 144);
  assert.equal(line.traceId, null);
  assert.equal(line.fallback, null);
  assert.deepEqual(Object.keys(line).slice(3), [...ACCESS_FIELDS]);
});

Deno.test("createLogger() pretty access line leads with method, route, status and duration", () => {
  const { log, lines } = capture({ format: "pretty" });
  log.access({ ...ACCESS, status: 502, error: "upstream_error" });
  assert.match(
    lines[0],
    /^2025-01-02T03:04:05\.678Z INFO {2}access POST \/v1\/chat\/completions 502 812ms requestId=req-1 /,
  );
  assert.match(lines[0], / error=upstream_error$/);
  assert.ok(!lines[0].includes("traceId="));
});

Deno.test("createLogger() access() masks a configured secret in model, route and error in both formats", () => {
  const secret = "sk-live-0123456789";
  const rec: AccessRecord = {
    ...ACCESS,
    route: `/v1/chat/completions/${secret}`,
    model: `gpt-${secret}`,
    status: 401,
    error: `bad key ${secret}`,
  };
  for (const format of ["json", "pretty"] as const) {
    const { log, lines } = capture({ format, secrets: () => [secret] });
    log.access(rec);
    log.access(rec); // the second time from the memo of masked values
    assert.equal(lines.length, 2);
    assert.equal(lines[1], lines[0]);
    assert.ok(!lines[0].includes(secret), lines[0]);
    assert.ok(!lines[0].includes("0123456789"), lines[0]);
  }
  const { log, parsed } = capture({ secrets: () => [secret] });
  log.access(rec);
  const line = parsed()[0];
  assert.equal(line.route, "/v1/chat/completions/[redacted]");
  assert.equal(line.model, "gpt-[redacted]");
  assert.equal(line.error, "bad key [redacted]");
});

Deno.test("createLogger() access() writes what the generic path writes for the same fields (seeded)", () => {
  const rnd = seeded(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  const secret = "sk-aaaa-1111";
  const word = () => Math.floor(rnd() * 36 ** 4).toString(36);
  const texts = [
    "",
    "qwen",
    "/v1/chat/completions",
    "chat/qwen@http://127.0.0.1:8000#1",
    secret,
    `pre${secret}post`,
    `http://u:${secret}@h.test/?api_key=${encodeURIComponent(secret)}`,
    "upstream said Bearer abc.def",
    'quote " and \\ back\nslash\u0000',
    "caf\u00e9 \ud83d\ude00 \ud800 lone",
    "x".repeat(300) + secret,
  ];
  const text = () => rnd() < 0.3 ? `${word()}-${word()}` : pick(texts);
  const numbers = [0, -0, 1, 812, 0.5, 1e21, -3, Number.NaN, Number.POSITIVE_INFINITY];
  const odd = [new Error(`boom ${secret}`), 5n, ["a", secret], { apiKey: "k", n: 1 }];
  const maybe = <T>(f: () => T, pAbsent = 0.3) => {
    const r = rnd();
    return r < pAbsent ? undefined : r < pAbsent + 0.05 ? null : r > 0.97 ? pick(odd) : f();
  };
  const record = (): AccessRecord => ({
    requestId: text(),
    traceId: maybe(text),
    clientIp: text(),
    method: pick(["GET", "POST"]),
    route: text(),
    service: maybe(() => pick(["chat", "embedding"] as const)),
    model: maybe(text),
    instance: maybe(text),
    status: pick([200, 401, 502]),
    durationMs: pick(numbers),
    ttftMs: maybe(() => pick(numbers)),
    stream: rnd() < 0.5,
    tokensIn: maybe(() => pick(numbers)),
    tokensOut: maybe(() => pick(numbers)),
    retries: pick(numbers),
    fallback: maybe(text, 0.8),
    error: maybe(text, 0.5),
  } as AccessRecord);
  // The generic path: the fields the access line is made of, through info().
  const viaInfo = (log: ReturnType<typeof createLogger>, format: string, rec: AccessRecord) => {
    const fields = Object.fromEntries(ACCESS_FIELDS.map((k) => [k, rec[k] ?? null]));
    const msg = format === "pretty"
      ? `access ${rec.method} ${rec.route} ${rec.status} ${rec.durationMs}ms`
      : "access";
    log.info(msg, fields);
  };
  const bases = [
    undefined,
    { component: "proxy" },
    // A shared key, reserved names, an integer-like key, a credential name, a secret.
    { requestId: "from-base", ts: "t", msg: "m", 7: "seven", apiKey: "k", note: secret },
  ];
  const secretLists = [
    [],
    [secret, "gw-key-ABCDEF"],
    // A secret inside a field name: the generic path masks the key itself.
    ["stat", secret],
  ];
  let ms = T0;
  let compared = 0;
  for (const format of ["json", "pretty"] as const) {
    for (const list of secretLists) {
      for (const base of bases) {
        const { log, lines } = capture({ format, secrets: () => list, clock: () => ms });
        const logger = base === undefined ? log : log.child(base);
        for (let i = 0; i < 150; i++) {
          const rec = record();
          logger.access(rec);
          viaInfo(logger, format, rec);
          assert.equal(
            lines[2 * i],
            lines[2 * i + 1],
            `${format}, secrets ${list.join()}, record ${i}`,
          );
          // Lines often share a millisecond (the cached timestamp), sometimes not.
          if (rnd() < 0.5) ms += 1;
          compared++;
        }
      }
    }
  }
  assert.equal(compared, 2 * 3 * 3 * 150);
});

Deno.test("createLogger() access() keeps the memo of masked values bounded and per secret list", () => {
  let secrets = ["first-secret"];
  const { log, parsed } = capture({ secrets: () => secrets });
  // More distinct models than the memo holds, then one seen before: still masked correctly.
  for (let i = 0; i < 600; i++) log.access({ ...ACCESS, model: `m-${i}-first-secret` });
  log.access({ ...ACCESS, model: "m-0-first-secret" });
  secrets = ["second-secret"];
  log.access({ ...ACCESS, model: "m-0-first-secret" });
  const models = parsed().map((l) => l.model);
  assert.equal(models[599], "m-599-[redacted]");
  assert.equal(models[600], "m-0-[redacted]");
  assert.equal(models[601], "m-0-first-secret");
});

Deno.test("createLogger() ts equals the clock's Date.toISOString(), second after second (seeded)", () => {
  const rnd = seeded(11);
  const times = [0, -0, -1, -999, -1000, -1001, 999.9, -0.5, 1.5, 8.64e15, -8.64e15, T0];
  let t = T0;
  for (let i = 0; i < 2000; i++) {
    // Mostly small steps (the same millisecond or second again), sometimes a jump anywhere.
    t = rnd() < 0.9 ? t + Math.floor(rnd() * 300) - 20 : Math.floor((rnd() - 0.5) * 2e13) + rnd();
    times.push(t);
  }
  let i = 0;
  const { log, parsed } = capture({ clock: () => times[i] });
  for (; i < times.length; i++) log.info("tick");
  assert.deepEqual(parsed().map((l) => l.ts), times.map((ms) => new Date(ms).toISOString()));
  const odd = capture({ clock: () => Number.NaN });
  odd.log.info("x");
  assert.equal(odd.parsed()[0].ts, "NaN");
});

Deno.test("createLogger() child() adds fields; the call's fields win; reserved names are kept under _name", () => {
  const { log, parsed } = capture();
  const child = log.child({ requestId: "r1", service: "chat" }).child({ attempt: 1 });
  child.info("try", { service: "embedding", msg: "shadow", level: "x" });
  assert.deepEqual(parsed()[0], {
    ts: "2025-01-02T03:04:05.678Z",
    level: "info",
    msg: "try",
    requestId: "r1",
    service: "embedding",
    attempt: 1,
    _msg: "shadow",
    _level: "x",
  });
});

Deno.test("createLogger() redacts credential-named keys at any depth but keeps token counts", () => {
  const { log, lines, parsed } = capture();
  log.info("req", {
    headers: { Authorization: "Bearer aaa", "X-Api-Key": "bbb", cookie: "c=1" },
    upstream: [{ apiKey: "ccc", api_key: "ddd", password: "eee", clientSecret: "fff", accessToken: "ggg" }],
    tokensIn: 3,
    max_tokens: 10,
  });
  const line = parsed()[0];
  assert.deepEqual(line.headers, {
    Authorization: "[redacted]",
    "X-Api-Key": "[redacted]",
    cookie: "[redacted]",
  });
  assert.deepEqual(line.upstream, [{
    apiKey: "[redacted]",
    api_key: "[redacted]",
    password: "[redacted]",
    clientSecret: "[redacted]",
    accessToken: "[redacted]",
  }]);
  assert.equal(line.tokensIn, 3);
  assert.equal(line.max_tokens, 10);
  for (const s of ["aaa", "bbb", "ccc", "ddd", "eee", "fff", "ggg"]) assert.ok(!lines[0].includes(s), s);
});

Deno.test("createLogger() masks configured secrets inside messages, values, keys, errors and URLs", () => {
  const secret = "sk-Upstream-0123456789";
  const { log, lines } = capture({ secrets: () => [secret, "gw-key-ABCDEF"] });
  const err = new Error(`401 from upstream for key ${secret}`, { cause: { detail: `got gw-key-ABCDEF` } });
  log.error(`call failed with ${secret}`, {
    url: `http://127.0.0.1:9000/v1/chat?key=${secret}`,
    link: new URL(`http://user:${secret}@example.test/`),
    err,
    nested: { deeper: { list: ["x", `pre${secret}post`] } },
    [secret]: "as a key",
    headers: new Headers({ "x-upstream-key": secret, accept: "text/plain" }),
  });
  log.child({ note: `child ${secret}` }).info("m");
  assert.equal(lines.length, 2);
  for (const line of lines) {
    assert.ok(!line.includes(secret), line);
    assert.ok(!line.includes("gw-key-ABCDEF"), line);
  }
  assert.ok(lines[0].includes('"accept":"text/plain"'));
  assert.ok(lines[0].includes('"message":"401 from upstream for key [redacted]"'));
});

Deno.test("createLogger() masks credentials in URLs and Bearer tokens that are not configured secrets", () => {
  const { log, lines } = capture({ format: "pretty" });
  log.info("fetch", {
    a: "https://bob:hunter2@host.test/path?x=1&api_key=abc123&token=tok456#frag",
    b: "upstream replied to Bearer zzz999: unauthorized",
    c: "Basic auth is configured",
  });
  for (const s of ["hunter2", "abc123", "tok456", "zzz999"]) assert.ok(!lines[0].includes(s), s);
  assert.ok(
    lines[0].includes("https://[redacted]@host.test/path?x=1&api_key=[redacted]&token=[redacted]#frag"),
  );
  assert.ok(lines[0].includes("Basic auth is configured"));
});

Deno.test("createLogger() reads the secrets at every line, so a reload takes effect", () => {
  let secrets = ["first-secret"];
  const { log, lines } = capture({ secrets: () => secrets });
  log.info("a", { v: "first-secret second-secret" });
  secrets = ["second-secret"];
  log.info("b", { v: "first-secret second-secret" });
  assert.ok(lines[0].includes("[redacted] second-secret"));
  assert.ok(lines[1].includes("first-secret [redacted]"));
});

Deno.test("createLogger() never leaks a secret placed anywhere in random nested fields (seeded fuzz)", () => {
  const rnd = seeded(20250102);
  const secrets = ["sk-aaaa-1111", "tok_bbbb_2222", 'p@ss"w\\ord'];
  const keys = ["a", "data", "items", "authorization", "note", "url", "apiKey", "meta"];
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  const leaf = (): unknown => {
    const s = pick(secrets);
    return pick([
      s,
      `x${s}y`,
      `http://h.test/?token=${encodeURIComponent(s)}`,
      `http://u:${s}@h.test/`,
      new Error(`boom ${s}`),
      42,
      null,
      "plain",
    ]);
  };
  const build = (depth: number): unknown => {
    if (depth === 0 || rnd() < 0.3) return leaf();
    if (rnd() < 0.4) return Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => build(depth - 1));
    const o: Record<string, unknown> = {};
    for (let i = 0; i < 1 + Math.floor(rnd() * 4); i++) o[pick(keys)] = build(depth - 1);
    return o;
  };
  for (const format of ["json", "pretty"] as const) {
    const { log, lines } = capture({ format, secrets: () => secrets });
    for (let i = 0; i < 200; i++) log.info(`m ${pick(secrets)}`, { f: build(5) });
    assert.equal(lines.length, 200);
    for (const line of lines) {
      for (const s of secrets) {
        assert.ok(!line.includes(s) && !line.includes(JSON.stringify(s).slice(1, -1)), `${format}: ${line}`);
        assert.ok(!line.includes(encodeURIComponent(s)), `${format}: ${line}`);
      }
    }
  }
});

Deno.test("createLogger() survives cycles, bigint, typed arrays and a throwing writer", () => {
  const { log, parsed } = capture();
  const o: Record<string, unknown> = { n: 1n, bytes: new Uint8Array(3), when: new Date(0) };
  o.self = o;
  log.info("odd", { o });
  assert.deepEqual(parsed()[0].o, {
    n: "1",
    bytes: "[3 bytes]",
    when: "1970-01-01T00:00:00.000Z",
    self: "[circular]",
  });
  const broken = createLogger({
    level: "info",
    format: "json",
    clock: () => 0,
    write: () => {
      throw new Error("EPIPE");
    },
  });
  broken.info("ignored");
});

Deno.test("createLogger() rejects unknown levels, formats and a missing clock", () => {
  const base = { level: "info", format: "json", clock: () => 0 } as const;
  assert.throws(() => createLogger({ ...base, level: "trace" as "info" }), {
    name: "RangeError",
    message: 'Cannot create logger: "level" must be one of debug, info, warn, error, received "trace"',
  });
  assert.throws(() => createLogger({ ...base, format: "xml" as "json" }), {
    name: "RangeError",
    message: 'Cannot create logger: "format" must be one of json, pretty, received "xml"',
  });
  assert.throws(() => createLogger({ ...base, clock: undefined as unknown as () => number }), {
    name: "TypeError",
    message: 'Cannot create logger: "clock" must be a function, received undefined',
  });
});
