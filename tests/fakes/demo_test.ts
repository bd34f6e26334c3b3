import assert from "node:assert/strict";
import { demoArgs } from "./demo.ts";

Deno.test("demoArgs() takes --upstream-ports, else DEMO_UPSTREAM_PORTS, else 9101,9102, and leaves the rest to the gateway", () => {
  assert.deepEqual(demoArgs([], {}), { ports: [9101, 9102], rest: [], traffic: false });
  assert.deepEqual(demoArgs(["--port", "0"], { DEMO_UPSTREAM_PORTS: "9201,9202" }), {
    ports: [9201, 9202],
    rest: ["--port", "0"],
    traffic: false,
  });
  assert.deepEqual(
    demoArgs(["--upstream-ports", "0,0", "--no-watch"], { DEMO_UPSTREAM_PORTS: "1,2" }),
    { ports: [0, 0], rest: ["--no-watch"], traffic: false },
  );
  assert.deepEqual(demoArgs(["--upstream-ports=7,8"], {}).ports, [7, 8]);
  // --traffic is the demo's own: the gateway never sees it.
  assert.deepEqual(demoArgs(["--traffic", "--no-watch"], {}), {
    ports: [9101, 9102],
    rest: ["--no-watch"],
    traffic: true,
  });
});

Deno.test("demoArgs() refuses anything but two ports", () => {
  for (const spec of ["9101", "9101,9102,9103", "a,b", "70000,1", "", "-1,2"]) {
    assert.throws(
      () => demoArgs(["--upstream-ports", spec], {}),
      new TypeError(`Upstream ports must be two ports 0..65535 like "9101,9102", received "${spec}"`),
    );
  }
});
