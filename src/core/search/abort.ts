/** The part of AbortSignal the engine reads (the core has no DOM lib; a real AbortSignal fits). */
export interface AbortSignalLike {
  readonly aborted: boolean;
}
