/**
 * Health checking of upstream instances: per-instance state with thresholds, passive ejection and
 * the live-traffic veto ({@linkcode createHealthState}), the active prober ({@linkcode createProber})
 * running HTTP or TCP probes ({@linkcode probeOnce}), the `expect-status` rule
 * ({@linkcode isExpectedStatus}) and the probe an instance's `health-check` describes
 * ({@linkcode planProbe}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHealthState } from "./mod.ts";
 *
 * const state = createHealthState({ healthyThreshold: 2, unhealthyThreshold: 3, passiveFailures: 5 });
 * assert(state.healthy); // instances start healthy
 * ```
 *
 * @module
 */

export { createHealthState } from "./health_state.ts";
export type { HealthSnapshot, HealthState, HealthStateOptions } from "./health_state.ts";
export { DEFAULT_EXPECT_STATUS, isExpectedStatus, parseExpectStatus } from "./expect_status.ts";
export type { ExpectStatusResult } from "./expect_status.ts";
export { isTcpProbe, probeOnce } from "./probe_once.ts";
export type { ProbeContext, ProbeVerdict, TcpConnect } from "./probe_once.ts";
export { isActivelyProbed, planProbe, tcpAddressOf } from "./probe_plan.ts";
export type { ProbePlan } from "./probe_plan.ts";
export { createProber } from "./prober.ts";
export type { ProbeOutcome, Prober, ProberOptions, ProbeTarget, Schedule } from "./prober.ts";
