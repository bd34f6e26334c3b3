/**
 * Health checking of upstream instances: per-instance state with thresholds and passive ejection
 * ({@linkcode createHealthState}), the active prober ({@linkcode createProber}) and the rule that
 * judges a probe's HTTP status ({@linkcode isProbeStatusUp}).
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
export { isProbeStatusUp } from "./probe_rule.ts";
export { createProber } from "./prober.ts";
export type { ProbeOutcome, Prober, ProberOptions, ProbeTarget, Schedule } from "./prober.ts";
