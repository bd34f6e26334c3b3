import assert from "node:assert/strict";
import { automaticMaxConnections, createOpenFileCounter, openFileLimit } from "./open_files.ts";

/** Runs `code` in a child Deno with all permissions: Deno opens /proc/self to no one else. */
async function withAllPermissions(code: string): Promise<string> {
  const module = new URL("./open_files.ts", import.meta.url).href;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", `import * as m from "${module}";\n${code}`],
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

const PROC_FS =
  "{ statSync: Deno.statSync, readDirSync: Deno.readDirSync, readTextFileSync: Deno.readTextFileSync }";

Deno.test({
  name:
    "createOpenFileCounter() follows the sockets a process opens; openFileLimit() reads its limit (Linux /proc)",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const out = await withAllPermissions(`
      const fs = ${PROC_FS};
      const count = m.createOpenFileCounter(fs);
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const before = count();
      const conns = await Promise.all(Array.from({ length: 10 }, () => Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port })));
      console.log(JSON.stringify({ delta: count() - before, limit: m.openFileLimit(fs) }));
    `);
    const { delta, limit } = JSON.parse(out);
    // 10 client sockets; their server sides wait unaccepted in the backlog.
    assert.equal(delta, 10);
    assert.ok(limit > 0, `limit ${limit}`);
  },
});

Deno.test("createOpenFileCounter() is undefined without /proc, and counts the directory on old kernels", () => {
  const missing = createOpenFileCounter({
    statSync: () => {
      throw new Deno.errors.NotFound("no /proc");
    },
    readDirSync: () => [],
    readTextFileSync: () => "",
  });
  assert.equal(missing, undefined);
  const old = createOpenFileCounter({
    statSync: () => ({ size: 0 }),
    readDirSync: () => ["0", "1"],
    readTextFileSync: () => "",
  });
  assert.equal(old?.(), 2);
});

Deno.test("openFileLimit() reads the soft limit; automaticMaxConnections() keeps 20 % for upstreams and files", () => {
  assert.equal(
    openFileLimit({
      statSync: () => ({ size: 0 }),
      readDirSync: () => [],
      readTextFileSync: () => "Max open files  unlimited  unlimited  files\n",
    }),
    undefined,
  );
  assert.equal(automaticMaxConnections(65536), 52428);
  assert.equal(automaticMaxConnections(undefined), 0);
});
