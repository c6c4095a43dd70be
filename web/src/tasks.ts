/**
 * The task list: filtered by status and assignee (GET /tasks, Temporal visibility), kept current by the
 * `data-task` chunks of the chat's stream (the user's own tasks as they change), each task with its
 * details, its history (GET /tasks/{id}/history) and a link to its entity's run in the Temporal Web UI.
 */
import { call, webUiLink, type Session } from './api';
import { byId, el, timeText } from './dom';
import type { Chunk } from './event-stream';

/** A task as the list knows it: the whole task, or (from the list, until its details are read) a summary. */
type Row = Pick<Task, 'task_id' | 'status' | 'assignee'> & Partial<Task>;

interface Task {
  task_id: string;
  title: string;
  description: string | null;
  priority: number;
  status: string | null;
  assignee: string | null;
  deadline: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

interface TaskChange {
  version: number;
  at: string | null;
  by: string | null;
  kind: 'created' | 'changed';
  changes: { field: string; from: string | null; to: string | null }[];
  reverted: boolean;
}

export class TasksView {
  private readonly list = byId<HTMLUListElement>('task-list');
  private readonly error = byId('tasks-error');
  private readonly tasks = new Map<string, Row>();
  private filters = { status: '', assignee: '' };
  private open: string | undefined;
  /** Changes the stream brought while a list was being loaded (null: deleted); applied on top of it. */
  private duringLoad: Map<string, { task: Task; deleted: boolean }> | undefined;

  constructor(private readonly session: Session) {
    byId('task-filters').addEventListener('submit', (event) => {
      event.preventDefault();
      this.filters = { status: byId<HTMLSelectElement>('filter-status').value, assignee: byId<HTMLInputElement>('filter-assignee').value.trim() };
      void this.load();
    });
    byId('filter-status').addEventListener('change', () => byId<HTMLFormElement>('task-filters').requestSubmit());
    byId('task-detail-close').addEventListener('click', () => this.closeDetail());
  }

  async load(): Promise<void> {
    this.error.textContent = '';
    const query = new URLSearchParams({ page_size: '100', ...(this.filters.status ? { status: this.filters.status } : {}), ...(this.filters.assignee ? { assignee: this.filters.assignee } : {}) });
    this.duringLoad = new Map();
    try {
      const { body } = await call<{ tasks: Row[] }>(this.session, 'GET', `/tasks?${query}`);
      this.tasks.clear();
      for (const task of body.tasks) this.tasks.set(task.task_id, task);
      // The list comes from visibility, a moment behind: what the stream told meanwhile is newer.
      for (const { task, deleted } of this.duringLoad.values()) this.apply(task, deleted);
      this.render();
      await this.readDetails();
    } catch (err) {
      this.error.textContent = err instanceof Error ? err.message : String(err);
    } finally {
      this.duringLoad = undefined;
    }
  }

  /** A change to one of the user's tasks, as the stream tells it. */
  handle(chunk: Chunk): void {
    if (chunk.type !== 'data-task') return;
    const task = chunk.data.task as Task;
    const deleted = chunk.data.event === 'task.deleted';
    this.duringLoad?.set(task.task_id, { task, deleted });
    this.apply(task, deleted);
    this.render();
    if (this.open === task.task_id) void this.showDetail(task.task_id);
  }

  /**
   * The list names tasks by id and status: their titles and deadlines come from the tasks themselves, two at
   * a time. Not more: a browser opens six connections to the API, the event stream holds one, and a read may
   * take seconds (no worker serving that task), so more readers could leave a message the user sends waiting.
   */
  private async readDetails(): Promise<void> {
    const missing = [...this.tasks.values()].filter((row) => row.title === undefined).map((row) => row.task_id);
    const worker = async () => {
      for (let id = missing.shift(); id !== undefined; id = missing.shift()) {
        const task = await call<Task>(this.session, 'GET', `/tasks/${encodeURIComponent(id)}`).then(
          (r) => r.body,
          () => undefined,
        );
        if (task && this.tasks.get(id)?.title === undefined) this.apply(task, false);
      }
    };
    await Promise.all([worker(), worker()]);
    this.render();
  }

