/** The page: sign in, then the chat and the task list, both kept live by the chat's event stream. */
import { ApiFailure, call, clearSession, loadSession, saveSession, subjectOf, type Session } from './api';
import { ChatView } from './chat';
import { byId } from './dom';
import { openEventStream, type EventStream, type StreamState } from './event-stream';
import { TasksView } from './tasks';

const STATE_TEXT: Record<StreamState, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  refused: 'not allowed',
};

let stream: EventStream | undefined;
let chat: ChatView | undefined;

function showSignIn(message = ''): void {
  byId('sign-in').hidden = false;
  byId('chat').hidden = true;
  byId('tasks').hidden = true;
  byId('profile-open').hidden = true;
  byId('sign-out').hidden = true;
  byId('who').textContent = '';
  byId('sign-in-error').textContent = message;
  byId('sign-in-token').focus();
}

async function start(session: Session): Promise<void> {
  // The token is checked by asking for something of the user's own.
  try {
    await call(session, 'GET', `/chat/${encodeURIComponent(session.userId)}/profile`);
  } catch (err) {
    clearSession();
    const refused = err instanceof ApiFailure && (err.status === 401 || err.status === 403);
    showSignIn(refused ? `The API refused this sign-in: ${err.message}` : `The API could not be reached: ${(err as Error).message}`);
    return;
  }
  byId('sign-in').hidden = true;
  byId('chat').hidden = false;
  byId('tasks').hidden = false;
  byId('profile-open').hidden = false;
  byId('sign-out').hidden = false;
  byId('who').textContent = session.userId;

  chat = new ChatView(session);
  const tasks = new TasksView(session);
  const connection = byId('connection');
  let loaded = false;
  // What the stream brought, newest last (the last 200 chunk types): for a look from the browser's console.
  const seen: string[] = [];
  stream = openEventStream(
    session,
    (chunk) => {
      seen.push(chunk.type);
      if (seen.length > 200) seen.shift();
      chat!.handle(chunk);
      tasks.handle(chunk);
    },
    (state, detail) => {
      connection.textContent = detail ? `${STATE_TEXT[state]}: ${detail}` : STATE_TEXT[state];
      connection.dataset.state = state;
      // Once the stream is open, what came before it is read: nothing falls in between.
      if (state === 'live' && !loaded) {
        loaded = true;
        void chat!.load();
        void tasks.load();
      }
    },
  );
  (window as unknown as { taskAgent: unknown }).taskAgent = { dropConnection: () => stream?.drop(), seen };
  byId('message').focus();
}

function setUpProfile(): void {
  const dialog = byId<HTMLDialogElement>('profile');
  const field = (name: string) => byId<HTMLInputElement>(`profile-${name}`);
  byId('profile-open').addEventListener('click', async () => {
    const session = loadSession();
    if (!session) return;
    byId('profile-error').textContent = '';
    const { body } = await call<Record<string, string | null>>(session, 'GET', `/chat/${encodeURIComponent(session.userId)}/profile`);
    field('name').value = body.name ?? '';
    field('email').value = body.email ?? '';
    field('style').value = body.preferred_style ?? '';
    byId<HTMLTextAreaElement>('profile-summary').value = body.summary ?? '';
    dialog.showModal();
  });
  byId('profile-form').addEventListener('submit', async (event) => {
    const submitter = (event as SubmitEvent).submitter as HTMLButtonElement | null;
    if (submitter?.value !== 'save') return;
    event.preventDefault();
    const session = loadSession();
    if (!session) return;
    const value = (v: string) => (v.trim() === '' ? null : v.trim());
    try {
      await call(session, 'PUT', `/chat/${encodeURIComponent(session.userId)}/profile`, {
        name: value(field('name').value),
        email: value(field('email').value),
        preferred_style: value(field('style').value),
        summary: value(byId<HTMLTextAreaElement>('profile-summary').value),
      });
      dialog.close();
    } catch (err) {
      byId('profile-error').textContent = (err as Error).message;
    }
  });
}

function main(): void {
  setUpProfile();
  byId('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = byId<HTMLTextAreaElement>('sign-in-token').value.trim();
    const userId = byId<HTMLInputElement>('sign-in-user').value.trim() || (token ? subjectOf(token) : undefined) || '';
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(userId)) {
      byId('sign-in-error').textContent = 'Give a user id (letters, digits, ".", "_" or "-"), or a token that names one';
      return;
    }
    const session = { userId, token: token || null };
    saveSession(session);
    void start(session);
  });
  byId('sign-out').addEventListener('click', () => {
    stream?.close();
    chat?.dispose();
    clearSession();
    location.reload();
  });
  const session = loadSession();
  if (session) void start(session);
  else showSignIn();
}

main();
