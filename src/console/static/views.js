// The console's views: header, per service → model → instance table, recent problems, config.

import { h } from "../vendor/preact.mjs";
import htm from "../vendor/htm.mjs";
import { ChartRow } from "./charts.js";
import { clock, mb, ms, pct, rate, SERVICE_TITLES, uptime } from "./format.js";

export const html = htm.bind(h);

const ICONS = {
  ok: "M4 12l5 5L20 6",
  down: "M5 5l14 14M19 5L5 19",
  warn: "M12 3l10 18H2zM12 10v5M12 18v.5",
  paused: "M8 5v14M16 5v14",
};

/** A status icon (shape) with its colour class and a text label: colour is never the only cue. */
export function Icon({ kind, label }) {
  return html`
    <span class=${`icon ${kind}`} role="img" aria-label=${label} title=${label}>
      <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
        <path d=${ICONS[kind]} />
      </svg>
    </span>
  `;
}

/** The worst state of an instance: what the operator must see first. */
export function instanceState(i) {
  if (!i.enabled) return { kind: "paused", label: "drained" };
  if (!i.healthy) return { kind: "down", label: "unhealthy" };
  if (i.breaker === "open") return { kind: "down", label: "breaker open" };
  if (i.breaker === "half_open") return { kind: "warn", label: "breaker half-open" };
  if (i.errorRatio !== null && i.errorRatio >= 0.05) return { kind: "warn", label: "errors" };
  return { kind: "ok", label: "healthy" };
}

const SERVICE_STATE = {
  up: { kind: "ok", label: "up" },
  degraded: { kind: "warn", label: "degraded" },
  down: { kind: "down", label: "down" },
};

export function Header({ app }) {
  const s = app.state;
  const tick = s.tick;
  return html`
    <header class="top">
      <div class="brand"><img src=${app.asset("icon.svg")} alt="" width="22" height="22" /> DAiRouter</div>
      <div class="facts">
          <span>v${s.version}</span>
          ${tick && html`<span title="time since the gateway started">up ${uptime(tick.uptimeS)}</span>`}
          ${tick?.process &&
            html`<span title="resident memory of the gateway process" data-fact="rss">RSS ${
              mb(tick.process.rssBytes)
            }</span>`}
          ${tick?.process &&
            html`
              <span
                class=${tick.process.lagMs > 250 ? "lagging" : ""}
                title="the longest the event loop ran late in the last 10 s: every request waited as long"
                data-fact="lag"
              >loop lag ${ms(tick.process.lagMs)}</span>
            `}
          ${tick &&
            html`<span title=${`config seen since ${
              clock(tick.revision.since)
            }`}>rev ${tick.revision.hash}</span>`}
          <span class=${`conn ${s.conn}`} data-conn=${s.conn}>${s.conn === "live"
            ? "live"
            : "reconnecting…"}</span>
        </div>
      <div class="buttons">
          ${s.access === "admin" &&
            html`<button onClick=${() => app.actions.reload()}>Reload config</button>`}
          <button onClick=${() => app.setState({ showConfig: !s.showConfig })}>${s.showConfig
            ? "Hide"
            : "Show"} config</button>
          ${s.access === "admin"
            ? html`<button onClick=${() => app.signOut()}>Sign out</button>`
            : html`<button onClick=${() =>
              app.setState({ phase: "login", message: "" })}>Sign in for actions</button>`}
        </div>
    </header>
  `;
}

function Load({ load }) {
  if (!load) return html`<td class="num load">–</td>`;
  const kv = load.kvCacheUsage;
  return html`<td class="num load">
    ${load.queueDepth !== undefined ? html`<span title="engine queue">q ${load.queueDepth}</span>` : ""}
    ${
    kv !== undefined
      ? html`
        <span class=${kv >= 0.9 ? "hot" : ""} title="KV-cache use">kv ${pct(kv)}</span>
      `
      : ""
  }
  </td>`;
}

