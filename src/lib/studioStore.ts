/**
 * Where the studio keeps its session (src/core/studio/session.ts): IndexedDB in the page (idb-keyval,
 * one key, written after every action so a reload loses nothing), or memory in tests. The session
 * is plain data, so it is stored as it is (structured clone) and checked when read back.
 */
import { del, get, set } from 'idb-keyval';
import { checkSession, type Session } from '../core/studio/session.ts';

export interface StudioStore {
  /** The saved session, or null when there is none; throws StudioError when it cannot be read. */
  load(): Promise<Session | null>;
  save(s: Session): Promise<void>;
  clear(): Promise<void>;
}

export const STUDIO_KEY = 'decoding-lab:studio';

export function idbStudioStore(key = STUDIO_KEY): StudioStore {
  return {
    async load() {
      const v = await get(key);
      return v === undefined ? null : checkSession(v);
    },
    save: (s) => set(key, s),
    clear: () => del(key),
  };
}

/** A store in memory (DOM tests): `saves` counts the writes, `value` is what a reload would read. */
export function memoryStudioStore(initial: Session | null = null): StudioStore & { saves: number; value: Session | null } {
  const store = {
    saves: 0,
    value: initial ? structuredClone(initial) : null,
    async load() {
      return store.value ? checkSession(structuredClone(store.value)) : null;
    },
    async save(s: Session) {
      store.saves++;
      store.value = structuredClone(s);
    },
    async clear() {
      store.value = null;
    },
  };
  return store;
}
