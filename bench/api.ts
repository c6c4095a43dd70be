/** The service's HTTP API as the benchmarks call it. */

/** `POST /tasks`; the new task's id. */
export async function createTask(apiUrl: string, body: { title: string; description: string; priority?: number }): Promise<string> {
  const res = await fetch(`${apiUrl}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`POST /tasks answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { task_id: string }).task_id;
}
