import assert from "node:assert/strict";
import { createHealthState, type HealthStateOptions } from "./health_state.ts";

function make(overrides: Partial<HealthStateOptions> = {}) {
  const changes: string[] = [];
  const state = createHealthState({
    healthyThreshold: 2,
    unhealthyThreshold: 3,
    passiveFailures: 2,
    onChange: (healthy, reason) => changes.push(`${healthy ? "up" : "down"}: ${reason}`),
    ...overrides,
  });
  return { state, changes };
}

Deno.test("createHealthState() starts healthy with empty runs", () => {
  const { state, changes } = make();
  assert.equal(state.healthy, true);
  assert.deepEqual(state.snapshot(), {
    healthy: true,
    reason: "initial",
    transitions: 0,
    probeSuccesses: 0,
    probeFailures: 0,
    passiveFailures: 0,
  });
  assert.deepEqual(changes, []);
});

Deno.test("probeResult() marks unhealthy only after unhealthyThreshold consecutive failures", () => {
  const { state, changes } = make();
  state.probeResult(false);
  state.probeResult(false);
  assert.equal(state.healthy, true);
  state.probeResult(false, "HTTP 500");
  assert.equal(state.healthy, false);
  assert.deepEqual(changes, ["down: 3 consecutive probe failures (last: HTTP 500)"]);
});

Deno.test("probeResult() success in between restarts the failure run", () => {
  const { state, changes } = make();
  for (const ok of [false, false, true, false, false]) state.probeResult(ok);
  assert.equal(state.healthy, true);
  assert.equal(state.snapshot().probeFailures, 2);
  state.probeResult(false);
  assert.equal(state.healthy, false);
  assert.equal(changes.length, 1);
});

Deno.test("probeResult() brings an unhealthy instance back after healthyThreshold successes", () => {
  const { state, changes } = make();
  for (let i = 0; i < 3; i++) state.probeResult(false);
  state.probeResult(true);
  assert.equal(state.healthy, false);
  state.probeResult(false); // a failure breaks the recovery run
  state.probeResult(true);
  assert.equal(state.healthy, false);
  state.probeResult(true);
  assert.equal(state.healthy, true);
  assert.deepEqual(changes.at(-1), "up: 2 consecutive probe successes");
  assert.equal(state.snapshot().transitions, 2);
});

Deno.test("probeResult() successes while healthy do not fire onChange", () => {
  const { state, changes } = make();
  for (let i = 0; i < 10; i++) state.probeResult(true);
  assert.equal(state.healthy, true);
  assert.deepEqual(changes, []);
});

Deno.test("passiveResult() ejects at once after passiveFailures consecutive failures", () => {
  const { state, changes } = make();
  state.passiveResult(false);
  assert.equal(state.healthy, true);
  state.passiveResult(false, "connection refused");
  assert.equal(state.healthy, false);
  assert.deepEqual(changes, [
    "down: ejected after 2 consecutive request failures (last: connection refused)",
  ]);
});

Deno.test("passiveResult() success resets the failure count", () => {
  const { state } = make();
  for (const ok of [false, true, false, true, false]) state.passiveResult(ok);
  assert.equal(state.healthy, true);
  assert.equal(state.snapshot().passiveFailures, 1);
});

Deno.test("passiveResult() with passiveFailures 0 never ejects", () => {
  const { state, changes } = make({ passiveFailures: 0 });
  for (let i = 0; i < 50; i++) state.passiveResult(false);
  assert.equal(state.healthy, true);
  assert.deepEqual(changes, []);
});

Deno.test("passiveResult() success does not readmit an ejected instance; probes do", () => {
  const { state } = make();
  state.passiveResult(false);
  state.passiveResult(false);
  state.passiveResult(true); // a late in-flight request finishing well
  assert.equal(state.healthy, false);
  state.probeResult(true);
  state.probeResult(true);
  assert.equal(state.healthy, true);
});

