import type { DecodeEvent, SequenceResult } from '../../src/core/search/events.ts';

/** Runs a decode to its end and returns the sequences of its `done` event (throws when there is none). */
export async function done(gen: AsyncGenerator<DecodeEvent>): Promise<readonly SequenceResult[]> {
  let last: DecodeEvent | undefined;
  for await (const e of gen) last = e;
  if (last?.type !== 'done') throw new Error('no done event');
  return last.sequences;
}
