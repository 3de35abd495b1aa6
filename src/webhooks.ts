import type { Session } from './index.js'
import { encode, readWithin } from './internal/bytes.js'
import { badArgument } from './internal/errors.js'
import { type Known, checkOptions } from './internal/options.js'
import type { WebhookEventType } from './internal/webhook-events.js'

export type { WebhookEventType } from './internal/webhook-events.js'

/** What every event carries: its type and the date api.video emitted it (ISO 8601), both signed. */
export interface WebhookEventBase<T extends WebhookEventType = WebhookEventType> {
  type: T
  emittedAt: string
  [field: string]: unknown
}

/** A new HLS or MP4 quality of a video is ready, e.g. `{ videoId: 'vi…', encoding: 'hls', quality: '720p' }`. */
export interface VideoEncodingQualityCompletedEvent extends WebhookEventBase<'video.encoding.quality.completed'> {
  videoId: string
  encoding: string
  quality: string
}

/** A verified event, typed by its `type`. */
export type WebhookEvent =
  VideoEncodingQualityCompletedEvent | WebhookEventBase<Exclude<WebhookEventType, 'video.encoding.quality.completed'>>

/** A webhook's `signatureSecret`, or `undefined` when the webhook ID is unknown. */
type SecretAnswer = string | readonly string[] | undefined

/**
 * The secret to verify with: one, several (during a rotation: any one that matches), or a function of the
 * `X-Api-Video-WebhookID` header (sync or async), such as `webhookSecrets(session)`.
 */
export type WebhookSecret = string | readonly string[] | ((webhookId: string) => SecretAnswer | Promise<SecretAnswer>)

/** Options of `verifyWebhook`. */
export interface VerifyWebhookOptions {
  secret: WebhookSecret
  /**
   * The oldest event to accept, in ms, from its signed `emittedAt`; an event more than a minute ahead of the
   * clock is refused too. Off by default: api.video retries a failed delivery three times, 3 s apart, with the
   * same body and signature, so a replay within `maxAge` still passes: keep it above 10 s, and deduplicate.
   */
  maxAge?: number | undefined
  /** The clock `maxAge` is measured on, epoch ms; `Date.now` by default. */
  now?: (() => number) | undefined
}

/**
 * A delivery as a server framework hands it over: a `Request`, or its headers (`Headers`, or Node's
 * `IncomingMessage.headers`) with the body as received, unparsed: a `string`, `Uint8Array` or `Buffer`, or a
 * stream of bytes (Node: `Readable.toWeb(req)`), read up to the limit only.
 */
export type WebhookInput =
  | Request
  | {
      headers: Headers | Record<string, string | string[] | undefined>
      body: string | Uint8Array | ReadableStream<Uint8Array>
    }

/** Codes of a refused delivery: no valid signature, or not a well-formed, timely event. */
export type WebhookErrorCode = 'INVALID_SIGNATURE' | 'INVALID_WEBHOOK'

/**
 * Why a delivery was refused. Named `ApiVideoAuthError`, so the core's `isApiVideoAuthError` recognises it;
 * its message never holds a secret, a signature or the body.
 */
export interface WebhookError extends Error {
  name: 'ApiVideoAuthError'
  code: WebhookErrorCode
}

/** Options of `webhookSecrets`. */
export interface WebhookSecretsOptions {
  /** Its clock, epoch ms; `Date.now` by default. */
  now?: (() => number) | undefined
}

/** The largest body read: api.video's events are far smaller. */
const BODY_LIMIT = 64 * 1024
const MINUTE = 60_000
const HMAC = { name: 'HMAC', hash: 'SHA-256' }

function refuse(code: WebhookErrorCode, why: string): never {
  throw Object.assign(new Error(`webhook: ${why}`), {
    name: 'ApiVideoAuthError',
    code,
  })
}

const VERIFY_OPTIONS: Known<VerifyWebhookOptions> = { secret: true, maxAge: true, now: true }
const SECRETS_OPTIONS: Known<WebhookSecretsOptions> = { now: true }

/**
 * The clock of `options`, which must hold no property outside `known` (a near miss, in case or an `Ms` suffix, is
 * named), and a `now` that is a function when given.
 */
