import assert from "node:assert/strict";
import { automaticMaxConnections, createOpenFileCounter, openFileLimit } from "./open_files.ts";

const procFs = {
  statSync: Deno.statSync,
  readDirSync: Deno.readDirSync,
  readTextFileSync: Deno.readTextFileSync,
};

Deno.test({
  name: "createOpenFileCounter() follows the sockets this process opens (Linux /proc)",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const count = createOpenFileCounter(procFs)!;
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    // Other test modules may run in this process and open or close files meanwhile: one of a few
    // tries must see the 10 client sockets (their server sides wait unaccepted in the backlog).
    const deltas: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = count()!;
      const conns = await Promise.all(
        Array.from({ length: 10 }, () => Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port })),
      );
      deltas.push(count()! - before);
      for (const c of conns) c.close();
      if (deltas.at(-1) === 10) break;
    }
    listener.close();
    assert.ok(deltas.some((d) => Math.abs(d - 10) <= 1), `deltas ${deltas}`);
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
  const limit = openFileLimit(procFs);
  if (Deno.build.os === "linux") assert.ok(limit !== undefined && limit > 0);
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
