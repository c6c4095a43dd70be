/**
 * How failures are written into Temporal when payloads are encrypted: the SDK's converter, with a failure's
 * message and stack trace moved into a payload (`encodedAttributes`) instead of plain fields. Payloads go
 * through the payload codec, so an activity's failure text (an assignee's e-mail in a notification failure, a
 * model's error body) is encrypted like everything else. Used by every client and worker with
 * PAYLOAD_ENCRYPTION_KEYS (common/payload-encryption.ts); without keys the SDK's default keeps failures plain,
 * as the temporal CLI shows them. Failures that workflow code itself raises (refused updates, bad input) name
 * rules, fields and ids, not content, and stay plain in the prebuilt workflow bundle.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
