/**
 * What one reader of a chat's feed is shown of the hub's entries (stream/live-hub.ts), as chunks of the AI
 * SDK's UI message stream (its `useChat` and `readUIMessageStream` read them as they are): the model's text
 * as it comes, tool steps, approvals, the recorded reply, and changes to the reader's tasks. Which entries a
 * reader sees is decided here, by one rule each: their chat's records, and tasks they may call theirs.
 *
 * Pure (no I/O): the routes feed it entries and write out what it returns. docs/api.md lists the chunks.
 */
import { CloudEventSchema } from '../events/cloudevent-schema';
import type { Approval, ChatEntry, Task } from '../common/schemas';
import type { ToolLogEntry } from '../entities/chat/agent/turn';
import { sameEmail } from '../workflows/shared/access-policy';
import { toolCallStreamId } from '../workflows/shared/ids';
import type { FeedEntry } from './live-hub';
import type { LiveRecord } from './live-records';

/** One chunk of the UI message stream: `{ type, ... }` (stream/feed.ts and docs/api.md list ours). */
export type UiChunk = { type: string } & Record<string, unknown>;

/** Who reads the feed, from the verified token (api/access.ts), and whose chat it is. */
export interface Viewer {
  /** The chat's user (the path's `user_id`). */
  user_id: string;
  subject: string;
  admin: boolean;
  /** The e-mail the token vouches for: tasks assigned to it are the reader's. */
  email?: string;
}

/** What `conversation.updated` carries (entities/chat/events.ts). */
interface ConversationUpdated {
  user_id: string;
  user_message: ChatEntry | null;
  assistant_message: ChatEntry;
  tool_calls?: ToolLogEntry[];
  turn_id?: string;
  stream_ref?: string;
  approvals_waiting?: Approval[];
}

interface TaskEventData {
  task_id: string;
  task: Task;
  previous_status: string | null;
  previous_assignee?: string | null;
}

/** A reader sees a task's changes when it is theirs: assigned to their verified e-mail, or created by them; admins see all. */
export function ownsTask(viewer: Viewer, task: Pick<Task, 'assignee' | 'created_by'>): boolean {
  return viewer.admin || sameEmail(task.assignee, viewer.email) || (task.created_by !== undefined && task.created_by === viewer.subject);
}

export class FeedTranslator {
  /**
   * The text part of each model call (turn and step): the attempt it came from, the text this reader got,
   * and where in the attempt's text that begins (`from`: 0 unless the reader resumed midway).
   */
  private readonly texts = new Map<string, { id: string; attempt: number; open: boolean; text: string; from: number }>();
  /** Turns whose message this reader has seen start (and not finish). */
  private readonly open = new Set<string>();

  /** `ref`: only the turn that request started (a streamed `POST /chat`), and none of the rest. */
  constructor(
    private readonly viewer: Viewer,
    private readonly ref?: string,
  ) {}

  translate(entry: FeedEntry): UiChunk[] {
    // Every reader of the process gets every entry: the user field picks without parsing the record.
    if (entry.source === 'live') return entry.fields.user === this.viewer.user_id ? this.live(parsedOnce(entry, 'record', (raw) => parseJson(raw) as LiveRecord | undefined)) : [];
    if (this.ref !== undefined) return [];
    const event = parsedOnce(entry, 'event', parseEvent);
    if (!event.success) return [];
    if (entry.source === 'conversations' && event.data.type === 'conversation.updated') {
      const data = event.data.data as ConversationUpdated;
      return data.user_id === this.viewer.user_id ? this.reply(event.data.id, data) : [];
    }
    if (entry.source === 'tasks') {
      const data = event.data.data as TaskEventData;
      // The reader's tasks, and one a change has just taken from them (so they see it go).
      const tookFromReader = !!data?.previous_assignee && sameEmail(data.previous_assignee, this.viewer.email);
      if (!data?.task || (!ownsTask(this.viewer, data.task) && !tookFromReader)) return [];
      return [{ type: 'data-task', id: data.task_id, data: { event: event.data.type, task: data.task, previous_status: data.previous_status, time: event.data.time } }];
    }
    return [];
  }

