import assert from "node:assert/strict";
import { demoArgs } from "./demo.ts";

Deno.test("demoArgs() takes --upstream-ports, else DEMO_UPSTREAM_PORTS, else 9101,9102, and leaves the rest to the gateway", () => {
  assert.deepEqual(demoArgs([], {}), { ports: [9101, 9102], rest: [] });
  assert.deepEqual(demoArgs(["--port", "0"], { DEMO_UPSTREAM_PORTS: "9201,9202" }), {
    ports: [9201, 9202],
    rest: ["--port", "0"],
  });
  assert.deepEqual(
    demoArgs(["--upstream-ports", "0,0", "--no-watch"], { DEMO_UPSTREAM_PORTS: "1,2" }),
    { ports: [0, 0], rest: ["--no-watch"] },
  );
  assert.deepEqual(demoArgs(["--upstream-ports=7,8"], {}).ports, [7, 8]);
});

Deno.test("demoArgs() refuses anything but two ports", () => {
  for (const spec of ["9101", "9101,9102,9103", "a,b", "70000,1", "", "-1,2"]) {
    assert.throws(
      () => demoArgs(["--upstream-ports", spec], {}),
      new TypeError(`Upstream ports must be two ports 0..65535 like "9101,9102", received "${spec}"`),
    );
  }
});
