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
  /** `APIVIDEO_WEBHOOK_SECRET` from the environment when absent (Node, Bun, Deno); pass it on Workers. */
  secret?: WebhookSecret | undefined
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
  /**
   * How long one lookup may take, its answer's body included, in ms; 10 s by default. Past it the lookup is
   * abandoned (its fetch aborted) and the deliveries waiting on it reject with `TIMEOUT`.
   */
  timeout?: number | undefined
}

/** The largest body read: api.video's events are far smaller. */
const BODY_LIMIT = 64 * 1024
const MINUTE = 60_000
const ENV_SECRET = 'APIVIDEO_WEBHOOK_SECRET'
const HMAC = { name: 'HMAC', hash: 'SHA-256' }

function refuse(code: WebhookErrorCode, why: string): never {
  throw Object.assign(new Error(`webhook: ${why}`), {
    name: 'ApiVideoAuthError',
    code,
  })
}

const VERIFY_OPTIONS: Known<VerifyWebhookOptions> = { secret: true, maxAge: true, now: true }
const SECRETS_OPTIONS: Known<WebhookSecretsOptions> = { now: true, timeout: true }

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
    // What a body parser leaves on a request it skipped (another content type): undefined, or {} with Express 4's.
    const skipped = body == null || ((body as object).constructor === Object && !Object.keys(body).length)
    if (skipped) refuse('INVALID_WEBHOOK', 'empty body')
    // Anything else is a value a framework parsed from the body: no delivery makes it, only the receiver's setup.
    badArgument(
      'input.body was already parsed, and the signature needs the raw bytes: mount the webhook route before ' +
        "express.json(), or use express.raw({ type: 'application/json' }) on it " +
        '(Fastify: a buffer content-type parser)',
    )
  }
  if (bytes.length > BODY_LIMIT) refuse('INVALID_WEBHOOK', 'body over 64 KiB')
  if (!bytes.length) refuse('INVALID_WEBHOOK', 'empty body')
  return bytes
}

/** `APIVIDEO_WEBHOOK_SECRET`, where the runtime has an environment (Node, Bun; Deno with --allow-env); empty: none. */
function secretFromEnvironment(): string {
  const { Deno, process, navigator } = globalThis as any
  let secret: unknown
  try {
    secret = Deno ? Deno.env.get(ENV_SECRET) : process?.env?.[ENV_SECRET]
  } catch {
    // Deno without --allow-env: no environment.
  }
  if (isSecret(secret)) return secret as string
  const workers = navigator?.userAgent === 'Cloudflare-Workers'
  badArgument(
    `secret is missing: ${workers ? `pass { secret: env.${ENV_SECRET} }` : `pass { secret } or set ${ENV_SECRET}`}`,
  )
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
 * Without `secret`, `APIVIDEO_WEBHOOK_SECRET` from the environment (Node, Bun, Deno).
 *
 * A refusal rejects with a `WebhookError` (answer 401 or 400): `code` `INVALID_SIGNATURE` (no or malformed
 * signature, no secret for the webhook, no match) or `INVALID_WEBHOOK` (no body, too large, not a JSON object,
 * outside `maxAge`). Anything else is the receiver's fault (answer 500, and log it): a `TypeError` for a bad
 * argument (no secret at all, a body a framework already parsed), or the error of a `secret` function, such as
 * `webhookSecrets`'s failed lookup.
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
 *       const status = { INVALID_SIGNATURE: 401, INVALID_WEBHOOK: 400 }[error?.code]
 *       if (!status) console.error(error)
 *       return new Response(null, { status: status ?? 500 })
 *     }
 *   },
 * }
 */
export async function verifyWebhook(input: WebhookInput, options: VerifyWebhookOptions = {}): Promise<WebhookEvent> {
  const now = clockOf(options, VERIFY_OPTIONS)
  const { secret = secretFromEnvironment(), maxAge } = options
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
 * that was not found (404) is looked up again after a minute at the earliest, at most 5 IDs missing from the cache
 * are looked up a minute in all, and a 429 stops lookups until its `X-RateLimit-Retry-After`.
 *
 * A lookup that fails otherwise is no answer about the ID: it is not kept (the next delivery looks again), and
 * `verifyWebhook` rejects with an error named `ApiVideoAuthError` that is not a refusal, so the receiver answers
 * 5xx and api.video retries: `code` `SERVER_ERROR` (a 5xx), `RATE_LIMITED` (the 429), `UNEXPECTED_STATUS`
 * (another status), `INVALID_RESPONSE` (no secret in a 200), `NETWORK_ERROR` or `TIMEOUT` (past `timeout`, 10 s
 * by default), each with the `status` when there is one, or the session's own error (a refused API key).
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
  const { timeout = 10_000 } = options
  if (!(typeof timeout === 'number' && timeout >= 1 && timeout <= 2_147_483_647))
    badArgument('timeout must be 1 to 2147483647 ms')
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

  /** Why a lookup failed: not a refusal, and never the secret nor the ID (a forged one could be anything). */
  function failed(code: string, status?: number): Error {
    const error = new Error(`webhook: the secret lookup failed: ${code}${status ? ` (HTTP ${status})` : ''}`)
    return Object.assign(error, { name: 'ApiVideoAuthError', code }, status ? { status } : {})
  }

  /** The secret, or undefined for an ID api.video does not know (404); any other answer rejects. */
  async function answer(id: string, response: Response): Promise<string | undefined> {
    const { status } = response
    if (response.ok) {
      const secret = (await response.json().catch(() => undefined))?.signatureSecret
      if (isSecret(secret)) return secret as string
      throw failed('INVALID_RESPONSE', status)
    }
    await response.body?.cancel()
    if (status === 404) {
      unknown.add(id)
      return undefined
    }
    if (status === 429) {
      // X-RateLimit-Retry-After is in seconds; a minute when it is absent.
      pausedUntil = clock() + (Number(response.headers.get('x-ratelimit-retry-after')) || 60) * 1000
      throw failed('RATE_LIMITED', status)
    }
    throw failed(status > 499 ? 'SERVER_ERROR' : 'UNEXPECTED_STATUS', status)
  }

  /**
   * One lookup, abandoned after `timeout`: its fetch is aborted, and the deliveries waiting on it reject even when
   * `session.fetch` ignores the signal.
   */
  async function lookUp(id: string): Promise<string | undefined> {
    const controller = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = failed('TIMEOUT')
        controller.abort(error)
        reject(error)
      }, timeout)
    })
    const looked = session.fetch(`/webhooks/${encodeURIComponent(id)}`, { signal: controller.signal }).then(
      (response) => answer(id, response),
      (error: unknown) => {
        // The session's own errors (a refused API key) as they are; fetch's own TypeError is the network's.
        if ((error as Error | undefined)?.name === 'ApiVideoAuthError') throw error
        throw Object.assign(failed('NETWORK_ERROR'), { cause: error })
      },
    )
    try {
      return await Promise.race([looked, expired])
    } finally {
      clearTimeout(timer)
    }
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
    // Only a found secret stays: after a 404 (remembered apart, for a minute) or a failure, the next delivery looks.
    const forget = () => found.delete(webhookId)
    lookup.then((secret) => secret ?? forget(), forget)
    return lookup
  }
}
