// The stand-in: its state, the one list of routes it dispatches over, and the steps a request takes before its
// route answers. Each route and step lives in its own file; this one only wires them.
import { refuseOutsider, controlRoutes } from './control.js'
import { type Authorization, createTokens, readAuthorization } from './credentials.js'
import type { DeliverOptions, WebhookDelivery, WebhookEventInit } from './delivery.js'
import { type Fault, createFaults } from './faults.js'
import { readBody, tooLarge } from './http.js'
import { type StandInOptions, readOptions } from './options.js'
import { createRateLimits } from './rate-limits.js'
import { type StandInCounts, type StandInRequest, createRequestLog } from './request-log.js'
import { type Access, type Call, type Route, findRoute } from './route.js'
import { authRoutes } from './routes/auth.js'
import { catchAll } from './routes/catch-all.js'
import { createUploadTokens } from './routes/upload-tokens.js'
import { createVideos } from './routes/videos.js'
import { DELIVERY_ORIGINS, createPrivateDelivery } from './private-delivery.js'
import { createWebhooks } from './routes/webhooks.js'

/**
 * An offline api.video: the two auth endpoints, videos and delegated upload tokens kept in memory, and every other
 * path as a protected resource.
 *
 * Resources accept what api.video accepts: `Authorization: Bearer <a live access token>` or
 * `Authorization: Basic base64("<a known key>:")`; anything else is a 401 with api.video's problem body.
 * `POST`/`GET /videos`, `GET`/`PATCH`/`DELETE /videos/{videoId}`, `POST`/`GET /upload-tokens` and
 * `GET`/`DELETE /upload-tokens/{uploadToken}` answer as api.video does, in the shapes of its OpenAPI document;
 * `POST /upload?token=…` takes a multipart `file` and a live upload token in place of credentials.
 * An accepted `GET` on another list route (`/live-streams`, `/players`, `/watermarks`) answers an empty first page
 * in api.video's list shape, with `currentPage` and `pageSize` taken from the query (1 and 25 by default).
 * Any other accepted request answers 200 with the echo `{ "method": "<method>", "path": "<path without query>" }`.
 * A request body over 1 MiB is a 413, read no further than the chunk that crossed the limit. The auth endpoints
 * under a prefix (`/v1/auth/api-key`: a base URL with a path) are api.video's 404.
 * The `/webhooks` routes are api.video's: create, list, get and delete subscriptions, and `deliver()` sends
 * them signed events (docs/webhooks.md).
 *
 * It holds at most 10,000 live access tokens, 10,000 refresh tokens, 10,000 upload tokens and 1,000 videos (expired
 * tokens are dropped, then the oldest of each kind): a forgotten token is refused as a revoked one would be.
 */
export interface StandIn {
  /** Answers one request as api.video would; serve it with `Deno.serve`, `Bun.serve`, a Worker or `node:http`. */
  handler(request: Request): Promise<Response>
  /** A fetch that answers from the stand-in, whatever the URL's origin; pass it as the `fetch` option. */
  fetch: typeof fetch
  /** The latest requests received, oldest first (at most `keepRequests`). */
  readonly requests: StandInRequest[]
  /** Totals of every request received, forgotten ones included; a fresh copy on each read. */
  readonly counts: StandInCounts
  /** Queues faults for a path, one per request, before its normal answers resume. */
  fail(path: string, ...faults: Fault[]): void
  /** Invalidates every access token issued so far; refresh tokens stay valid. */
  revoke(): void
  /** Delivers `event`, signed, to each webhook subscribed to its type (created with `POST /webhooks`). */
  deliver(event: WebhookEventInit, options?: DeliverOptions): Promise<WebhookDelivery[]>
}

/** A step a request takes before its route answers: an answer ends the request there, undefined lets it go on. */
type Step = (call: Call, route: Route) => Response | undefined | Promise<Response | undefined>

