/**
 * The chat: the conversation with replies that appear as the model writes them, each tool step of a turn
 * with how it ended, the changes waiting for approval (with exactly what would change and when the question
 * expires), undo and the profile. Everything shown comes from the chat's event stream, so every tab shows
 * the same; the answers of the page's own requests fill in if the stream missed something.
 */
import { call, webUiLink, type Session } from './api';
import { byId, el, timeText, untilText } from './dom';
import type { Chunk } from './event-stream';

interface ChatEntry {
  role: 'user' | 'assistant';
  content: string;
  timestamp: string;
}

interface Approval {
  approval_id: string;
  tool: string;
  summary: string;
  expires_at: string;
  tool_call_id?: string;
}

/** An assistant message being written: its text parts (one per model call and attempt) and its tool steps. */
interface Reply {
  item: HTMLLIElement;
  text: HTMLDivElement;
  parts: Map<string, HTMLSpanElement>;
  tools: HTMLUListElement;
  toolRows: Map<string, HTMLLIElement>;
}

/** How long the answer of the page's own request waits for the stream to bring the same entry. */
const STREAM_GRACE_MS = 3_000;

const TOOL_STATES: Record<string, string> = {
  running: 'running…',
  done: 'done',
  failed: 'failed',
  waiting: 'waiting for your approval',
  denied: 'not done',
};

export class ChatView {
  private readonly messages = byId<HTMLOListElement>('messages');
  private readonly approvalList = byId<HTMLUListElement>('approval-list');
  private readonly error = byId('chat-error');
  private readonly replies = new Map<string, Reply>();
  /** Entries on screen, by role and time: the history and the stream may both bring one. */
  private readonly shown = new Set<string>();
  /** User messages on screen that no stream has claimed yet (sent from this tab). */
  private readonly unclaimed: HTMLLIElement[] = [];
  private approvals: Approval[] = [];
  private readonly ticker: number;

