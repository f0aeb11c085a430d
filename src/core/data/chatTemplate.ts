/**
 * Scoring through a chat template (`rank --chat-template`, the ranking view's checkbox): a pair's
 * prompt and responses are rendered by the tokenizer's template before tokenizing, the same way in
 * the CLI and the worker. Conversational pairs (TRL messages, HH turns) keep their messages; a plain
 * pair becomes one user turn (the prompt) and one assistant turn (the response).
 *
 * prompt text   = template(prompt messages, add_generation_prompt = true)
 * response text = template(prompt messages + assistant reply) with the prompt text removed from its start
 *
 * The result is scored as usual (prompt and response tokenized separately, DESIGN §4). A template
 * that renders the prompt differently once the reply follows cannot be split this way; that pair is
 * refused with a message (counted as skipped).
 */
import type { Message, PreferencePair } from './preferences.ts';

/** What the scorer needs from a tokenizer with a chat template (the adapter's transformers.js tokenizer). */
export interface ChatTemplater {
  /** Renders messages to text (no tokenization). */
  apply(messages: readonly Message[], addGenerationPrompt: boolean): string;
}

export class ChatTemplateError extends Error {
  override name = 'ChatTemplateError';
}

interface RawTokenizer {
  chat_template?: unknown;
  apply_chat_template?: (messages: { role: string; content: string }[], opts: Record<string, unknown>) => unknown;
}

/**
 * The chat template of a tokenizer, found by duck typing (the adapter's tokenizer keeps the
 * transformers.js one as `raw`): null when it has none. `templateOf` also says why, for display.
 */
export function chatTemplaterOf(tokenizer: unknown): ChatTemplater | null {
  const raw = ((tokenizer as { raw?: unknown })?.raw ?? tokenizer) as RawTokenizer | null;
  if (!raw || typeof raw.apply_chat_template !== 'function') return null;
  const t = raw.chat_template;
  if (!(typeof t === 'string' && t.trim() !== '') && !(typeof t === 'object' && t !== null && Object.keys(t).length)) return null;
  return {
    apply(messages, addGenerationPrompt) {
      const out = (raw.apply_chat_template as NonNullable<RawTokenizer['apply_chat_template']>)(
        messages.map((m) => ({ role: m.role, content: m.content })),
        { tokenize: false, add_generation_prompt: addGenerationPrompt },
      );
      if (typeof out !== 'string') throw new ChatTemplateError('the chat template did not render to text');
      return out;
    },
  };
}

/** Renders one pair through the template; throws ChatTemplateError when it cannot be split into prompt and responses. */
export function applyChatTemplate(pair: PreferencePair, t: ChatTemplater): PreferencePair {
  const m = pair.messages ?? { prompt: [{ role: 'user', content: pair.prompt }], chosen: pair.chosen, rejected: pair.rejected };
  const prompt = t.apply(m.prompt, true);
  const reply = (content: string, which: string) => {
    const full = t.apply([...m.prompt, { role: 'assistant', content }], false);
    if (!full.startsWith(prompt)) {
      throw new ChatTemplateError(
        `the chat template renders the prompt of pair ${pair.id} differently once the ${which} reply follows, so the reply's tokens cannot be told apart`,
      );
    }
    return full.slice(prompt.length);
  };
  return { ...pair, prompt, chosen: reply(m.chosen, 'chosen'), rejected: reply(m.rejected, 'rejected') };
}