function InstanceRow({ app, svc, inst, withLoad }) {
  const st = instanceState(inst);
  const open = app.state.expanded.has(inst.id);
  const admin = app.state.access === "admin";
  const cols = withLoad ? 12 : 11;
  return html`
    <tr class=${`inst ${st.kind}`} data-instance=${inst.id} data-state=${st.label}>
      <td><${Icon} kind=${st.kind} label=${st.label} /></td>
      <td class="name">
        <button class="link" onClick=${() => app.toggle(inst.id)} aria-expanded=${open}>${inst.url}</button>
        <small>${inst.adapter}${inst.healthReason && !inst.healthy ? ` · ${inst.healthReason}` : ""}</small>
      </td>
      <td class="state">${st.label}${inst.breaker !== "closed" && inst.enabled
        ? html`<br /><small>breaker ${inst.breaker.replace("_", "-")}</small>`
        : ""}</td>
      <td class="num">${inst.inFlight}</td>
      <td class="num">${rate(inst.rps)}</td>
      <td class=${`num ${inst.errorRatio >= 0.05 ? "hot" : ""}`}>${pct(inst.errorRatio)}</td>
      <td class="num">${ms(inst.ttftP50)} / ${ms(inst.ttftP95)}</td>
      <td class="num">${rate(inst.tokensPerS)}</td>
      <td class="num">${inst.weight}</td>
      ${withLoad && html`<${Load} load=${inst.load} />`}
      <td class="acts">${admin && html`<${Actions} app=${app} svc=${svc} inst=${inst} />`}</td>
    </tr>
    ${open && html`
      <tr class="detail">
        <td colspan=${cols}>
          <${ChartRow} series=${`i:${inst.id}`} />
        </td>
      </tr>
    `}
  `;
}

function Actions({ app, svc, inst }) {
  const a = app.actions;
  return html`<div class="actions">
    ${
    inst.enabled
      ? html`<button class="drain" onClick=${() => a.setEnabled(svc, inst, false)}>Drain</button>`
      : html`<button class="enable" onClick=${() => a.setEnabled(svc, inst, true)}>Enable</button>`
  }
    <button class="weight" onClick=${() => a.askWeight(svc, inst)}>Weight</button>
    ${
    inst.enabled && inst.breaker !== "closed" &&
    html`<button class="reset" onClick=${() => a.resetBreaker(svc, inst)}>Reset breaker</button>`
  }
  </div>`;
}

export function ServiceCard({ app, svc }) {
  const st = SERVICE_STATE[svc.status];
  const withLoad = svc.models.some((m) => m.instances.some((i) => i.load));
  return html`<section class="service" data-service=${svc.kind}>
    <h2><${Icon} kind=${st.kind} label=${st.label} /> ${SERVICE_TITLES[svc.kind] ?? svc.kind}
      <small>${svc.strategy} · ${rate(svc.rps)} req/s · errors ${pct(svc.errorRatio)} · TTFT p95 ${
    ms(svc.ttftP95)
  } · ${rate(svc.tokensPerS)} tok/s</small>
    </h2>
    <${ChartRow} series=${`s:${svc.kind}`} />
    ${
    svc.models.map((m) =>
      html`
        <div class="model" key=${m.name}>
          <h3>${m.name}</h3>
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th></th><th>instance</th><th>state</th><th class="num">in flight</th><th class="num">req/s</th>
                  <th class="num">errors</th><th class="num">TTFT p50/p95</th><th class="num">tok/s</th><th class="num">weight</th>
                  ${withLoad && html`<th class="num">engine</th>`}<th></th>
                </tr>
              </thead>
              <tbody>${m.instances.map((inst) =>
                html`<${InstanceRow} key=${inst.id} app=${app} svc=${svc} inst=${inst} withLoad=${withLoad} />`
              )}</tbody>
            </table>
          </div>
        </div>
      `
    )
  }
  </section>`;
}

export function Recent({ events }) {
  return html`<section class="recent">
    <h2>Recent errors and denials <small>last ${events.length} (at most 100)</small></h2>
    ${
    events.length === 0 ? html`<p class="quiet">None so far.</p>` : html`
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>time</th>
              <th></th>
              <th>status</th>
              <th>code</th>
              <th>service / model</th>
              <th>instance</th>
              <th>client</th>
              <th>request id</th>
            </tr>
          </thead>
          <tbody>${events.map((e) =>
            html`
              <tr key=${e.seq} class=${e.kind}>
                <td>${clock(e.t)}</td>
                <td>
                  <${Icon} kind=${e.kind === "error" ? "down" : "warn"} label=${e.kind} />
                </td>
                <td class="num">${e.status}</td>
                <td>${e.code ?? ""}</td>
                <td>${e.service ?? ""}${e.model ? ` / ${e.model}` : ""}</td>
                <td>${e.instance ?? ""}</td>
                <td>${e.clientIp}</td>
                <td><code>${e.requestId}</code></td>
              </tr>
            `
          )}</tbody>
        </table>
      </div>
    `
  }
  </section>`;
}

export function ConfigView({ config, revision }) {
  return html`
    <section class="config">
      <h2>Running configuration <small>rev ${revision.hash}, secrets redacted</small></h2>
      <pre>${JSON.stringify(config, null, 2)}</pre>
    </section>
  `;
}
