/**
 * YAML anchors and aliases under an admin edit: the node an edit changes is first made the edited
 * instance's own (`own`), and what an edit removes first hands its anchors over to the aliases
 * that stay (`evacuate`), so that changing or removing one instance changes nothing else — the
 * other uses of a shared `&anchor` keep their value, and no alias is left without its anchor.
 *
 * @module
 */

import {
  type Alias,
  type Document,
  isAlias,
  isCollection,
  isDocument,
  isNode,
  isPair,
  type Node,
  type Pair,
  visit,
} from "yaml";

/** Replaces the node a parent holds. */
export type Put = (node: Node) => void;

/** A way to replace `child` where `parent` (a pair, a collection or the document) holds it. */
export function putInto(parent: unknown, child: unknown): Put {
  if (isPair(parent)) return parent.key === child ? (n) => (parent.key = n) : (n) => (parent.value = n);
  if (isCollection(parent)) {
    const index = parent.items.indexOf(child as never);
    return (n) => (parent.items[index] = n as never);
  }
  if (isDocument(parent)) return (n) => (parent.contents = n as never);
  throw new TypeError(`Cannot replace a node held by ${String(parent)}`);
}

/**
 * The first alias of `doc`, in document order, that stands for `target` (as the loader resolves
 * aliases: the last node anchored with its name before it), skipping those inside `skip`.
 */
function firstAliasOf(
  doc: Document,
  target: Node,
  skip?: Node | Pair,
): { alias: Alias; put: Put } | undefined {
  const anchors = new Map<string, Node>();
  let found: { alias: Alias; put: Put } | undefined;
  visit(doc, {
    Node(_key, node, path) {
      if (!isAlias(node)) {
        if (node.anchor) anchors.set(node.anchor, node);
      } else if (anchors.get(node.source) === target && (skip === undefined || !path.includes(skip))) {
        found = { alias: node, put: putInto(path[path.length - 1], node) };
        return visit.BREAK;
      }
    },
  });
  return found;
}

/** The node `alias` stands for in `doc`, or `undefined` (the loader reports a dangling alias). */
export function aliasTarget(doc: Document, alias: Alias): Node | undefined {
  const anchors = new Map<string, Node>();
  let found: Node | undefined;
  visit(doc, {
    Node(_key, node) {
      if (node === alias) {
        found = anchors.get(alias.source);
        return visit.BREAK;
      }
      if (!isAlias(node) && node.anchor) anchors.set(node.anchor, node);
    },
  });
  return found;
}

/**
 * A deep copy of `node`; with `anchors: false`, without any anchor (so that no alias can come to
 * stand for the copy or a node inside it). Flow collections print with the document's spacing:
 * `keepFlowSpacing` binds a node's printing to the node itself, which a copy must not inherit (it
 * would print the original).
 */
export function copyOf<T extends Node>(node: T, anchors: boolean): T {
  const copy = node.clone() as T;
  visit(copy, {
    Node(_key, n) {
      if (Object.hasOwn(n, "toString")) delete (n as { toString?: unknown }).toString;
      if (!anchors && !isAlias(n)) n.anchor = undefined;
    },
  });
  return copy;
}

/** A copy of `node` to put where `alias` was, with the alias's comments. */
function copyFor(node: Node, alias: Alias, anchors: boolean): Node {
  const copy = copyOf(node, anchors);
  copy.commentBefore = alias.commentBefore;
  copy.comment = alias.comment;
  copy.spaceBefore = alias.spaceBefore;
  return copy;
}

/**
 * `node` (held where `put` writes) made the edited instance's own, so that editing it in place
 * changes nothing else; returns the node to edit.
 *
 * - An alias is replaced, here only, by a copy of the node it stands for (without anchors): the
 *   other uses of that anchor keep their value.
 * - An anchored node that aliases use elsewhere stays here and loses its anchor; a copy of it
 *   carrying the anchor replaces the first of those aliases, and the later ones now stand for it.
 *   Every use keeps its value, in the order YAML requires (an anchor before its aliases).
 */
export function own(doc: Document, node: unknown, put: Put): unknown {
  if (isAlias(node)) {
    const target = aliasTarget(doc, node);
    if (target === undefined) return node;
    const copy = copyFor(target, node, false);
    put(copy);
    return copy;
  }
  if (isNode(node) && node.anchor) {
    const first = firstAliasOf(doc, node);
    if (first) {
      first.put(copyFor(node, first.alias, true));
      node.anchor = undefined;
    }
  }
  return node;
}

/**
 * Before `removed` (a node or a pair) leaves the document: each anchor inside it that aliases
 * outside it use is handed over — a copy of its node, anchor included, replaces the first of those
 * aliases — so that what stays keeps its value and no alias is left without its anchor. Innermost
 * and last anchors first: a copy may hold aliases to anchors before it, handed over after it.
 */
export function evacuate(doc: Document, removed: Node | Pair): void {
  const anchored: Node[] = [];
  for (const root of isPair(removed) ? [removed.key, removed.value] : [removed]) {
    if (!isNode(root)) continue;
    visit(root, {
      Node(_key, n) {
        if (!isAlias(n) && n.anchor) anchored.push(n);
      },
    });
  }
  for (const node of anchored.reverse()) {
    const first = firstAliasOf(doc, node, removed);
    if (first) first.put(copyFor(node, first.alias, true));
  }
}