Deno.test("probe successes counted before an ejection do not shorten the recovery", () => {
  const { state } = make();
  state.probeResult(true);
  state.probeResult(true);
  state.passiveResult(false);
  state.passiveResult(false);
  state.probeResult(true);
  assert.equal(state.healthy, false, "one success after ejection is not enough with healthyThreshold 2");
  state.probeResult(true);
  assert.equal(state.healthy, true);
});

Deno.test("passive failures before a recovery do not count after it", () => {
  const { state } = make();
  for (let i = 0; i < 3; i++) state.probeResult(false);
  state.passiveResult(false); // late failure while out
  state.probeResult(true);
  state.probeResult(true);
  assert.equal(state.healthy, true);
  state.passiveResult(false);
  assert.equal(state.healthy, true, "the run restarted at recovery, so one failure is not two");
});

Deno.test("eject() marks unhealthy with the given reason, once", () => {
  const { state, changes } = make();
  state.eject("operator drain");
  state.eject("operator drain again");
  assert.equal(state.healthy, false);
  assert.deepEqual(changes, ["down: operator drain"]);
  assert.equal(state.snapshot().reason, "operator drain again");
});

Deno.test("eject() while unhealthy voids the recovery run in progress", () => {
  const { state } = make();
  state.eject("drain");
  state.probeResult(true);
  state.eject("drain");
  state.probeResult(true);
  assert.equal(state.healthy, false);
  state.probeResult(true);
  assert.equal(state.healthy, true);
});

Deno.test("a throwing onChange leaves the state fully updated", () => {
  const state = createHealthState({
    healthyThreshold: 1,
    unhealthyThreshold: 1,
    passiveFailures: 1,
    onChange: () => {
      throw new Error("logger down");
    },
  });
  assert.throws(() => state.probeResult(false), /logger down/);
  assert.equal(state.healthy, false);
  assert.equal(state.snapshot().transitions, 1);
});

Deno.test("createHealthState() rejects bad options with std-style messages", () => {
  const base = { healthyThreshold: 1, unhealthyThreshold: 1, passiveFailures: 1 };
  assert.throws(
    () => createHealthState({ ...base, healthyThreshold: 0 }),
    new RangeError('Cannot create health state: "healthyThreshold" must be an integer >= 1, received 0'),
  );
  assert.throws(
    () => createHealthState({ ...base, unhealthyThreshold: 1.5 }),
    new RangeError('Cannot create health state: "unhealthyThreshold" must be an integer >= 1, received 1.5'),
  );
  assert.throws(
    () => createHealthState({ ...base, passiveFailures: -1 }),
    new RangeError('Cannot create health state: "passiveFailures" must be an integer >= 0, received -1'),
  );
  assert.throws(
    () => createHealthState({ ...base, passiveFailures: "3" as unknown as number }),
    TypeError,
  );
  assert.throws(
    () => createHealthState({ ...base, onChange: 1 as unknown as () => void }),
    TypeError,
  );
});

function withClock(liveGraceMs: number) {
  let now = 1_000;
  const overruled: string[] = [];
  const { state, changes } = make({
    unhealthyThreshold: 2,
    liveGraceMs,
    clock: () => now,
    onProbeOverruled: (d) => overruled.push(d),
  });
  return { state, changes, overruled, advance: (ms: number) => (now += ms) };
}

Deno.test("a failing probe does not eject an instance whose live requests succeeded within liveGraceMs", () => {
  const { state, changes, overruled, advance } = withClock(20_000);
  state.passiveResult(true);
  advance(10_000);
  state.probeResult(false, "HTTP 500");
  advance(10_000);
  state.probeResult(false, "HTTP 500"); // threshold reached 20 s after the live success: still kept
  assert.equal(state.healthy, true);
  assert.deepEqual(changes, []);
  assert.deepEqual(overruled, [
    "2 consecutive probe failures (last: HTTP 500); kept: a live request succeeded within 20000 ms",
  ]);
  state.probeResult(false);
  assert.equal(overruled.length, 1, "reported once per failing run");
  assert.equal(state.snapshot().liveSuccessAt, 1_000);
});

