// Operator actions. Each goes through the admin API (its validation, YAML write-back and audit
// log), is confirmed in a dialog first, and its result is shown on screen.

import { admin } from "./api.js";
import { html } from "./views.js";

const instancePath = (svc, inst) => `/services/${svc.kind}/instances/${encodeURIComponent(inst.id)}`;

/** The actions bound to the app (which owns the dialog and the toast). */
export function createActions(app) {
  const run = async (what, method, path, body) => {
    app.setState({ confirm: null, busy: true });
    const res = await admin(app.state.adminPath, method, path, body);
    app.setState({
      busy: false,
      toast: res.ok
        ? { kind: "ok", text: `${what}: done.` }
        : { kind: "error", text: `${what} failed (${res.status}): ${res.message}` },
    });
    return res;
  };
  const confirm = (title, detail, action, input) =>
    app.setState({ confirm: { title, detail, action, input } });

  return {
    setEnabled(svc, inst, enabled) {
      const what = `${enabled ? "Enable" : "Drain"} ${inst.url} (${inst.model})`;
      confirm(
        `${what}?`,
        enabled
          ? "It will receive traffic again. enabled: true is written to the config file."
          : "New requests stop going there; requests in flight finish. enabled: false is written to the config file.",
        () => run(what, "PATCH", instancePath(svc, inst), { enabled }),
      );
    },
    askWeight(svc, inst) {
      const what = `Set the weight of ${inst.url} (${inst.model})`;
      confirm(`${what}`, `Now ${inst.weight}. The new weight is written to the config file.`, (value) => {
        const weight = Number(value);
        if (value === "" || !Number.isFinite(weight) || weight < 0) {
          app.setState({
            toast: { kind: "error", text: `The weight must be a number >= 0, received "${value}".` },
          });
          return;
        }
        return run(`${what} to ${weight}`, "PATCH", instancePath(svc, inst), { weight });
      }, String(inst.weight));
    },
    resetBreaker(svc, inst) {
      const what = `Reset the breaker of ${inst.url}`;
      confirm(
        `${what}?`,
        `It is ${inst.breaker.replace("_", "-")}; it closes now and traffic resumes.`,
        () => run(what, "POST", `${instancePath(svc, inst)}/breaker/reset`),
      );
    },
    reload() {
      confirm(
        "Reload the configuration file?",
        "The file is read and validated; if it is invalid, the running configuration stays.",
        () => run("Reload the configuration", "POST", "/reload"),
      );
    },
  };
}

/** The confirmation dialog (with an input for values such as a weight). */
export function ConfirmDialog({ app }) {
  const c = app.state.confirm;
  if (!c) return null;
  const submit = (e) => {
    e.preventDefault();
    const input = e.currentTarget.querySelector("input");
    c.action(input ? input.value.trim() : undefined);
  };
  return html`
    <div class="dialog-back">
      <form class="dialog" role="dialog" aria-modal="true" aria-labelledby="dlg-title" onSubmit=${submit}>
          <h2 id="dlg-title">${c.title}</h2>
          <p>${c.detail}</p>
          ${c.input !== undefined &&
            html`<label>New weight <input name="value" inputmode="decimal" value=${c.input} autofocus /></label>`}
          <div class="buttons">
            <button type="button" onClick=${() => app.setState({ confirm: null })}>Cancel</button>
            <button type="submit" class="primary" disabled=${app.state.busy}>Confirm</button>
          </div>
        </form>
    </div>
  `;
}
