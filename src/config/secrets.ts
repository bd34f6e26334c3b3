/**
 * The secrets a configuration holds — instance API keys, credentials in base URLs and load-signal
 * URLs, and credential-looking headers — so the
 * logger can mask them wherever they appear (an upstream's error text that echoes a key, say).
 *
 * @module
 */

import { SERVICE_KINDS } from "../types.ts";
import { baseUrlSecrets } from "./base_url.ts";
import type { Config } from "./types.ts";

/**
 * Header names whose values are credentials, masked in logs wherever they appear. Broader than a
 * list of known names, narrower than every header (`redact.ts` hides every value but a few public
 * ones from views): masking `X-Team: blue` would blank every "blue" in the log.
 */
const CREDENTIAL_HEADER = /auth|key|token|secret|signature|credential|pass|cookie|session/i;

/**
 * The secret values of `config`, for the logger's `secrets`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./load.ts";
 * import { configSecrets } from "./secrets.ts";
 * const yaml = 'model:\n  services:\n    chat:\n      instances:\n' +
 *   '        - { name: m, base-url: "http://127.0.0.1:9", api-key: sk-one-1234567890, headers: { X-Api-Key: k2-abcdef, X-Team: blue, X-Vault-Credential: v3-abcdef } }\n';
 * const { config } = parseConfig(yaml, { source: "x.yaml", env: {} });
 * assert.deepEqual(configSecrets(config), ["sk-one-1234567890", "k2-abcdef", "v3-abcdef"]);
 * ```
 */
export function configSecrets(config: Config): string[] {
  const secrets: string[] = [];
  for (const kind of SERVICE_KINDS) {
    for (const inst of config.services[kind].instances) {
      if (inst.apiKey) secrets.push(inst.apiKey);
      secrets.push(...baseUrlSecrets(inst.baseUrl));
      if (inst.loadSignals?.url) secrets.push(...baseUrlSecrets(inst.loadSignals.url));
      for (const [name, value] of Object.entries(inst.headers)) {
        if (CREDENTIAL_HEADER.test(name)) secrets.push(value);
      }
    }
  }
  return secrets;
}
