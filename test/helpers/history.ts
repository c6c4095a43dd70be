/** Reading a run's history in tests: what it asked and wrote, as the server recorded it. */
import type { WorkflowHandle } from '@temporalio/client';

export type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** The patch ids the run asked while executing (one marker each), in order. */
export function patchesAsked(events: HistoryEvent[]): string[] {
  return events.flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    const data = marker?.markerName === 'core_patch' ? marker.details?.['patch-data']?.payloads?.[0]?.data : undefined;
    return data ? [(JSON.parse(Buffer.from(data).toString()) as { id: string }).id] : [];
  });
}

/** The search attributes each upsert wrote, in order, without TemporalChangeVersion (the SDK's own, one per patch). */
export function attributesUpserted(events: HistoryEvent[]): string[] {
  return events.flatMap((e) => {
    const fields = Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}).filter((k) => k !== 'TemporalChangeVersion');
    return fields.length > 0 ? [fields.sort().join(',')] : [];
  });
}
