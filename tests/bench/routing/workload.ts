/**
 * The routing simulation's workload: multi-turn chat sessions, as a chat product sends them.
 *
 * - Sessions arrive as a Poisson process (`sessionsPerS`) during `durationS`.
 * - Each session uses one of `systemPrompts` system prompts (`systemChars` characters each: a
 *   product's few assistants share theirs between all their users) and lasts `turns` turns.
 * - Each turn sends the whole conversation so far — system prompt, every earlier question and
 *   answer — plus a new question of `userChars` characters, and asks for `replyTokens` tokens
 *   (`max_tokens`); the answer (4 characters per token) joins the history. So a session's prompt
 *   grows turn after turn, and every turn's prompt starts with the previous turn's whole prompt.
 * - The user reads the answer and types the next question: `thinkMeanS` on average
 *   (exponentially distributed), after the answer has ended.
 *
 * Every draw comes from seeded generators (one per session), so a seed gives the same sessions,
 * whatever the strategy does with them.
 *
 * @module
 */

import { seededRandom } from "../../fakes/random.ts";

/** The workload's parameters. */
export interface WorkloadOptions {
  readonly seed: number;
  readonly durationS: number;
  readonly sessionsPerS: number;
  readonly systemPrompts: number;
  readonly systemChars: number;
  readonly turns: readonly [number, number];
  readonly userChars: readonly [number, number];
  readonly replyTokens: readonly [number, number];
  readonly thinkMeanS: number;
}

/** A chat message. */
export interface Message {
  readonly role: string;
  readonly content: string;
}

/** One session: when it starts, and how each of its turns goes. */
export interface Session {
  readonly id: string;
  readonly startMs: number;
  readonly system: Message;
  readonly questions: readonly string[];
  readonly replyTokens: readonly number[];
  readonly answers: readonly string[];
  /** Think time before each turn after the first, ms. */
  readonly thinkMs: readonly number[];
}

const WORDS = (
  "the a model request token cache prefix engine queue batch answer question please explain why how " +
  "what when where gateway latency route balance instance weight kernel memory tensor layer attention"
).split(" ");

function text(random: () => number, chars: number): string {
  let s = "";
  while (s.length < chars) s += `${WORDS[Math.floor(random() * WORDS.length)]} `;
  return s.slice(0, chars);
}

const between = (random: () => number, [lo, hi]: readonly [number, number]) =>
  lo + Math.floor(random() * (hi - lo + 1));

/** The sessions of a run, in arrival order. */
export function sessions(o: WorkloadOptions): Session[] {
  const arrivals = seededRandom(o.seed);
  const systems = Array.from({ length: o.systemPrompts }, (_, i) => ({
    role: "system",
    content: `Assistant ${i}. ${text(seededRandom(o.seed * 31 + i), o.systemChars)}`,
  }));
  const out: Session[] = [];
  for (let t = 0, i = 0;; i++) {
    t += (-Math.log(1 - arrivals()) / o.sessionsPerS) * 1000;
    if (t >= o.durationS * 1000) return out;
    const r = seededRandom((o.seed * 7919) ^ (i * 104729 + 17));
    const turns = between(r, o.turns);
    const replyTokens = Array.from({ length: turns }, () => between(r, o.replyTokens));
    out.push({
      id: `s${i}`,
      startMs: t,
      system: systems[Math.floor(r() * systems.length)],
      questions: Array.from(
        { length: turns },
        (_, k) => `Q${k} of s${i}: ${text(r, between(r, o.userChars))}`,
      ),
      replyTokens,
      answers: replyTokens.map((n) => text(r, n * 4)),
      thinkMs: Array.from({ length: turns }, () => -Math.log(1 - r()) * o.thinkMeanS * 1000),
    });
  }
}

/** The messages of turn `k` (0-based) of a session: the history, then the new question. */
export function messagesOf(s: Session, k: number): Message[] {
  const messages: Message[] = [s.system];
  for (let j = 0; j < k; j++) {
    messages.push({ role: "user", content: s.questions[j] }, { role: "assistant", content: s.answers[j] });
  }
  messages.push({ role: "user", content: s.questions[k] });
  return messages;
}
