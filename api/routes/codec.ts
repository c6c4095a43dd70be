/**
 * Temporal's remote codec protocol, so the Web UI and the temporal CLI show encrypted payloads in plain text
 * (`temporal workflow show --codec-endpoint http://localhost:8000/codec`):
 *   POST /codec/decode, POST /codec/encode  ->  { payloads: [{ metadata: { key: base64 }, data: base64 }] }
 * It decrypts every user's content, so it needs the admin right (api/access.ts). CORS for the Web UI's
 * origin is set up in the app, ahead of authentication, because browsers send preflights without tokens.
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { PayloadDecryptionError } from '../../common/payload-encryption';
import { CodecPayloadsSchema, CodecRequestSchema, type CodecPayloads } from '../../common/schemas';
import { requireAdmin } from '../access';
import type { AppEnv, RouteDeps } from '../deps';
import { ApiError } from '../errors';
import { errorResponse, invalidInput, json } from './responses';

const route = (operation: 'encode' | 'decode') =>
  createRoute({
    method: 'post',
    path: `/codec/${operation}`,
    tags: ['codec'],
    summary: operation === 'decode' ? 'Decrypt payloads (for the Web UI and the temporal CLI)' : 'Encrypt payloads',
    request: { body: { required: true, content: { 'application/json': { schema: CodecRequestSchema } } } },
    responses: {
      200: json(CodecPayloadsSchema, 'The payloads, decoded or encoded in order'),
      401: errorResponse('No valid credentials'),
      403: errorResponse('Needs the admin right'),
      422: invalidInput,
    },
  });

export function codecRoutes({ codec }: RouteDeps) {
  const run = async (operation: 'encode' | 'decode', body: CodecPayloads) => {
    // Without keys nothing is encrypted: payloads go back as they came (encrypted ones cannot be read here).
    if (!codec) return body;
    try {
      return { payloads: toJson(await codec[operation](body.payloads.map(fromJson))) };
    } catch (err) {
      if (err instanceof PayloadDecryptionError) throw new ApiError(422, err.message, [{ field: 'payloads', message: err.message }]);
      throw err;
    }
  };
  return new OpenAPIHono<AppEnv>()
    .openapi(route('decode'), async (c) => {
      requireAdmin(c);
      return c.json(await run('decode', c.req.valid('json')), 200);
    })
    .openapi(route('encode'), async (c) => {
      requireAdmin(c);
      return c.json(await run('encode', c.req.valid('json')), 200);
    });
}

const fromJson = ({ metadata, data }: CodecPayloads['payloads'][number]): Payload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
  data: Buffer.from(data ?? '', 'base64'),
});

const toJson = (payloads: Payload[]): CodecPayloads['payloads'] =>
  payloads.map(({ metadata, data }) => ({
    metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? []).toString('base64')])),
    data: Buffer.from(data ?? []).toString('base64'),
  }));

export type { PayloadCodec };
