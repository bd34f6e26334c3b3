/**
 * Turns zod issues into the loader's wording: `must be >= 0, received -1`, `is required`,
 * `must be one of random, round-robin, …, received "fastest"`. The received value is read from
 * the input as the file wrote it (before Spring-style coercion), so messages quote the file.
 *
 * @module
 */

import type { z } from "zod";
import type { PathSegment } from "./keys.ts";
import type { Problem } from "./problem.ts";
import { describeValue } from "./units.ts";

/** What validation found: problems (errors) and unknown keys (warnings). */
export interface IssueReport {
  /** Findings that make the file unusable. */
  readonly problems: Problem[];
  /** Full paths of keys the schema does not know. */
  readonly unknownKeys: PathSegment[][];
}

/** Reads the value at `path` inside `root`, or `undefined` when the path does not exist. */
export function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let node = root;
  for (const segment of path) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, segment)) return undefined;
    node = (node as Record<PathSegment, unknown>)[segment];
  }
  return node;
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  number: "a number",
  int: "an integer",
  string: "a string",
  boolean: "true or false",
  object: "a mapping",
  array: "a list",
  record: "a mapping",
};

/**
 * Sorts zod issues into problems and unknown keys.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { fromZodIssues } from "./issues.ts";
 * const input = { weight: -1, extra: 1 };
 * const r = z.strictObject({ weight: z.number().min(0) }).safeParse(input);
 * const report = fromZodIssues(r.error?.issues ?? [], input);
 * assert(report.problems[0].message === "must be >= 0, received -1");
 * assert(report.unknownKeys[0].join(".") === "extra");
 * ```
 */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], input: unknown): IssueReport {
  const problems: Problem[] = [];
  const unknownKeys: PathSegment[][] = [];
  for (const issue of issues) {
    const path = issue.path.map((s) => (typeof s === "symbol" ? String(s) : s));
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) unknownKeys.push([...path, key]);
      continue;
    }
    problems.push({ path, message: describeIssue(issue, valueAt(input, path), hasPath(input, path)) });
  }
  return { problems, unknownKeys };
}

function hasPath(root: unknown, path: readonly PathSegment[]): boolean {
  if (path.length === 0) return root !== undefined;
  const parent = valueAt(root, path.slice(0, -1));
  return parent !== null && typeof parent === "object" && Object.hasOwn(parent, path[path.length - 1]) &&
    valueAt(root, path) !== undefined;
}

function describeIssue(issue: z.core.$ZodIssue, received: unknown, present: boolean): string {
  const got = `, received ${describeValue(received)}`;
  switch (issue.code) {
    case "invalid_type": {
      if (!present) return "is required";
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}${got}`;
    }
    case "too_small": {
      if (issue.origin === "string") return `must not be empty${got}`;
      if (issue.origin === "array") return `must have at least ${issue.minimum} items`;
      return `must be ${issue.inclusive ? ">=" : ">"} ${issue.minimum}${got}`;
    }
    case "too_big": {
      if (issue.origin === "array") return `must have at most ${issue.maximum} items`;
      return `must be ${issue.inclusive ? "<=" : "<"} ${issue.maximum}${got}`;
    }
    case "invalid_value":
      return `must be one of ${issue.values.map(String).join(", ")}${got}`;
    case "custom":
      return issue.message;
    default:
      return `is not valid (${issue.message})${got}`;
  }
}