Deno.test("once live traffic stops for liveGraceMs, the next failing probe ejects", () => {
  const { state, changes, advance } = withClock(20_000);
  state.passiveResult(true);
  state.probeResult(false);
  state.probeResult(false);
  assert.equal(state.healthy, true);
  advance(20_001);
  state.probeResult(false, "timeout after 3000 ms");
  assert.equal(state.healthy, false);
  assert.deepEqual(changes, ["down: 3 consecutive probe failures (last: timeout after 3000 ms)"]);
});

Deno.test("without any live success, or with liveGraceMs 0, probes alone decide", () => {
  const idle = withClock(20_000);
  idle.state.probeResult(false);
  idle.state.probeResult(false);
  assert.equal(idle.state.healthy, false, "never served: a failing probe ejects");
  const off = withClock(0);
  off.state.passiveResult(true);
  off.state.probeResult(false);
  off.state.probeResult(false);
  assert.equal(off.state.healthy, false);
  assert.deepEqual(off.overruled, []);
});

Deno.test("a probe success ends the overruled run, so a later failing run is reported again", () => {
  const { state, overruled } = withClock(20_000);
  state.passiveResult(true);
  for (const ok of [false, false, true, false, false]) state.probeResult(ok);
  assert.equal(state.healthy, true);
  assert.equal(overruled.length, 2);
});

Deno.test("createHealthState() rejects a bad liveGraceMs and a grace without a clock", () => {
  const base = { healthyThreshold: 1, unhealthyThreshold: 1, passiveFailures: 1 };
  assert.throws(
    () => createHealthState({ ...base, liveGraceMs: -1, clock: () => 0 }),
    new RangeError('Cannot create health state: "liveGraceMs" must be a finite number >= 0, received -1'),
  );
  assert.throws(
    () => createHealthState({ ...base, liveGraceMs: 10 }),
    new TypeError('Cannot create health state: "clock" is required when "liveGraceMs" > 0'),
  );
});

Deno.test("ejectUntil() takes the instance out until expireEjection() at that time brings it back", () => {
  const { state, changes } = make();
  state.ejectUntil(5000, "latency outlier");
  assert.equal(state.healthy, false);
  assert.equal(state.ejectedUntil, 5000);
  assert.deepEqual(state.snapshot(), {
    healthy: false,
    reason: "latency outlier",
    transitions: 1,
    probeSuccesses: 0,
    probeFailures: 0,
    passiveFailures: 0,
    ejectedUntil: 5000,
  });
  state.probeResult(true);
  state.probeResult(true);
  assert.equal(state.healthy, false, "probes do not cut a timed ejection short");
  assert.equal(state.expireEjection(4999, "over"), false);
  assert.equal(state.expireEjection(5000, "ejection over"), true);
  assert.equal(state.healthy, true);
  assert.equal(state.ejectedUntil, 0);
  assert.deepEqual(changes, ["down: latency outlier", "up: ejection over"]);
  assert.equal(state.expireEjection(9000, "again"), false);
});

Deno.test("a timed ejection and the probes' verdict: out while either says so, one change each way", () => {
  const { state, changes } = make();
  state.ejectUntil(5000, "latency outlier");
  for (let i = 0; i < 3; i++) state.probeResult(false, "timeout");
  assert.equal(state.snapshot().reason, "3 consecutive probe failures (last: timeout)", "the lasting reason");
  state.expireEjection(5000, "ejection over");
  assert.equal(state.healthy, false, "the probes keep it out");
  assert.deepEqual(changes, ["down: latency outlier"]);
  state.probeResult(true);
  state.probeResult(true);
  assert.equal(state.healthy, true);
  assert.deepEqual(changes, ["down: latency outlier", "up: 2 consecutive probe successes"]);
  // Probes down first, then a timed ejection: no second "down".
  state.eject("operator");
  state.ejectUntil(9000, "latency outlier");
  assert.equal(changes.length, 3);
  assert.throws(() => state.ejectUntil(Infinity, "x"), RangeError);
});
