/**
 * ChatEntityWorkflow as runs recorded before CHAT_ENTITY_V2_PATCH did it (entities/chat/workflow.ts): the
 * model was asked through a local activity with a fixed timeout, and a run waited for every queued message
 * before continuing as new. Kept, unchanged, so those runs replay and finish on this worker; each one
 * continues as new into the current code. Retire it once none is open (docs: versioning).
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { Mutex } from 'async-mutex';
import type { Activities } from '../../activities';
import { ChatMessageRequestRules } from '../../workflows/shared/workflow-inputs';
import { checkInput, describeFieldErrors } from '../../workflows/shared/input-rules';
import type { ChatEntry } from '../../common/schemas';
import { EventOutbox } from '../outbox';
import { conversationUpdated } from './events';
import { clearHistorySignal, clearHistoryUpdate, getHistoryQuery, processMessageUpdate, type ChatEntityInput } from './messages';
import { capHistory, ruleReply } from './replies';

// A local activity: no round trip through the server when no model is configured (it answers null at once).
const { generateReply } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3, initialInterval: '500 milliseconds', backoffCoefficient: 2 },
});

/** How long the entity answers by the rules, without asking, after the worker said it has no model. */
export const RULES_RECHECK_MS = 5 * 60_000;

export async function chatAsRecordedBefore(input: ChatEntityInput): Promise<void> {
  const userId = input.user_id;
  let history: ChatEntry[] = [...(input.history ?? [])];
  let messageCount = input.message_count ?? 0;
  const outbox = new EventOutbox(input.outbox);
  const turn = new Mutex();

  const shouldContinueAsNew = () => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || (input.history_limit !== undefined && info.historyLength >= input.history_limit);
  };
  const showState = () => setCurrentDetails(`${messageCount} message(s), ${history.length} entries kept`);

  // Until when (workflow time) the worker said it has no model: a worker without one answers null at
  // once, and asking for every message costs a local-activity round per message (bench/README.md). It is
  // asked again after RULES_RECHECK_MS, so a model configured later is picked up.
  let rulesOnlyUntil = 0;

  async function reply(userEntry: ChatEntry, messageNumber: number): Promise<string> {
    const knownRulesOnly = patched('remember-rules-only') && Date.now() < rulesOnlyUntil;
    if (!knownRulesOnly) {
      try {
        const answer = await generateReply({ user_id: userId, history: [...history, userEntry] });
        if (answer !== null) return answer;
        rulesOnlyUntil = Date.now() + RULES_RECHECK_MS;
      } catch (err) {
        log.warn('Model reply failed; answering with the rules', { user_id: userId, error: String(err) });
      }
    }
    return ruleReply(userEntry.content, messageNumber);
  }

  setHandler(
    processMessageUpdate,
    (message) =>
      turn.runExclusive(async () => {
        const messageNumber = messageCount + 1;
        const userEntry: ChatEntry = { role: 'user', content: message.content, timestamp: new Date().toISOString() };
        const content = await reply(userEntry, messageNumber);
        const assistantEntry: ChatEntry = { role: 'assistant', content, timestamp: new Date().toISOString() };
        history = capHistory([...history, userEntry, assistantEntry]);
        messageCount = messageNumber;
        outbox.add(conversationUpdated(userId, userEntry, assistantEntry, uuid4()));
        showState();
        return assistantEntry;
      }),
    {
      validator: (message) => {
        const parsed = checkInput(ChatMessageRequestRules, message);
        if (!parsed.success) throw ApplicationFailure.nonRetryable(`Invalid input: ${describeFieldErrors(parsed.errors)}`, 'InvalidInput');
      },
    },
  );
  const clear = () =>
    turn.runExclusive(async () => {
      history = [];
      messageCount = 0;
      showState();
    });
  setHandler(clearHistoryUpdate, clear);
  setHandler(clearHistorySignal, () => void clear());
  setHandler(getHistoryQuery, () => history);

  showState();
  await Promise.all([outbox.run(shouldContinueAsNew), condition(shouldContinueAsNew)]);
  await condition(allHandlersFinished);
  await continueAsNew<typeof chatAsRecordedBefore>({
    user_id: userId,
    history,
    message_count: messageCount,
    outbox: outbox.snapshot(),
    history_limit: input.history_limit,
  });
}
