/**
 * A workflow's patches, asked through one that stands for all of them in runs started since it.
 *
 * Each patch a run asks while executing costs its history a marker and, by the SDK's own doing, an upsert of
 * `TemporalChangeVersion`: two events, and a visibility write on the server. A task entity used to ask two in
 * every run (every new task, every continue-as-new) and up to four more as its changes reached them, a
 * processing run four. A run that has the `since` patch takes the new path of every patch listed with it,
 * without asking them: one marker and one upsert. A run without it (recorded before, replaying) asks each as
 * it always did, at the same points, so its commands are unchanged (docs/versioning.md, "The patches in this
 * code base").
 *
 * Such patches chain: a later one lists the one before it (and what that stood for) and passes `earlier`, which
 * asks the one before in runs recorded before the later one; so a new run still asks one.
 */
import { patched } from '@temporalio/workflow';

export interface Patches {
  /** Whether this run takes the patch's path: always, for the `since` patch and those it stands for, in a run started since it. */
  has(patchId: string): boolean;
}

/**
 * Asks `since` now: call it first thing in the workflow function, before anything that asks a patch.
 * `before` lists the patches it stands for: a run with it never asks them; any other id is asked as usual.
 * `earlier`: how runs without it ask theirs (the patch that stood for them until `since`).
 */
export function patchesSince(since: string, before: readonly string[], earlier?: () => Patches): Patches {
  if (patched(since)) {
    const covered = new Set([since, ...before]);
    return { has: (patchId) => covered.has(patchId) || patched(patchId) };
  }
  return earlier ? earlier() : { has: (patchId) => patchId !== since && patched(patchId) };
}