  /** Ends the text parts still open: the turn's (or all, without a turn). */
  closeTexts(turnId?: string): UiChunk[] {
    const chunks: UiChunk[] = [];
    for (const [key, text] of this.texts) {
      if (turnId !== undefined && !key.startsWith(`${turnId}:`)) continue;
      if (text.open) chunks.push({ type: 'text-end', id: text.id });
      this.texts.delete(key);
    }
    return chunks;
  }

  /**
   * The text of a recorded reply, after what was streamed of it: the streamed parts end; when they do not add
   * up to the reply (a step's words before its tool calls, a reply the chat wrote itself, a cut), they are
   * discarded and the reply is sent whole, so a client that keeps text parts shows what was recorded.
   */
  settleText(turnId: string | undefined, content: string, wholeId: string): UiChunk[] {
    const parts = [...this.texts.entries()].filter(([key]) => turnId === undefined || key.startsWith(`${turnId}:`)).map(([, text]) => text);
    const chunks = this.closeTexts(turnId);
    const seen = parts.map((p) => p.text).join('');
    // A reader that came in midway (a resume) has the end of the text: it agrees when the reply ends with it.
    if (parts.length > 0 && (parts[0]!.from === 0 ? seen.trim() === content : seen.trim() !== '' && content.endsWith(seen.trimEnd()))) return chunks;
    for (const part of parts) chunks.push({ type: 'data-text-discarded', data: { id: part.id, reason: 'the recorded reply differs' } });
    return [...chunks, ...wholeText(wholeId, content)];
  }

  private live(record: LiveRecord | undefined): UiChunk[] {
    if (record === undefined || typeof record !== 'object' || record.user_id !== this.viewer.user_id) return [];
    if (this.ref !== undefined && record.ref !== this.ref) return [];
    if (record.kind === 'user-message') {
      return [{ type: 'data-user-message', id: record.ref, data: { stream_ref: record.ref, content: record.content, timestamp: record.timestamp } }];
    }
    if (record.kind === 'user-message-refused') return [{ type: 'data-user-message-refused', id: record.ref, data: { stream_ref: record.ref, reason: record.reason } }];
    const chunks = this.startTurn(record.turn_id, record.ref);
    switch (record.kind) {
      case 'text': {
        const key = `${record.turn_id}:${record.step}`;
        const id = `${record.turn_id}:${record.step}:${record.attempt}`;
        const text = this.texts.get(key);
        if (text && text.attempt > record.attempt) return chunks; // a failed attempt still sending: its text is dropped
        if (text && text.attempt < record.attempt) {
          // A retried model call: the failed attempt's partial text goes, the new one starts afresh.
          if (text.open) chunks.push({ type: 'text-end', id: text.id });
          chunks.push({ type: 'data-text-discarded', data: { id: text.id, reason: 'the model call was tried again' } });
        }
        if (!text || text.attempt < record.attempt) {
          this.texts.set(key, { id, attempt: record.attempt, open: true, text: '', from: record.offset ?? 0 });
          chunks.push({ type: 'text-start', id });
        }
        this.texts.get(key)!.text += record.delta;
        chunks.push({ type: 'text-delta', id, delta: record.delta });
        return chunks;
      }
      case 'tool-start':
        return [
          ...chunks,
          {
            type: 'tool-input-available',
            toolCallId: toolCallStreamId(record.turn_id, record.call_id),
            toolName: record.tool,
            input: record.input ?? {},
            title: record.summary,
          },
        ];
      case 'tool-end': {
        const toolCallId = toolCallStreamId(record.turn_id, record.call_id);
        return [
          ...chunks,
          record.ok
            ? { type: 'tool-output-available', toolCallId, output: record.output ?? null }
            : { type: 'tool-output-error', toolCallId, errorText: record.error ?? 'failed' },
        ];
      }
      default:
        return chunks;
    }
  }

  private startTurn(turnId: string, ref: string | undefined): UiChunk[] {
    if (this.ref !== undefined || this.open.has(turnId)) return [];
    this.open.add(turnId);
    return [{ type: 'start', messageId: turnId, ...(ref ? { messageMetadata: { stream_ref: ref } } : {}) }];
  }

