/**
 * Which short-lived objects V8 promotes to the old generation in Deno 2.9 (issue 12's GC finding).
 *
 * Each case creates 300,000 objects in a loop and drops each at once; the child runs under
 * `--trace-gc-nvp` and this script sums what the young-generation GCs (scavenges) report. An
 * object nothing holds should die young: ~0 bytes survived and promoted per object, as plain
 * literals, `Headers`, `URL` and `Response` do. A `Request` does not: every one, however built
 * (from a URL or from another `Request`, with or without an init), survives its scavenge and
 * ~280–310 bytes of it are promoted, to be freed only by a full GC. `fetch(url, init)` builds one
 * per call, so every upstream call of any Deno proxy pays it (the bare proxy promotes ~0.4 KB per
 * request in all). An object literal with a getter shows one V8 mechanism that does this (each
 * such literal gets a hidden class of its own, in old space, which keeps the young getter and its
 * context alive); Deno's `newInnerRequest` is such a literal, but the `Request` built from another
 * `Request` avoids it and is promoted all the same, so the cause inside `Request` is not isolated
 * here. What would fix it upstream: find the old-space link each `Request` gets (its class fields,
 * its inner record, or its body mixin) and remove it, e.g. an inner-request class with the
 * accessors on its prototype, as `ext/http/00_serve.ts` already uses for served requests.
 *
 * Usage: `deno run --allow-run --allow-read docs/perf/repro_request_promotion.ts`
 *
 * @module
 */

const N = 300_000;

const CASES: Record<string, () => unknown> = {
  "plain literal": () => ({ a: 1, b: "x", c: [1, 2] }),
  "literal with methods": () => ({ a: 1, m() {}, n: () => 2 }),
  "literal with a getter": () => {
    let a = 1;
    return {
      get m() {
        return a++;
      },
    };
  },
  "new Headers": () => new Headers([["content-type", "application/json"]]),
  "new URL": () => new URL("http://127.0.0.1:9/v1/chat/completions"),
  "new Response": () => new Response("{}"),
  "new Request(url)": () => new Request("http://127.0.0.1:9/v1/chat/completions"),
  "new Request(request)": (() => {
    const kept = new Request("http://127.0.0.1:9/v1/chat/completions");
    return () => new Request(kept);
  })(),
};

/** Sums the scavenges of a `--trace-gc-nvp` log: bytes survived and promoted. */
export function scavenges(log: string): { count: number; survived: number; promoted: number } {
  const sum = { count: 0, survived: 0, promoted: 0 };
  for (const line of log.split("\n")) {
    if (!line.includes('"gc":"s"')) continue;
    sum.count++;
    sum.survived += Number(/"new_space_survived":(\d+)/.exec(line)?.[1] ?? 0);
    sum.promoted += Number(/"promoted":(\d+)/.exec(line)?.[1] ?? 0);
  }
  return sum;
}

if (import.meta.main) {
  const which = Deno.args[0];
  if (which !== undefined) {
    let sink: unknown;
    const make = CASES[which];
    for (let i = 0; i < N; i++) sink = make();
    if (sink === undefined) Deno.exit(1);
  } else {
    console.log("| case | scavenges | survived B/object | promoted B/object |\n| --- | ---: | ---: | ---: |");
    for (const name of Object.keys(CASES)) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--v8-flags=--trace-gc-nvp", import.meta.filename!, name],
        stdout: "piped",
      }).output();
      const s = scavenges(new TextDecoder().decode(out.stdout));
      console.log(
        `| ${name} | ${s.count} | ${(s.survived / N).toFixed(0)} | ${(s.promoted / N).toFixed(0)} |`,
      );
    }
  }
}