  constructor(private readonly session: Session) {
    byId('composer').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.send();
    });
    byId<HTMLTextAreaElement>('message').addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        void this.send();
      }
    });
    byId('undo').addEventListener('click', () => void this.act(() => call<ChatEntry>(this.session, 'POST', this.path('/undo'))));
    this.ticker = window.setInterval(() => this.renderApprovals(), 1_000);
  }

  dispose(): void {
    window.clearInterval(this.ticker);
  }

  private path(suffix = '') {
    return `/chat/${encodeURIComponent(this.session.userId)}${suffix}`;
  }

  /** The conversation so far and what waits for approval (after the stream is open, so nothing falls between). */
  async load(): Promise<void> {
    const [history, approvals] = await Promise.all([
      call<{ messages: ChatEntry[] }>(this.session, 'GET', this.path('/history')),
      call<{ approvals: Approval[] }>(this.session, 'GET', this.path('/approvals')),
    ]);
    this.messages.replaceChildren();
    this.shown.clear();
    this.replies.clear();
    for (const entry of history.body.messages) this.entry(entry);
    this.approvals = approvals.body.approvals;
    this.renderApprovals();
    const link = webUiLink(history.headers);
    const anchor = byId<HTMLAnchorElement>('chat-ui-link');
    anchor.hidden = link === undefined;
    if (link) anchor.href = link;
  }

  /** One chunk of the chat's stream (docs/api.md, "Streams"). */
  handle(chunk: Chunk): void {
    switch (chunk.type) {
      case 'data-reset':
        void this.load();
        return;
      case 'data-user-message':
        this.userMessage(chunk.data.stream_ref, { role: 'user', content: chunk.data.content, timestamp: chunk.data.timestamp });
        return;
      case 'data-user-message-refused':
        this.messages.querySelector(`[data-ref="${CSS.escape(chunk.data.stream_ref)}"]`)?.remove();
        return;
      case 'start':
        this.reply(chunk.messageId);
        return;
      case 'text-start':
        this.textPart(chunk.id);
        return;
      case 'text-delta':
        this.textPart(chunk.id).textContent += chunk.delta;
        this.scroll();
        return;
      case 'data-text-discarded': {
        const reply = this.replies.get(turnOf(chunk.data.id));
        reply?.parts.get(chunk.data.id)?.remove();
        reply?.parts.delete(chunk.data.id);
        return;
      }
      case 'tool-input-available':
        this.toolRow(chunk.toolCallId, chunk.title ?? `${chunk.toolName}`, 'running');
        return;
      case 'tool-output-available':
        this.toolRow(chunk.toolCallId, undefined, 'done');
        return;
      case 'tool-output-error':
        this.toolRow(chunk.toolCallId, undefined, 'failed', chunk.errorText);
        return;
      case 'tool-output-denied':
        this.toolRow(chunk.toolCallId, undefined, 'denied');
        return;
      case 'tool-approval-request':
        this.toolRow(chunk.toolCallId, undefined, 'waiting');
        return;
      case 'data-entry':
        this.recorded(chunk.data, chunk.id);
        return;
      case 'data-approvals':
        this.approvals = chunk.data.approvals;
        this.renderApprovals();
        return;
    }
  }

  private async send(): Promise<void> {
    const box = byId<HTMLTextAreaElement>('message');
    const content = box.value.trim();
    if (content === '') return;
    box.value = '';
    const item = this.bubble({ role: 'user', content, timestamp: new Date().toISOString() }, false);
    item.classList.add('pending');
    this.unclaimed.push(item);
    await this.act(() => call<ChatEntry>(this.session, 'POST', this.path(), { content }), () => {
      box.value = content;
      item.remove();
    });
  }

  /**
   * Sends a request whose answer is an assistant entry. The stream shows it, with its steps, in every tab;
   * the answer itself is shown only if the stream has not brought it a moment later (Redis away, say).
   */
  private async act(request: () => Promise<{ body: ChatEntry }>, undo?: () => void): Promise<void> {
    this.error.textContent = '';
    try {
      const { body } = await request();
      window.setTimeout(() => this.entry(body), STREAM_GRACE_MS);
    } catch (err) {
      undo?.();
      this.error.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  async decide(approvalId: string, approved: boolean): Promise<void> {
    await this.act(() => call<ChatEntry>(this.session, 'POST', this.path(`/approvals/${encodeURIComponent(approvalId)}`), { approved }));
    this.approvals = this.approvals.filter((a) => a.approval_id !== approvalId);
    this.renderApprovals();
  }

  private key = (entry: ChatEntry) => `${entry.role}|${entry.timestamp}`;

  /** A recorded entry, unless it is on screen already. */
  private entry(entry: ChatEntry | null | undefined): void {
    if (!entry || this.shown.has(this.key(entry))) return;
    this.bubble(entry);
  }

  private bubble(entry: ChatEntry, recorded = true): HTMLLIElement {
    if (recorded) this.shown.add(this.key(entry));
    const item = el(
      'li',
      { class: `message ${entry.role}${entry.role === 'assistant' ? ' done' : ''}` },
      el('span', { class: 'visually-hidden', text: entry.role === 'user' ? 'You said:' : 'Assistant:' }),
      el('div', { class: 'text', text: entry.content }),
      el('time', { text: timeText(entry.timestamp), attrs: { datetime: entry.timestamp } }),
    );
    this.messages.append(item);
    this.scroll();
    return item;
  }

  private userMessage(ref: string, entry: ChatEntry): void {
    const claimed = this.unclaimed.findIndex((item) => item.querySelector('.text')?.textContent === entry.content);
    if (claimed >= 0) {
      const [item] = this.unclaimed.splice(claimed, 1);
      item!.dataset.ref = ref;
      item!.classList.remove('pending');
      return;
    }
    if (this.messages.querySelector(`[data-ref="${CSS.escape(ref)}"]`)) return;
    this.bubble(entry, false).dataset.ref = ref;
  }

  private reply(turnId: string): Reply {
    const existing = this.replies.get(turnId);
    if (existing) return existing;
    const text = el('div', { class: 'text' });
    const tools = el('ul', { class: 'tools', attrs: { 'aria-label': 'Steps' } });
    const item = el('li', { class: 'message assistant streaming', attrs: { 'aria-busy': 'true' } }, el('span', { class: 'visually-hidden', text: 'Assistant:' }), tools, text);
    this.messages.append(item);
    const reply: Reply = { item, text, parts: new Map(), tools, toolRows: new Map() };
    this.replies.set(turnId, reply);
    return reply;
  }

  private textPart(id: string): HTMLSpanElement {
    const reply = this.reply(turnOf(id));
    let part = reply.parts.get(id);
    if (!part) {
      part = el('span', { class: 'part' });
      reply.parts.set(id, part);
      reply.text.append(part);
    }
    return part;
  }

  private toolRow(toolCallId: string, title: string | undefined, state: keyof typeof TOOL_STATES, detail?: string): void {
    const reply = this.reply(toolCallId.split('/')[0]!);
    let row = reply.toolRows.get(toolCallId);
    if (!row) {
      row = el('li', { class: 'tool' }, el('span', { class: 'tool-title' }), el('span', { class: 'tool-state' }));
      reply.toolRows.set(toolCallId, row);
      reply.tools.append(row);
    }
    if (title !== undefined) row.querySelector('.tool-title')!.textContent = title;
    row.dataset.state = state;
    row.querySelector('.tool-state')!.textContent = detail ? `${TOOL_STATES[state]}: ${detail}` : TOOL_STATES[state]!;
  }

  /** The reply as the chat recorded it: it replaces the streamed text, and the user's message is shown before it. */
  private recorded(data: { turn_id?: string | null; stream_ref?: string | null; user_message?: ChatEntry | null; assistant_message: ChatEntry }, entryId: string): void {
    // A reply outside a turn (an undo, the rules) is its own message, named after its event.
    const turnId = data.turn_id ?? entryId;
    if (data.user_message && data.stream_ref) this.userMessage(data.stream_ref, data.user_message);
    else this.entry(data.user_message);
    if (data.user_message) this.shown.add(this.key(data.user_message));
    const reply = this.replies.get(turnId);
    if (!reply) {
      this.entry(data.assistant_message);
      return;
    }
    if (this.shown.has(this.key(data.assistant_message))) {
      reply.item.remove();
      this.replies.delete(turnId);
      return;
    }
    this.finalize(turnId, reply, data.assistant_message);
  }

  private finalize(turnId: string, reply: Reply, entry: ChatEntry): void {
    this.shown.add(this.key(entry));
    reply.text.replaceChildren(entry.content);
    reply.item.classList.remove('streaming');
    reply.item.classList.add('done');
    reply.item.removeAttribute('aria-busy');
    reply.item.append(el('time', { text: timeText(entry.timestamp), attrs: { datetime: entry.timestamp } }));
    // A turn that goes on after a decision writes a new message.
    this.replies.delete(turnId);
    this.scroll();
  }

  private renderApprovals(): void {
    const now = Date.now();
    const waiting = this.approvals.filter((a) => Date.parse(a.expires_at) > now);
    byId('approvals').hidden = waiting.length === 0;
    const ids = waiting.map((a) => a.approval_id).join(',');
    if (this.approvalList.dataset.ids === ids) {
      for (const when of this.approvalList.querySelectorAll<HTMLElement>('[data-expires]')) when.textContent = untilText(when.dataset.expires!, now);
      return;
    }
    this.approvalList.dataset.ids = ids;
    this.approvalList.replaceChildren(
      ...waiting.map((approval) => {
        const approve = el('button', { text: 'Approve', attrs: { type: 'button' } });
        const deny = el('button', { text: 'Deny', class: 'secondary', attrs: { type: 'button' } });
        // One decision per approval: a second click would only be told it was decided already.
        const decide = (approved: boolean) => {
          approve.disabled = deny.disabled = true;
          void this.decide(approval.approval_id, approved).finally(() => (approve.disabled = deny.disabled = false));
        };
        approve.addEventListener('click', () => decide(true));
        deny.addEventListener('click', () => decide(false));
        return el(
          'li',
          { class: 'approval', attrs: { 'data-approval': approval.approval_id } },
          el('p', { class: 'summary', text: approval.summary }),
          el(
            'p',
            { class: 'hint' },
            document.createTextNode(`${approval.tool} · expires ${timeText(approval.expires_at)} (`),
            el('span', { text: untilText(approval.expires_at, now), attrs: { 'data-expires': approval.expires_at } }),
            document.createTextNode(')'),
          ),
          el('div', { class: 'approval-actions' }, approve, deny),
        );
      }),
    );
  }

  private scroll(): void {
    this.messages.scrollTop = this.messages.scrollHeight;
  }
}

/** The turn a text part belongs to (`{turn}:{step}:{attempt}`, or `{turn}:{event}` for a whole reply). */
const turnOf = (partId: string) => partId.split(':')[0]!;
