/**
 * Ids become workflow ids. Property: no accepted input can name another entity's workflow or a workflow of
 * another kind — the prefixes differ, ids cannot contain the characters that would let one id spell
 * another's prefix or path, and equal workflow ids come only from equal inputs of the same kind.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chatEntityWorkflowId, processingWorkflowId, taskEntityWorkflowId, taskIdOfProcessingWorkflow } from '../../workflows/shared/ids';
import { EntityIdSchema } from '../../common/schemas';

const kinds = [processingWorkflowId, taskEntityWorkflowId, chatEntityWorkflowId];

// Strings near the edges: prefixes, separators, traversal, unicode, and the id alphabet itself.
const candidate = fc.oneof(
  fc.string({ maxLength: 70 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.stringMatching(/^[A-Za-z0-9._-]{1,70}$/),
  fc
    .tuple(fc.constantFrom('task-workflow-', 'task-entity-', 'chat-entity-', '../', '/', '', '.'), fc.stringMatching(/^[A-Za-z0-9._/-]{0,20}$/))
    .map(([a, b]) => a + b),
);

describe('workflow ids from user input', () => {
  it('accepted ids use only the documented alphabet', () => {
    fc.assert(
      fc.property(candidate, (s) => {
        if (EntityIdSchema.safeParse(s).success) {
          expect(s).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('never maps two different (kind, id) pairs to one workflow id', () => {
    fc.assert(
      fc.property(candidate, candidate, fc.nat(2), fc.nat(2), (a, b, kindA, kindB) => {
        fc.pre(EntityIdSchema.safeParse(a).success && EntityIdSchema.safeParse(b).success);
        const same = kinds[kindA]!(a) === kinds[kindB]!(b);
        expect(same).toBe(kindA === kindB && a === b);
      }),
      { numRuns: 5_000 },
    );
  });

  it('reads back the task id of a processing workflow id exactly', () => {
    fc.assert(
      fc.property(candidate, (s) => {
        fc.pre(EntityIdSchema.safeParse(s).success);
        expect(taskIdOfProcessingWorkflow(processingWorkflowId(s))).toBe(s);
        expect(taskIdOfProcessingWorkflow(taskEntityWorkflowId(s))).toBeUndefined();
        expect(taskIdOfProcessingWorkflow(chatEntityWorkflowId(s))).toBeUndefined();
      }),
      { numRuns: 2_000 },
    );
  });
});
