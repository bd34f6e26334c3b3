/**
 * The drain sequence on hand-driven time, with a fake gateway and listeners whose shutdown the
 * test completes: what happens at once, at drain-delay, at the shutdown deadline and after the
 * cut's grace, and in which order.
 */

import assert from "node:assert/strict";
import { createLogger } from "../observe/logger.ts";
import { manualTime, settle } from "./_testing.ts";
import { createDrain, type DrainOptions } from "./drain.ts";

/** A gateway that records what the drain does to it, and the messages it logs. */
function fakeGateway(inFlight: number) {
  const steps: string[] = [];
  const logger = createLogger({
    level: "info",
    format: "json",
    clock: () => 0,
    write: (line) => steps.push(`log ${JSON.parse(line).msg}`),
  });
  const gateway: DrainOptions["gateway"] = {
    logger,
    drain: () => void steps.push("drain"),
    cut: () => (steps.push("cut"), inFlight),
    close: () => (steps.push("close"), Promise.resolve()),
    inFlight: () => inFlight,
  };
  return { gateway, steps };
}

/** A listener whose graceful shutdown ends when the test says so. */
function fakeListener(steps: string[]) {
  const closed = Promise.withResolvers<void>();
  return {
    shutdown: () => (steps.push("listener shutdown"), closed.promise),
    close: () => closed.resolve(),
  };
}

Deno.test("createDrain(): not ready at once, listeners closed only after drain-delay, no cut when they close in time", async () => {
  const time = manualTime();
  const { gateway, steps } = fakeGateway(2);
  const listener = fakeListener(steps);
  const drain = createDrain({
    gateway,
    listeners: () => [listener],
    drainDelayMs: 3000,
    shutdownTimeoutMs: 1000,
    sleep: time.sleep,
    onDraining: () => void steps.push("onDraining"),
    release: () => (steps.push("release"), Promise.resolve()),
    finish: () => void steps.push("finish"),
  });
  const result = drain.start("SIGTERM");
  await settle();
  assert.deepEqual(steps, ["drain", "onDraining", "log draining"]);
  await time.advance(2999);
  assert.equal(steps.includes("listener shutdown"), false, "still serving during drain-delay");
  await time.advance(1);
  assert.deepEqual(steps.slice(3), [
    "log listener closed; waiting for in-flight requests",
    "listener shutdown",
  ]);
  await time.advance(500);
  listener.close();
  assert.equal(await result, "done");
  assert.deepEqual(steps.slice(5), ["close", "release", "log stopped", "finish"]);
  assert.equal(await drain.finished, "done");
});

Deno.test("createDrain(): at the shutdown deadline in-flight requests are cut; 'cut' when the listeners then close", async () => {
  const time = manualTime();
  const { gateway, steps } = fakeGateway(3);
  const listener = fakeListener(steps);
  const drain = createDrain({
    gateway,
    listeners: () => [listener],
    drainDelayMs: 0,
    shutdownTimeoutMs: 1000,
    cutGraceMs: 200,
    sleep: time.sleep,
  });
  const result = drain.start("SIGINT");
  await time.advance(0);
  await time.advance(999);
  assert.equal(steps.includes("cut"), false);
  await time.advance(1);
  assert.deepEqual(steps.slice(-2), ["cut", "log shutdown deadline reached; cutting in-flight requests"]);
  listener.close();
  assert.equal(await result, "cut");
  assert.deepEqual(steps.slice(-2), ["close", "log stopped"]);
});

Deno.test("createDrain(): a listener still open after the cut's grace is left behind ('timeout'); the gateway still closes", async () => {
  const time = manualTime();
  const { gateway, steps } = fakeGateway(1);
  const stuck = fakeListener(steps);
  const drain = createDrain({
    gateway,
    listeners: () => [stuck, { shutdown: () => Promise.resolve() }],
    drainDelayMs: 0,
    shutdownTimeoutMs: 1000,
    cutGraceMs: 200,
    sleep: time.sleep,
  });
  const result = drain.start("SIGTERM");
  await time.advance(0);
  await time.advance(1000);
  await time.advance(199);
  assert.equal(steps.includes("close"), false, "the grace is not over");
  await time.advance(1);
  assert.equal(await result, "timeout");
  assert.deepEqual(steps.slice(-2), ["close", "log stopped"]);
  assert.equal(time.pending(), 0);
});

Deno.test("createDrain(): a second signal joins the drain under way instead of starting another", async () => {
  const time = manualTime();
  const { gateway, steps } = fakeGateway(0);
  const drain = createDrain({
    gateway,
    listeners: () => [{ shutdown: () => Promise.resolve() }],
    drainDelayMs: 100,
    shutdownTimeoutMs: 100,
    sleep: time.sleep,
  });
  const first = drain.start("SIGTERM");
  const second = drain.start("SIGINT");
  await time.advance(100);
  assert.equal(await first, "done");
  assert.equal(await second, "done");
  assert.equal(steps.filter((s) => s === "drain").length, 1);
  assert.equal(steps.filter((s) => s === "log draining").length, 1);
  await time.advance(100); // the deadline's timer, left behind by the race
});

Deno.test("createDrain() refuses a negative or non-finite delay", () => {
  const { gateway } = fakeGateway(0);
  const base = { gateway, listeners: () => [], sleep: () => Promise.resolve() };
  assert.throws(
    () => createDrain({ ...base, drainDelayMs: -1, shutdownTimeoutMs: 0 }),
    new RangeError('Cannot create drain: "drainDelayMs" must be >= 0, received -1'),
  );
  assert.throws(
    () => createDrain({ ...base, drainDelayMs: 0, shutdownTimeoutMs: NaN }),
    /"shutdownTimeoutMs" must be >= 0, received NaN/,
  );
});
