/**
 * Payload encryption: an AES-256-GCM payload codec that every client and worker of the service uses when
 * PAYLOAD_ENCRYPTION_KEYS is set, so task titles, descriptions and chat content reach Temporal's
 * histories encrypted. The first key encrypts; every key decrypts, so keys rotate without losing old
 * histories. Payloads written before encryption was turned on carry no encryption metadata and pass
 * through as they are.
 *
 * Runs in Node only (the SDK applies codecs outside the workflow sandbox). The codec endpoint
 * (api/routes/codec.ts) serves the same codec to the Web UI and the temporal CLI.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ValueError, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/** Temporal's convention for encrypted payloads (the same names as the SDK samples and other SDKs' codecs). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const utf8 = (value: string) => new TextEncoder().encode(value);
const text = (bytes: Uint8Array | null | undefined) => (bytes ? new TextDecoder().decode(bytes) : undefined);

/** Refused when a payload names a key this process does not have, or its data was tampered with. */
export class PayloadDecryptionError extends ValueError {}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly current: EncryptionKey;

  /** `keys[0]` encrypts; all of them decrypt. */
  constructor(keys: readonly EncryptionKey[]) {
    if (keys[0] === undefined) throw new Error('AesGcmPayloadCodec needs at least one key');
    this.current = keys[0];
    this.byId = new Map(keys.map(({ id, key }) => [id, key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.current;
    return payloads.map((payload) => ({
      metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(id) },
      data: encrypt(temporal.api.common.v1.Payload.encode(payload).finish(), key),
    }));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (text(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload; // written before encryption
      const id = text(payload.metadata?.[KEY_ID_METADATA]);
      const key = id === undefined ? undefined : this.byId.get(id);
      if (key === undefined) {
        throw new PayloadDecryptionError(`Payload encrypted with key "${id ?? '(none)'}", which is not in PAYLOAD_ENCRYPTION_KEYS`);
      }
      let plain: Uint8Array;
      try {
        plain = decrypt(payload.data ?? new Uint8Array(), key);
      } catch {
        throw new PayloadDecryptionError(`Payload encrypted with key "${id}" does not decrypt: its data was altered`);
      }
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/** iv (12 bytes) | ciphertext | GCM tag (16 bytes); a fresh random iv per payload. */
function encrypt(plain: Uint8Array, key: Buffer): Uint8Array {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

function decrypt(data: Uint8Array, key: Buffer): Uint8Array {
  const bytes = Buffer.from(data);
  if (bytes.length < IV_BYTES + TAG_BYTES) throw new Error('too short');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
}

/**
 * Parses `id:base64key,id:base64key`; each key must decode to 32 bytes. Returns the problem as a message
 * (the config module reports it with the variable's name), or the keys.
 */
export function parseEncryptionKeys(value: string): EncryptionKey[] | string {
  const keys: EncryptionKey[] = [];
  for (const entry of value.split(',').map((part) => part.trim())) {
    const match = /^([A-Za-z0-9._-]{1,64}):([A-Za-z0-9+/_-]+={0,2})$/.exec(entry);
    // Never echo the entry: it may be a key.
    if (!match) return `entry ${keys.length + 1} is not id:base64key (an id of letters, digits, . _ - then a base64 key)`;
    const [, id, encoded] = match as unknown as [string, string, string];
    const key = Buffer.from(encoded, encoded.includes('-') || encoded.includes('_') ? 'base64url' : 'base64');
    if (key.length !== 32) return `key "${id}" is ${key.length} bytes; AES-256 needs 32 (e.g. openssl rand -base64 32)`;
    if (keys.some((k) => k.id === id)) return `key id "${id}" appears twice`;
    keys.push({ id, key });
  }
  return keys;
}

/** common/failure-converter.ts: TypeScript under tsx and vitest, JavaScript when compiled. */
const FAILURE_CONVERTER_PATH = ['.ts', '.js'].map((ext) => resolve(__dirname, `failure-converter${ext}`)).find((path) => existsSync(path))!;

/**
 * The data converter of every client and worker: with keys configured, the codec, and failures' text in
 * payloads so that the codec encrypts it too (common/failure-converter.ts); the SDK's default otherwise.
 */
export function dataConverterFor(keys: readonly EncryptionKey[] | undefined): DataConverter | undefined {
  return keys && keys.length > 0 ? { payloadCodecs: [new AesGcmPayloadCodec(keys)], failureConverterPath: FAILURE_CONVERTER_PATH } : undefined;
}
