import assert from "node:assert/strict";
import { parse } from "yaml";
import { METRIC_NAMES } from "./metric_names.ts";

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const file = new URL("../../config/alerts.yml", import.meta.url);
const rules = (): Rule[] => {
  const doc = parse(Deno.readTextFileSync(file)) as { groups: { name: string; rules: Rule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
};

Deno.test("config/alerts.yml has the four required alerts", () => {
  const byName = new Map(rules().map((r) => [r.alert, r]));
  const down = byName.get("DAiRouterInstanceDown");
  assert.match(down?.expr ?? "", /dairouter_instance_healthy == 0/);
  assert.equal(down?.for, "1m");
  assert.match(
    byName.get("DAiRouterCircuitBreakerOpen")?.expr ?? "",
    /dairouter_circuit_breaker_state\[2m\]\) == 2/,
  );
  const errors = byName.get("DAiRouterHighErrorRatio")?.expr ?? "";
  assert.match(errors, /status=~"5\.\."\}\[5m\]/);
  assert.match(errors, /> 0\.05/);
  const p99 = byName.get("DAiRouterHighLatencyP99")?.expr ?? "";
  assert.match(p99, /histogram_quantile\(0\.99,\s*sum by \(service, le\)/);
  assert.match(p99, /> 10\s*$/);
});

Deno.test("config/alerts.yml only uses metric names that metrics.ts exports", () => {
  const known = new Set<string>(Object.values(METRIC_NAMES));
  for (const rule of rules()) {
    // The standard `process_*` gauges are the gateway's too (`process_metrics.ts`).
    const used = rule.expr.match(/\b(?:dairouter|process)_[a-z_]+/g) ?? [];
    assert.ok(used.length > 0, rule.alert);
    for (const name of used) {
      const base = name.replace(/_(bucket|sum|count)$/, "");
      assert.ok(known.has(base), `${rule.alert} uses unknown metric ${name}`);
    }
    assert.ok(rule.labels?.severity, `${rule.alert} has no severity`);
    assert.ok(rule.annotations?.summary, `${rule.alert} has no summary`);
  }
});
