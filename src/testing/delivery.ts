// Webhook deliveries as api.video makes them: the body, its signature, the POST, and the retry rule.
import { encode, hex } from '../internal/bytes.js'
import { badArgument } from '../internal/errors.js'
import { type Known, checkOptions } from '../internal/options.js'
import { nonce } from './ids.js'

/** An event to deliver: its `type`, and any fields; `emittedAt` is the clock's time unless given. */
export interface WebhookEventInit {
  type: string
  emittedAt?: string | undefined
  [field: string]: unknown
}

/** Options of a delivery. */
export interface DeliverOptions {
  /**
   * api.video's retry rule: after a status above 299 (or no answer), three more tries, 3 s apart, with the same
   * body and signature. Off by default: one try.
   */
  retry?: boolean | undefined
  /** How the URL is reached; the global `fetch` by default. */
  fetch?: typeof fetch | undefined
  /** How the 3 s between tries are waited; a timer by default. Tests pass `async () => {}` and count the calls. */
  wait?: ((ms: number) => Promise<unknown>) | undefined
}

/** Options of `deliverWebhook`: the subscription's secret and ID, and how to deliver. */
export interface DeliverWebhookOptions extends DeliverOptions {
  secret: string
  webhookId?: string | undefined
}

/** What became of one delivery: what was sent (never the secret), and the status of each try (0: no answer). */
export interface WebhookDelivery {
  webhookId: string
  url: string
  /** The body exactly as sent and signed. */
  body: string
  statuses: number[]
  /** True when the last try answered 200-299. */
  delivered: boolean
}

const DELIVER_OPTIONS: Known<DeliverOptions> = { retry: true, fetch: true, wait: true }
const RETRIES = 3
const RETRY_DELAY = 3000

/**
 * The `X-Api-Video-Signature` api.video sends with `body`: HMAC-SHA256 of its bytes under the webhook's
 * `signatureSecret`, as 64 lowercase hex digits.
 * @example
 * const signature = await signWebhook('{"type":"video.encoding.quality.completed"}', 'sig_sec_test')
 */
export async function signWebhook(body: string | Uint8Array, secret: string): Promise<string> {
  if (typeof secret !== 'string' || secret === '') badArgument('secret must be a non-empty string')
  if (!(typeof body === 'string' || body instanceof Uint8Array)) badArgument('body must be a string or bytes')
  const algorithm = { name: 'HMAC', hash: 'SHA-256' }
  const key = await crypto.subtle.importKey('raw', encode(secret), algorithm, false, ['sign'])
  const bytes = typeof body === 'string' ? encode(body) : body
  return hex(await crypto.subtle.sign('HMAC', key, bytes as Uint8Array<ArrayBuffer>))
}

/** The body api.video would send for `event`: `type` and `emittedAt` first, then the other fields. */
export function eventBody(event: WebhookEventInit, at: number): string {
  if (typeof event?.type !== 'string') badArgument('event must be an object with a string type')
  const { type, emittedAt = new Date(at).toISOString().replace('Z', '+00:00'), ...fields } = event
  return JSON.stringify({ type, emittedAt, ...fields })
}

/** A made-up webhook ID, as api.video's look: `webhook_` and 15 characters. */
export const webhookId = (): string => `webhook_${nonce().slice(0, 15)}`

/**
 * Delivers `event` to `url` as api.video does: a JSON `POST` with `X-Api-Video-WebhookID` and
 * `X-Api-Video-Signature`, and with `retry`, api.video's retry rule. Resolves with what became of it; a
 * refusal or a network failure is a status, never a rejection.
 * @example
 * const delivery = await deliverWebhook('http://127.0.0.1:8080/hook', { type: 'video.encoding.quality.completed',
 *   videoId: 'vi4blUQJFrYWbaG44NChkH27', encoding: 'hls', quality: '720p' }, { secret: 'sig_sec_test' })
 * delivery.statuses   // [204]
 */
export async function deliverWebhook(
  url: string | URL,
  event: WebhookEventInit,
  options: DeliverWebhookOptions,
): Promise<WebhookDelivery> {
  const { secret, webhookId: id = webhookId(), ...deliver } = options ?? {}
  let protocol = ''
  try {
    protocol = new URL(url).protocol
  } catch {
    // Not a URL: refused below.
  }
  if (!/^https?:$/.test(protocol)) badArgument('url must be an http: or https: URL')
  return deliverSigned({ url: String(url), webhookId: id, body: eventBody(event, Date.now()), secret }, deliver)
}

/** One delivery to make: where, for which subscription, what, signed with which secret. */
export interface Delivery {
  url: string
  webhookId: string
  body: string
  secret: string
}

/** Makes one delivery, signed, with api.video's retry rule when `options.retry` says so. */
export async function deliverSigned(delivery: Delivery, options: DeliverOptions): Promise<WebhookDelivery> {
  const { url, webhookId: id, body, secret } = delivery
  const { retry = false, fetch: post = globalThis.fetch, wait = delay } = checkOptions(options, DELIVER_OPTIONS)
  if (typeof post !== 'function' || typeof wait !== 'function') badArgument('fetch and wait must be functions')
  const headers = {
    'content-type': 'application/json',
    'x-api-video-webhookid': id,
    'x-api-video-signature': await signWebhook(body, secret),
  }
  const statuses: number[] = []
  for (let attempt = 0; attempt <= (retry ? RETRIES : 0); attempt++) {
    if (attempt > 0) await wait(RETRY_DELAY)
    const status = await post(url, { method: 'POST', headers, body }).then(
      async (response) => {
        await response.body?.cancel()
        return response.status
      },
      () => 0,
    )
    statuses.push(status)
    if (status >= 200 && status <= 299) break
  }
  const last = statuses.at(-1) ?? 0
  return { webhookId: id, url, body, statuses, delivered: last >= 200 && last <= 299 }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
