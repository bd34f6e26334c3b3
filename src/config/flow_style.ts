/**
 * Flow collections keep their spacing on write-back. The yaml library prints every flow
 * collection with one spacing for the whole document (`[ "a" ]` by default), so an admin change
 * anywhere would rewrite `["a"]` and `{a: 1}` everywhere else. Each flow collection of the
 * original text is given the spacing it was written with; new ones follow the document's majority.
 *
 * @module
 */

import { type Document, isCollection, visit } from "yaml";

/** `[ x ]` (padded) or `[x]`, as written at `offset` (the opening bracket), if it can be told. */
function paddingAt(text: string, offset: number): boolean | undefined {
  const next = text[offset + 1];
  if (next === undefined || next === "]" || next === "}" || next === "\n" || next === "\r") return undefined;
  return next === " " || next === "\t";
}

/**
 * Makes `doc` print each of its flow collections with the spacing `text` (its source) used.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDocument } from "yaml";
 * import { keepFlowSpacing } from "./flow_style.ts";
 * const text = 'models: ["a"]\nheaders: { X-A: "1" }\n';
 * const doc = parseDocument(text);
 * keepFlowSpacing(doc, text);
 * doc.setIn(["extra"], 1);
 * assert.equal(doc.toString(), 'models: ["a"]\nheaders: { X-A: "1" }\nextra: 1\n');
 * ```
 */
export function keepFlowSpacing(doc: Document, text: string): void {
  let padded = 0;
  let tight = 0;
  visit(doc, {
    Node(_key, node) {
      if (!isCollection(node) || !node.flow || !node.range) return;
      const pad = paddingAt(text, node.range[0]);
      if (pad === undefined) return;
      pad ? padded++ : tight++;
      const spacing = pad ? " " : "";
      const print = node.toString.bind(node);
      Object.defineProperty(node, "toString", {
        value: (ctx?: object, onComment?: () => void, onChompKeep?: () => void) =>
          print(ctx && { ...ctx, flowCollectionPadding: spacing } as never, onComment, onChompKeep),
        configurable: true,
        writable: true,
      });
    },
  });
  if (tight > padded) {
    // New flow collections (and any not written in the text) follow the majority.
    doc.schema.toStringOptions = { ...doc.schema.toStringOptions, flowCollectionPadding: false };
  }
}
