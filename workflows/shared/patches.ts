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
 */
import { patched } from '@temporalio/workflow';

export interface Patches {
  /** Whether this run takes the patch's path: always in a run started since the `since` patch. */
  has(patchId: string): boolean;
  /** Whether the run was started since the `since` patch. */
  readonly all: boolean;
}

/**
 * Asks `since` now: call it first thing in the workflow function, before anything that asks a patch.
 * `before` lists the patches it stands for: a run with it never asks them; any other id is asked as usual.
 */
export function patchesSince(since: string, before: readonly string[]): Patches {
  const all = patched(since);
  const covered = new Set(before);
  return {
    all,
    has: (patchId) => (all && covered.has(patchId)) || patched(patchId),
  };
}