function clockOf<T extends { now?: (() => number) | undefined }>(options: unknown, known: Known<T>): () => number {
  const { now = Date.now } = checkOptions(options, known)
  if (typeof now !== 'function') badArgument('now must be a function')
  return now
}

const isSecret = (value: unknown) => typeof value === 'string' && value !== ''
const isSecretList = (value: unknown[]): value is string[] => value.length > 0 && value.every(isSecret)

/** A header of either form, matched case-insensitively; empty when absent. */
function header(headers: WebhookInput['headers'], name: string): string {
  if (typeof headers.get === 'function') return (headers as Headers).get(name) ?? ''
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name)
  // Node gives a header sent twice as a list: read as fetch reads it, joined by commas.
  return [key === undefined ? '' : (headers as Record<string, string | string[]>)[key]].flat().join()
}

/**
 * The body, at most 64 KiB: a stream is read only up to the limit (plus the chunk that crosses it), then cancelled.
 */
async function readBody(body: unknown): Promise<Uint8Array<ArrayBuffer>> {
  let bytes = (typeof body === 'string' ? encode(body) : body) as Uint8Array<ArrayBuffer> | undefined
  if (typeof (body as ReadableStream | null)?.getReader === 'function') {
    bytes = await readWithin(body as ReadableStream<Uint8Array<ArrayBuffer>>, BODY_LIMIT)
    if (bytes === undefined) refuse('INVALID_WEBHOOK', 'body over 64 KiB')
  } else if (!(bytes instanceof Uint8Array)) {
    refuse('INVALID_WEBHOOK', 'not a Request nor {headers, body}')
  }
  if (bytes.length > BODY_LIMIT) refuse('INVALID_WEBHOOK', 'body over 64 KiB')
  if (!bytes.length) refuse('INVALID_WEBHOOK', 'empty body')
  return bytes
}

/** True when one of the secrets signs `body` with `digest` (HMAC-SHA256, compared in constant time). */
async function signedByAny(secrets: string[], digest: BufferSource, body: BufferSource): Promise<boolean> {
  for (const secret of secrets) {
    const key = await crypto.subtle.importKey('raw', encode(secret), HMAC, false, ['verify'])
    if (await crypto.subtle.verify(HMAC, key, digest, body)) return true
  }
  return false
}

/**
 * Proves that a delivery came from api.video, and returns its event: the raw body's HMAC-SHA256 under the
 * webhook's secret must equal the `X-Api-Video-Signature` header. Verify before parsing, on the bytes as
 * received: re-serialized JSON does not match. Bodies over 64 KiB are refused without being read whole.
 * A refusal rejects with a `WebhookError`: `code` `INVALID_SIGNATURE` (no or malformed signature, no secret for
 * the webhook, no match) or `INVALID_WEBHOOK` (no body, too large, not a JSON object, outside `maxAge`).
 * @example
 * import { verifyWebhook } from 'apivideo-auth/webhooks'
 *
 * export default {
 *   async fetch(request, env) {
 *     try {
 *       const event = await verifyWebhook(request, { secret: env.APIVIDEO_WEBHOOK_SECRET })
 *       if (event.type === 'video.encoding.quality.completed') console.log(event.videoId, event.quality)
 *       return new Response(null, { status: 204 })
 *     } catch (error) {
 *       return new Response(null, { status: error.code === 'INVALID_SIGNATURE' ? 401 : 400 })
 *     }
 *   },
 * }
 */