/**
 * Creates an api.video stand-in for tests and local development: JSON token pairs, rotating single-use refresh
 * tokens, api.video's problem bodies, protected resources that take a Bearer token or Basic credentials, faults
 * on demand, and a record of requests that never holds a secret. Zero dependencies; runs wherever `Request`
 * and `Response` do.
 * @example
 * const standIn = createStandIn({ apiKeys: ['test-key'] })
 * const session = createSession({ apiKey: 'test-key', fetch: standIn.fetch })
 * const { data } = await (await session.fetch('/videos')).json()   // [] : no video yet
 * standIn.fail('/auth/refresh', { status: 503 })
 * standIn.counts.carriedApiKey                                       // 1: the first /auth/api-key
 */
export function createStandIn(options: StandInOptions = {}): StandIn {
  const { apiKeys, now, keepRequests, controlRoutes: controlled, expiresIn, rateLimits } = readOptions(options)
  const tokens = createTokens(apiKeys, now, expiresIn)
  const faults = createFaults()
  const log = createRequestLog(keepRequests, now)
  const videos = createVideos(now, (video) => delivery.show(video))
  const delivery = createPrivateDelivery(now, (videoId) => videos.get(videoId))
  const uploadTokens = createUploadTokens(now, videos)
  const webhooks = createWebhooks(now)
  const limits = createRateLimits(now, rateLimits, {
    uploadKeyOf: uploadTokens.apiKeyOf,
    refused: () => log.countRateLimited(),
  })
  const report = () => ({ requests: log.requests, counts: log.counts() })

  /** Every route, in the order they are matched: the first that answers a request's method and path answers it. */
  const routes: Route[] = [
    ...(controlled
      ? controlRoutes({
          revoke: tokens.revoke,
          fail: faults.queue,
          setExpiresIn: tokens.setExpiresIn,
          report,
          deliver: webhooks.deliver,
          setRateLimits: (next) => limits.set(next),
        })
      : []),
    ...authRoutes(tokens),
    ...delivery.routes,
    ...videos.routes,
    ...uploadTokens.routes,
    ...webhooks.routes,
    catchAll,
  ]

  /** The caller of an `'api'` route must hold a live token or a known key: the key it belongs to goes on the call. */
  const authorize: Step = (call) => {
    const apiKey = tokens.apiKeyOf(call.authorization)
    if (apiKey instanceof Response) return apiKey
    call.apiKey = apiKey
    return undefined
  }
  // A request to a delivery origin finds a delivery route only (see dispatch).
  const record: Step = (call, route) => log.record(call, route.access === 'delivery')
  const refuseOverLimit: Step = (call) => (call.overLimit ? tooLarge() : undefined)
  const playFault: Step = ({ request, url }) => faults.play(request, url.pathname)

  /**
   * The steps of each kind of route, in order. api.video's routes are recorded, then faults apply; the control
   * routes are neither recorded nor subject to faults.
   */
  const steps: Record<Access, Step[]> = {
    api: [record, refuseOverLimit, playFault, authorize, limits.count],
    open: [record, refuseOverLimit, playFault, limits.count],
    control: [refuseOutsider, refuseOverLimit],
    delivery: [record, refuseOverLimit, playFault],
  }

  async function dispatch(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const candidates = DELIVERY_ORIGINS.includes(url.origin) ? delivery.originRoutes : routes
    const [route, respond, id] = findRoute(candidates, request.method, url.pathname)
    const body = await readBody(request)
    const authorization: Authorization = readAuthorization(request.headers.get('authorization'))
    const call: Call = {
      request,
      url,
      id,
      body: body ?? new Uint8Array(0),
      overLimit: body === undefined,
      authorization,
    }
    for (const step of steps[route.access]) {
      const early = await step(call, route)
      if (early) return early
    }
    const response = await respond(call)
    call.rateLimit?.forEach((value, name) => response.headers.set(name, value))
    return response
  }

  /** Like fetch, the answer carries the request's URL, and an aborted request rejects with the signal's reason. */
  async function handler(request: Request): Promise<Response> {
    if (request.signal.aborted) throw request.signal.reason
    const response = await dispatch(request)
    return Object.defineProperty(response, 'url', { value: request.url })
  }

  return Object.freeze({
    handler,
    fetch: (input: RequestInfo | URL, init?: RequestInit) => handler(new Request(input, init)),
    requests: log.requests,
    get counts(): StandInCounts {
      return log.counts()
    },
    fail: faults.queue,
    revoke: tokens.revoke,
    deliver: webhooks.deliver,
  })
}