  /** A recorded reply: what its tool calls came to, what waits for approval, the entry itself, the end of the message. */
  private reply(eventId: string, data: ConversationUpdated): UiChunk[] {
    const turnId = data.turn_id ?? eventId;
    const chunks: UiChunk[] = [...this.startTurn(turnId, data.stream_ref)];
    if (data.turn_id !== undefined) chunks.push(...toolOutcomes(data.turn_id, data.tool_calls ?? [], data.approvals_waiting ?? []));
    if (data.assistant_message) chunks.push(...this.settleText(turnId, data.assistant_message.content, `${turnId}:${eventId}`));
    chunks.push({
      type: 'data-entry',
      id: eventId,
      data: { turn_id: data.turn_id ?? null, stream_ref: data.stream_ref ?? null, user_message: data.user_message, assistant_message: data.assistant_message },
    });
    if (data.approvals_waiting !== undefined) chunks.push(approvalsChunk(data.approvals_waiting));
    if (this.open.delete(turnId)) chunks.push({ type: 'finish' });
    return chunks;
  }
}

/** A text part sent whole (a reply that was not streamed: a command, the rules, a model without streaming). */
export const wholeText = (id: string, content: string): UiChunk[] => [
  { type: 'text-start', id },
  { type: 'text-delta', id, delta: content },
  { type: 'text-end', id },
];

/** The changes waiting for the user's decision, the whole list: a client that shows it drops what was decided or expired. */
export const approvalsChunk = (approvals: Approval[]): UiChunk => ({ type: 'data-approvals', id: 'approvals', data: { approvals } });

/** Tool parts asking for approval (a tool part first, as the AI SDK expects the request to follow its call). */
export function approvalRequests(approvals: Approval[]): UiChunk[] {
  return approvals.flatMap((approval) => {
    const toolCallId = approval.tool_call_id ?? approval.approval_id;
    return [
      { type: 'tool-input-available', toolCallId, toolName: approval.tool, input: approval.arguments, title: approval.summary },
      { type: 'tool-approval-request', approvalId: approval.approval_id, toolCallId },
    ];
  });
}

/** What each tool call of a reply came to, from the entity's record (it settles what the live records may have missed). */
function toolOutcomes(turnId: string, log: ToolLogEntry[], waiting: Approval[]): UiChunk[] {
  return log.flatMap((call): UiChunk[] => {
    const toolCallId = toolCallStreamId(turnId, call.id);
    const asked: UiChunk = { type: 'tool-input-available', toolCallId, toolName: call.tool, input: call.arguments ?? {} };
    switch (call.outcome) {
      case 'done':
        return [asked, { type: 'tool-output-available', toolCallId, output: { result: call.result } }];
      case 'failed':
        return [asked, { type: 'tool-output-error', toolCallId, errorText: call.result }];
      case 'awaiting_approval': {
        const approval = waiting.find((a) => a.tool_call_id === toolCallId);
        return approval ? approvalRequests([approval]) : [asked];
      }
      case 'denied':
      case 'expired':
        return [asked, { type: 'tool-output-denied', toolCallId }];
    }
  });
}

/** The task a task event is about, for readers that follow tasks by id (MCP resource subscriptions, mcp/sessions.ts). */
export function taskIdOf(entry: FeedEntry): string | undefined {
  if (entry.source !== 'tasks') return undefined;
  const event = parsedOnce(entry, 'event', parseEvent);
  const taskId = event.success ? (event.data.data as Partial<TaskEventData> | undefined)?.task_id : undefined;
  return typeof taskId === 'string' ? taskId : undefined;
}

const parseEvent = (raw: string | undefined) => CloudEventSchema.safeParse(parseJson(raw));

/** Each entry's field parsed once however many readers look at it (the hub hands the same object to all). */
const parsed = new WeakMap<FeedEntry, unknown>();
function parsedOnce<T>(entry: FeedEntry, field: string, parse: (raw: string | undefined) => T): T {
  if (!parsed.has(entry)) parsed.set(entry, parse(entry.fields[field]));
  return parsed.get(entry) as T;
}

function parseJson(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