export async function verifyWebhook(input: WebhookInput, options: VerifyWebhookOptions): Promise<WebhookEvent> {
  const now = clockOf(options, VERIFY_OPTIONS)
  const { secret, maxAge } = options
  if (!(typeof secret === 'function' || isSecretList([secret].flat())))
    badArgument('secret must be a string, list or function')
  if (maxAge !== undefined && !(typeof maxAge === 'number' && maxAge >= 0))
    badArgument('maxAge must be a number of ms')
  const headers = (input as { headers?: WebhookInput['headers'] } | null)?.headers
  if (typeof headers !== 'object' || headers === null) refuse('INVALID_WEBHOOK', 'not a Request nor {headers, body}')

  const signature = header(headers, 'x-api-video-signature')
  if (!/^[0-9a-f]{64}$/i.test(signature)) refuse('INVALID_SIGNATURE', 'bad signature header')
  const body = await readBody((input as { body: unknown }).body)
  const id = header(headers, 'x-api-video-webhookid')
  const secrets = [typeof secret === 'function' ? id && (await secret(id)) : secret].flat()
  if (!isSecretList(secrets)) refuse('INVALID_SIGNATURE', 'no secret for the webhook')
  // 64 hex digits, checked above: 32 pairs.
  const digest = Uint8Array.from(signature.match(/../g) as string[], (hex) => parseInt(hex, 16))
  if (!(await signedByAny(secrets, digest, body))) refuse('INVALID_SIGNATURE', 'wrong signature')

  let event: unknown
  try {
    event = JSON.parse(new TextDecoder().decode(body))
  } catch {
    // Refused below, as any body that is not an event.
  }
  if (typeof (event as WebhookEvent | null)?.type !== 'string') refuse('INVALID_WEBHOOK', 'not a JSON event')
  if (maxAge !== undefined) {
    const age = now() - Date.parse((event as WebhookEvent).emittedAt)
    if (!(age <= maxAge && age >= -MINUTE)) refuse('INVALID_WEBHOOK', 'emittedAt outside maxAge')
  }
  return event as WebhookEvent
}

/**
 * A `secret` function for `verifyWebhook` that looks each webhook's `signatureSecret` up with
 * `GET /webhooks/{webhookId}` through `session`, and keeps it. What forged IDs can cost is bounded: an ID
 * that was not found is looked up again after a minute at the earliest, at most 5 IDs missing from the cache
 * are looked up a minute in all, and a 429 stops lookups until its `X-RateLimit-Retry-After`.
 * @example
 * import { createSession } from 'apivideo-auth'
 * import { verifyWebhook, webhookSecrets } from 'apivideo-auth/webhooks'
 *
 * const session = createSession({ apiKey: process.env.APIVIDEO_API_KEY })
 * const secret = webhookSecrets(session)
 * const event = await verifyWebhook(request, { secret })
 */
export function webhookSecrets(
  session: Pick<Session, 'fetch'>,
  options: WebhookSecretsOptions = {},
): (webhookId: string) => Promise<string | undefined> {
  if (typeof session?.fetch !== 'function') badArgument('session must be a session')
  const clock = clockOf(options, SECRETS_OPTIONS)
  /** Found secrets, and lookups in flight: one lookup for many deliveries. */
  const found = new Map<string, Promise<string | undefined>>()
  /**
   * IDs not found in this minute-long window and in the one before: each is looked up again after a minute at
   * the earliest, and at most 10 are held.
   */
  let unknown = new Set<string>()
  let unknownBefore = unknown
  let pausedUntil = 0
  let windowStart = -Infinity
  let lookups = 0

  /** The secret, or undefined for an ID api.video does not know; an error (network, auth) is not kept. */
  async function lookUp(id: string): Promise<string | undefined> {
    const response = await session.fetch(`/webhooks/${encodeURIComponent(id)}`)
    if (response.ok) {
      const secret = (await response.json())?.signatureSecret
      if (isSecret(secret)) return secret
    } else await response.body?.cancel()
    found.delete(id)
    // X-RateLimit-Retry-After is in seconds; a minute when it is absent.
    const retryAfter = Number(response.headers.get('x-ratelimit-retry-after')) || 60
    if (response.status === 429) pausedUntil = clock() + retryAfter * 1000
    else unknown.add(id)
    return undefined
  }

  return async (webhookId) => {
    const at = clock()
    const cached = found.get(webhookId)
    if (cached) return cached
    if (at - windowStart >= MINUTE) {
      windowStart = at
      lookups = 0
      unknownBefore = unknown
      unknown = new Set()
    }
    // At most 5 IDs missing from the cache are looked up a minute, so forged IDs cannot spend the rate limit.
    const spent = lookups >= 5 || at < pausedUntil
    if (spent || unknown.has(webhookId) || unknownBefore.has(webhookId)) return undefined
    lookups++
    const lookup = lookUp(webhookId)
    found.set(webhookId, lookup)
    // Only a found secret stays: lookUp forgets an ID not found, and an error is not kept.
    lookup.catch(() => found.delete(webhookId))
    return lookup
  }
}
