// DAiRouter operator console: preact + htm (no build step), uPlot for the charts.

import { Component, render } from "../vendor/preact.mjs";
import { ConfirmDialog, createActions } from "./actions.js";
import { openFeed, publicRead, token } from "./api.js";
import { addTick, loadHistory } from "./charts.js";
import { ConfigView, Header, html, Recent, ServiceCard } from "./views.js";

const MAX_RECENT = 100;

class App extends Component {
  state = {
    phase: "connecting", // connecting | login | live
    message: "",
    conn: "live",
    access: "read",
    adminPath: "",
    version: "",
    config: null,
    tick: null,
    recent: [],
    expanded: new Set(),
    confirm: null,
    toast: null,
    busy: false,
    showConfig: false,
  };

  actions = createActions(this);

  asset(name) {
    return new URL(`./${name}`, import.meta.url).href;
  }

  componentDidMount() {
    this.connect();
  }

  async connect() {
    this.close?.();
    this.close = undefined;
    if (this.state.phase !== "live") this.setState({ phase: "connecting" });
    // Without a token, ask first whether one is needed rather than collect a 401.
    if (!token.get() && !(await publicRead().catch(() => false))) {
      return this.setState({ phase: "login", message: "" });
    }
    this.close = openFeed({
      hello: (m) => {
        loadHistory(m.history, m.tick.sec);
        addTick(m.tick);
        this.setState({
          phase: "live",
          access: m.access,
          adminPath: m.adminPath ?? "",
          version: m.version,
          config: m.config,
          tick: m.tick,
          recent: m.recent.slice().reverse().slice(0, MAX_RECENT),
        });
      },
      tick: (t) => {
        addTick(t);
        const recent = t.recent.length
          ? [...t.recent.slice().reverse(), ...this.state.recent].slice(0, MAX_RECENT)
          : this.state.recent;
        // A reload: ask for the new configuration (a fresh hello) once.
        if (this.state.tick && t.revision.hash !== this.state.tick.revision.hash) this.connect();
        this.setState({ tick: t, recent });
      },
      denied: (message) => {
        const hadToken = token.get() !== "";
        token.clear();
        this.setState({ phase: "login", message: hadToken ? message : "" });
      },
      state: (conn) => this.setState({ conn }),
    });
  }

  signIn(value) {
    token.set(value);
    this.connect();
  }

  signOut() {
    token.clear();
    this.connect();
  }

  toggle(id) {
    const expanded = new Set(this.state.expanded);
    expanded.has(id) ? expanded.delete(id) : expanded.add(id);
    this.setState({ expanded });
  }

  componentDidUpdate() {
    if (this.state.toast && !this.toastTimer) {
      this.toastTimer = setTimeout(() => {
        this.toastTimer = undefined;
        this.setState({ toast: null });
      }, 8000);
    }
  }

  render(_props, s) {
    if (s.phase === "login") return html`<${Login} app=${this} />`;
    if (s.phase === "connecting" || !s.tick) return html`<p class="boot">Connecting to the gateway…</p>`;
    const services = s.tick.services;
    return html`
      <${Header} app=${this} />
      ${s.toast && html`<div class=${`toast ${s.toast.kind}`} role="status">${s.toast.text}</div>`}
      ${services.length === 0 && html`<p class="quiet">No service has instances configured.</p>`}
      ${services.map((svc) => html`<${ServiceCard} key=${svc.kind} app=${this} svc=${svc} />`)}
      <${Recent} events=${s.recent} />
      ${s.showConfig && s.config && html`<${ConfigView} config=${s.config} revision=${s.tick.revision} />`}
      <${ConfirmDialog} app=${this} />
    `;
  }
}

function Login({ app }) {
  const submit = (e) => {
    e.preventDefault();
    const value = e.currentTarget.querySelector("input").value.trim();
    if (value) app.signIn(value);
  };
  return html`<form class="login" onSubmit=${submit}>
    <h1><img src=${app.asset("icon.svg")} alt="" width="28" height="28" /> DAiRouter console</h1>
    ${
    app.state.message
      ? html`<p class="error" role="alert">${app.state.message} Type the admin token again.</p>`
      : html`<p>This console needs the admin token (<code>admin.token</code> in the configuration).</p>`
  }
    <label>Admin token <input type="password" name="token" autocomplete="current-password" autofocus required /></label>
    <button type="submit" class="primary">Open the console</button>
    <p class="quiet">The token is kept in this tab's session storage only, and sent in a header, never in a URL.</p>
  </form>`;
}

render(html`<${App} />`, document.getElementById("app"));