  private apply(task: Task, deleted: boolean): void {
    const known = this.tasks.get(task.task_id);
    if (known?.version !== undefined && known.version > task.version && known.created_at === task.created_at) return; // an older change arriving late
    if (deleted || !this.matches(task)) this.tasks.delete(task.task_id);
    else this.tasks.set(task.task_id, task);
  }

  private matches(task: Row): boolean {
    return (!this.filters.status || task.status === this.filters.status) && (!this.filters.assignee || task.assignee?.toLowerCase() === this.filters.assignee.toLowerCase());
  }

  private render(): void {
    const sorted = [...this.tasks.values()].sort((a, b) => (b.updated_at ?? '').localeCompare(a.updated_at ?? ''));
    byId('tasks-live').textContent = `${sorted.length} shown`;
    this.list.replaceChildren(
      ...sorted.map((task) => {
        const open = el(
          'button',
          { class: 'task', attrs: { type: 'button', 'data-task': task.task_id } },
          el('span', { class: 'task-title', text: task.title ?? task.task_id }),
          el('span', { class: `status status-${task.status}`, text: (task.status ?? 'unknown').replace('_', ' ') }),
          el('span', { class: 'hint', text: `${task.assignee ?? 'unassigned'}${task.deadline ? ` · due ${timeText(task.deadline)}` : ''}` }),
        );
        open.addEventListener('click', () => void this.showDetail(task.task_id));
        return el('li', {}, open);
      }),
    );
  }

  private closeDetail(): void {
    byId('task-detail').hidden = true;
    const id = this.open;
    this.open = undefined;
    if (id) this.list.querySelector<HTMLButtonElement>(`[data-task="${CSS.escape(id)}"]`)?.focus();
  }

  private async showDetail(taskId: string): Promise<void> {
    const opening = this.open !== taskId;
    this.open = taskId;
    try {
      const [{ body: task, headers }, { body: history }] = await Promise.all([
        call<Task>(this.session, 'GET', `/tasks/${encodeURIComponent(taskId)}`),
        call<{ changes: TaskChange[] }>(this.session, 'GET', `/tasks/${encodeURIComponent(taskId)}/history`),
      ]);
      byId('task-detail-title').textContent = task.title;
      const fields: [string, string][] = [
        ['Id', task.task_id],
        ['Status', task.status ?? 'unknown'],
        ['Assignee', task.assignee ?? 'nobody'],
        ['Deadline', task.deadline ? timeText(task.deadline) : 'none'],
        ['Priority', String(task.priority)],
        ['Description', task.description ?? ''],
        ['Version', String(task.version)],
      ];
      byId('task-fields').replaceChildren(...fields.flatMap(([name, value]) => [el('dt', { text: name }), el('dd', { text: value })]));
      const link = byId<HTMLAnchorElement>('task-ui-link');
      const ui = webUiLink(headers);
      link.hidden = ui === undefined;
      if (ui) link.href = ui;
      byId('task-history').replaceChildren(
        ...history.changes.map((change) =>
          el(
            'li',
            { class: change.reverted ? 'reverted' : '' },
            el('span', { text: `v${change.version} ${change.kind}${change.reverted ? ' (put back since)' : ''}` }),
            el('span', { class: 'hint', text: ` ${change.at ? timeText(change.at) : ''}${change.by ? ` by ${change.by}` : ''}` }),
            el('ul', {}, ...change.changes.map((c) => el('li', { text: `${c.field}: ${c.from ?? '—'} → ${c.to ?? '—'}` }))),
          ),
        ),
      );
      byId('task-detail').hidden = false;
      if (opening) byId('task-detail-title').focus();
    } catch (err) {
      this.error.textContent = err instanceof Error ? err.message : String(err);
    }
  }
}
