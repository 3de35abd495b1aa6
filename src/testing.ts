/** One scripted answer: an HTTP reply, a pause before the normal answer, or a dropped connection. */
export type Fault =
  | { status: number; body?: unknown; headers?: ConstructorParameters<typeof Headers>[0] }
  | { delay: number }
  | { networkError: true }

/**
 * The credential a request carried, as the stand-in judged it: the JSON body on `/auth/api-key` (`'api-key'`) and
 * `/auth/refresh` (`'refresh-token'`), the `Authorization` header elsewhere (`'basic'`, `'bearer'`, another scheme
 * `'other'`), or nothing at all (`'none'`).
 */
export type Credential = 'api-key' | 'refresh-token' | 'basic' | 'bearer' | 'other' | 'none'

/** A request as the stand-in saw it: never its body or headers, so never a secret. */
export interface StandInRequest {
  method: string
  /** The URL's path, without its query. */
  path: string
  /** When it arrived, from the stand-in's clock (epoch ms). */
  at: number
  /** The kind of credential it carried (never the credential itself). */
  credential: Credential
  /** True when it carried an API key, known or not: in an `/auth/api-key` body or as a `Basic` user name. */
  carriedApiKey: boolean
}

/** Running totals since the stand-in was created; unlike `requests`, they forget nothing. */
export interface StandInCounts {
  /** Every request received. */
  requests: number
  /** Requests to `/auth/api-key` or `/auth/refresh`. */
  auth: number
  /** Requests to any other path. */
  resource: number
  /** Requests that carried an API key, in an `/auth/api-key` body or a `Basic` header. */
  carriedApiKey: number
  /** Requests by the kind of credential they carried. */
  credentials: Record<Credential, number>
}

export interface StandInOptions {
  /** Keys that `/auth/api-key` and `Basic` credentials accept; `['test-key']` by default. */
  apiKeys?: string[] | undefined
  /** Lifetime of the tokens it issues, in seconds; 3600 by default. */
  expiresIn?: number | undefined
  /** Its clock, epoch ms; `Date.now` by default. Share it with the session under test. */
  now?: (() => number) | undefined
  /** How many of the latest requests `requests` keeps: 1,000 by default; `Infinity` keeps them all. */
  keepRequests?: number | undefined
}

/**
 * An offline api.video: the two auth endpoints, and every other path as a protected resource.
 *
 * Resources accept what api.video accepts: `Authorization: Bearer <a live access token>` or
 * `Authorization: Basic base64("<a known key>:")`; anything else is a 401 with api.video's problem body.
 * An accepted `GET` on a list route (`/videos`, `/live-streams`, `/players`, `/webhooks`, `/upload-tokens`,
 * `/watermarks`) answers an empty first page in api.video's list shape: `{ "data": [], "pagination":
 * { currentPage, pageSize, pagesTotal: 1, itemsTotal: 0, currentPageItems: 0, links: [self, first, last] } }`,
 * with `currentPage` and `pageSize` taken from the query (1 and 25 by default). Any other accepted request
 * answers 200 with the echo `{ "method": "<method>", "path": "<path without query>" }`.
 * The `/webhooks` routes are api.video's: create, list, get and delete subscriptions, and `deliver()` sends
 * them signed events (docs/webhooks.md).
 *
 * It holds at most 10,000 live access tokens and 10,000 refresh tokens (expired access tokens are dropped,
 * then the oldest of either kind): a forgotten token is refused as a revoked one would be.
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

type Problem = { type: string; title: string; name: string; status: number }
const problem = (status: number, type: string, title: string): Problem => ({
  type: `https://docs.api.video/reference/${type}`,
  title,
  name: '',
  status,
})
const INVALID_CREDENTIALS = problem(
  400,
  'authentication-invalid-user-credentials',
  'The user credentials were incorrect.',
)
const INVALID_TOKEN = problem(401, 'authentication-invalid-access-token', 'The access token is invalid or expired.')
const INVALID_API_KEY = problem(401, 'authentication-invalid-api-key', 'The API key is invalid.')
// api.video's answer to a body that is not JSON is not documented: this one says what is wrong.
const WRONG_CONTENT_TYPE: Problem = {
  type: 'about:blank',
  title: 'The content type is wrong: send the body as application/json.',
  name: '',
  status: 400,
}
const NULL_BODY = [204, 205, 304]
const AUTH_PATHS = ['/auth/api-key', '/auth/refresh']
const LIST_PATHS = ['/videos', '/live-streams', '/players', '/webhooks', '/upload-tokens', '/watermarks']
const MAX_TOKENS = 10_000
const CREDENTIALS: Credential[] = ['api-key', 'refresh-token', 'basic', 'bearer', 'other', 'none']

/**
 * Creates an api.video stand-in for tests and local development: JSON token pairs, rotating single-use refresh
 * tokens, api.video's problem bodies, protected resources that take a Bearer token or Basic credentials, faults
 * on demand, and a record of requests that never holds a secret. Zero dependencies; runs wherever `Request`
 * and `Response` do.
 * @example
 * const standIn = createStandIn({ apiKeys: ['test-key'] })
 * const session = createSession({ apiKey: 'test-key', fetch: standIn.fetch })
 * const { data } = await (await session.fetch('/videos')).json()   // [] : an empty first page
 * standIn.fail('/auth/refresh', { status: 503 })
 * standIn.counts.carriedApiKey                                       // 1: the first /auth/api-key
 */
export function createStandIn(options: StandInOptions = {}): StandIn {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  const { apiKeys = ['test-key'], expiresIn = 3600, now = Date.now, keepRequests = 1000, ...unknown } = options
  const [extra] = Object.keys(unknown)
  if (extra !== undefined) throw new TypeError(`unknown option ${extra} of createStandIn`)
  if (!Array.isArray(apiKeys) || !apiKeys.every((k) => typeof k === 'string'))
    throw new TypeError('apiKeys must be an array of strings')
  if (typeof expiresIn !== 'number' || !(expiresIn > 0 && expiresIn < Infinity))
    throw new TypeError('expiresIn must be a positive number')
  if (typeof now !== 'function') throw new TypeError('now must be a function')
  if (
    typeof keepRequests !== 'number' ||
    !(keepRequests >= 0) ||
    !(Number.isInteger(keepRequests) || keepRequests === Infinity)
  ) {
    throw new TypeError('keepRequests must be a whole number of requests, or Infinity')
  }
  const accessTokens = new Map<string, number>() // token -> expiry (epoch ms), oldest first
  const refreshTokens = new Set<string>() // oldest first
  const faults = new Map<string, Fault[]>()
  const requests: StandInRequest[] = []
  const webhooks = webhookRoutes(now)
  const counts: StandInCounts = {
    requests: 0,
    auth: 0,
    resource: 0,
    carriedApiKey: 0,
    credentials: Object.fromEntries(CREDENTIALS.map((c) => [c, 0])) as Record<Credential, number>,
  }

  /** Forgets expired access tokens, then the oldest tokens beyond the cap. */
  function prune(at: number): void {
    for (const [token, expiresAt] of accessTokens) {
      if (expiresAt > at) break
      accessTokens.delete(token)
    }
    while (accessTokens.size > MAX_TOKENS) accessTokens.delete(accessTokens.keys().next().value!)
    while (refreshTokens.size > MAX_TOKENS) refreshTokens.delete(refreshTokens.values().next().value!)
  }

  function issue(): Response {
    const accessToken = `at.${nonce()}`
    const refreshToken = `rt.${nonce()}`
    const at = now()
    accessTokens.set(accessToken, at + expiresIn * 1000)
    refreshTokens.add(refreshToken)
    prune(at)
    return json(200, {
      token_type: 'Bearer',
      expires_in: expiresIn,
      access_token: accessToken,
      refresh_token: refreshToken,
    })
  }

  /** `/auth/api-key` takes a known key; `/auth/refresh` takes a refresh token once. Both want a JSON POST. */
  function grant(request: Request, path: string, body: Record<string, unknown> | undefined): Response {
    const isJson = /^application\/json\s*(;|$)/i.test(request.headers.get('content-type') ?? '')
    if (request.method === 'POST' && !isJson) return json(400, WRONG_CONTENT_TYPE)
    const given = request.method === 'POST' ? body : undefined
    const accepted =
      path === '/auth/api-key'
        ? apiKeys.includes(given?.apiKey as string)
        : refreshTokens.delete(given?.refreshToken as string)
    return accepted ? issue() : json(400, INVALID_CREDENTIALS)
  }

  function resource(request: Request, url: URL, authorization: Authorization): Response {
    if (authorization.kind === 'basic' && !(authorization.password === '' && apiKeys.includes(authorization.user)))
      return json(401, INVALID_API_KEY)
    const expiresAt = authorization.kind === 'bearer' ? accessTokens.get(authorization.token) : undefined
    if (authorization.kind !== 'basic' && !(expiresAt && expiresAt > now())) return json(401, INVALID_TOKEN)
    if (request.method === 'GET' && LIST_PATHS.includes(url.pathname)) return json(200, emptyPage(url))
    return json(200, { method: request.method, path: url.pathname })
  }

  function record(request: Request, path: string, credential: Credential, carriedApiKey: boolean): void {
    counts.requests++
    counts[AUTH_PATHS.includes(path) ? 'auth' : 'resource']++
    counts.credentials[credential]++
    if (carriedApiKey) counts.carriedApiKey++
    if (keepRequests === 0) return
    requests.push({ method: request.method, path, at: now(), credential, carriedApiKey })
    if (requests.length > keepRequests) requests.shift()
  }

  async function answer(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const path = url.pathname
    const authorization = readAuthorization(request.headers.get('authorization'))
    // The body is read whatever its content type, so that the record tells which secrets were on the wire.
    const body = AUTH_PATHS.includes(path) ? await readJsonObject(request) : undefined
    const credential =
      path === '/auth/api-key'
        ? typeof body?.apiKey === 'string'
          ? 'api-key'
          : 'none'
        : path === '/auth/refresh'
          ? typeof body?.refreshToken === 'string'
            ? 'refresh-token'
            : 'none'
          : authorization.kind
    const keyInBody = path === '/auth/api-key' && typeof body?.apiKey === 'string' && body.apiKey !== ''
    record(request, path, credential, keyInBody || (authorization.kind === 'basic' && authorization.user !== ''))
    const fault = faults.get(path)?.shift()
    if (fault && 'networkError' in fault) throw new TypeError('stand-in: connection reset')
    if (fault && 'delay' in fault) await pause(fault.delay, request.signal)
    if (fault && 'status' in fault) {
      const faultBody = fault.body ?? {
        type: 'about:blank',
        title: `Stand-in fault ${fault.status}.`,
        name: '',
        status: fault.status,
      }
      return json(fault.status, faultBody, fault.headers)
    }
    if (AUTH_PATHS.includes(path)) return grant(request, path, body)
    const answered = resource(request, url, authorization)
    return answered.ok && webhooks.isWebhookPath(path) ? webhooks.answer(request, url) : answered
  }

  /** Like fetch, the answer carries the request's URL, and an aborted request rejects with the signal's reason. */
  async function handler(request: Request): Promise<Response> {
    if (request.signal.aborted) throw request.signal.reason
    const response = await answer(request)
    return Object.defineProperty(response, 'url', { value: request.url })
  }

  function fail(path: string, ...more: Fault[]): void {
    // Faults match on the path alone: a query or hash would never match.
    if (typeof path !== 'string' || !/^\/[^?#]*$/.test(path))
      throw new TypeError('path must be a string starting with "/", with no query or hash')
    more.forEach(checkFault)
    faults.set(path, [...(faults.get(path) ?? []), ...more])
  }

  return Object.freeze({
    handler,
    fetch: (input: RequestInfo | URL, init?: RequestInit) => handler(new Request(input, init)),
    requests,
    get counts(): StandInCounts {
      return { ...counts, credentials: { ...counts.credentials } }
    },
    fail,
    revoke: () => accessTokens.clear(),
    deliver: webhooks.deliver,
  })
}

type Authorization =
  { kind: 'basic'; user: string; password: string } | { kind: 'bearer'; token: string } | { kind: 'other' | 'none' }

/** The `Authorization` header's scheme and credentials; Basic credentials are `base64("user:password")` in UTF-8. */
function readAuthorization(header: string | null): Authorization {
  if (!header) return { kind: 'none' }
  const bearer = /^Bearer +(\S+)$/i.exec(header)
  if (bearer) return { kind: 'bearer', token: bearer[1] }
  const basic = /^Basic +(\S*)$/i.exec(header)
  if (!basic) return { kind: 'other' }
  let decoded: string
  try {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(basic[1])) throw new TypeError('not base64')
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(
      Uint8Array.from(atob(basic[1]), (c) => c.charCodeAt(0)),
    )
  } catch {
    return { kind: 'basic', user: '', password: '' }
  }
  const colon = decoded.indexOf(':')
  return colon < 0
    ? { kind: 'basic', user: decoded, password: '' }
    : { kind: 'basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

/** An empty first page in api.video's list shape, for the page and size the query asks. */
function emptyPage(url: URL) {
  const whole = (name: string, fallback: number, max: number) => {
    const n = Number(url.searchParams.get(name) ?? fallback)
    return Number.isInteger(n) && n >= 1 && n <= max ? n : fallback
  }
  const currentPage = whole('currentPage', 1, Number.MAX_SAFE_INTEGER)
  const pageSize = whole('pageSize', 25, 100)
  const link = (rel: string, page: number) => ({
    rel,
    uri: `${url.origin}${url.pathname}?currentPage=${page}&pageSize=${pageSize}`,
  })
  return {
    data: [],
    pagination: {
      currentPage,
      pageSize,
      pagesTotal: 1,
      itemsTotal: 0,
      currentPageItems: 0,
      links: [link('self', currentPage), link('first', 1), link('last', 1)],
    },
  }
}

/** A fault checked whole when given, so a mistake is a TypeError now, not a network error at the next request. */
function checkFault(fault: Fault): void {
  const f = (fault ?? {}) as Record<string, unknown>
  let ok =
    ('status' in f && Number.isInteger(f.status) && (f.status as number) >= 200 && (f.status as number) <= 599) ||
    ('delay' in f && typeof f.delay === 'number' && f.delay >= 0 && f.delay <= 2_147_483_647) ||
    f.networkError === true
  try {
    new Headers(f.headers as HeadersInit | undefined)
    JSON.stringify(f.body)
  } catch {
    ok = false
  }
  if (!ok)
    throw new TypeError(
      'faults must each be { status: 200-599, body?: JSON, headers?: valid headers }, { delay: 0-2147483647 ms }' +
        ' or { networkError: true }',
    )
}

async function readJsonObject(request: Request): Promise<Record<string, unknown> | undefined> {
  try {
    const body = await request.json()
    return typeof body === 'object' && body !== null ? body : undefined
  } catch {
    return undefined
  }
}

function json(status: number, body: unknown, headers?: HeadersInit): Response {
  const h = new Headers(headers)
  if (NULL_BODY.includes(status)) return new Response(null, { status, headers: h })
  if (!h.has('content-type')) h.set('content-type', 'application/json')
  return new Response(JSON.stringify(body), { status, headers: h })
}

/** Waits `ms`, or less if the request is aborted: no timer outlives its request. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      if (signal.aborted) reject(signal.reason)
      else resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done)
  })
}

function nonce(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('')
}

// ---------------------------------------------------------------------------------------------------------------
// Webhooks: api.video's /webhooks routes, and signed deliveries (see docs/webhooks.md)
// ---------------------------------------------------------------------------------------------------------------

/** The events api.video sends to a webhook. */
export const WEBHOOK_EVENTS = [
  'live-stream.broadcast.started',
  'live-stream.broadcast.ended',
  'video.source.recorded',
  'video.encoding.quality.completed',
  'video.caption.generated',
  'video.summary.generated',
] as const

/** A subscription as api.video returns it, `signatureSecret` included. */
export interface StandInWebhook {
  webhookId: string
  createdAt: string
  events: string[]
  url: string
  signatureSecret: string
}

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

const WEBHOOK_PATH = /^\/webhooks(\/[^/]+)?$/
const RETRIES = 3
const RETRY_DELAY = 3000
const argumentError = (message: string, code = 'ERR_INVALID_ARGUMENT') =>
  Object.assign(new TypeError(message), { code })
const hex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('')

/**
 * The `X-Api-Video-Signature` api.video sends with `body`: HMAC-SHA256 of its bytes under the webhook's
 * `signatureSecret`, as 64 lowercase hex digits.
 * @example
 * const signature = await signWebhook('{"type":"video.encoding.quality.completed"}', 'sig_sec_test')
 */
export async function signWebhook(body: string | Uint8Array, secret: string): Promise<string> {
  if (typeof secret !== 'string' || secret === '') throw argumentError('secret must be a non-empty string')
  if (!(typeof body === 'string' || body instanceof Uint8Array)) throw argumentError('body must be a string or bytes')
  const algorithm = { name: 'HMAC', hash: 'SHA-256' }
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), algorithm, false, ['sign'])
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body
  return hex(await crypto.subtle.sign('HMAC', key, bytes as Uint8Array<ArrayBuffer>))
}

/** The body api.video would send for `event`: `type` and `emittedAt` first, then the other fields. */
function eventBody(event: WebhookEventInit, at: number): string {
  if (typeof event?.type !== 'string') throw argumentError('event must be an object with a string type')
  const { type, emittedAt = new Date(at).toISOString().replace('Z', '+00:00'), ...fields } = event
  return JSON.stringify({ type, emittedAt, ...fields })
}

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
  const { secret, webhookId = `webhook_${nonce().slice(0, 15)}`, ...deliver } = options ?? {}
  let protocol = ''
  try {
    protocol = new URL(url).protocol
  } catch {
    // Not a URL: refused below.
  }
  if (!/^https?:$/.test(protocol)) throw argumentError('url must be an http: or https: URL')
  return send(String(url), webhookId, eventBody(event, Date.now()), secret, deliver)
}

async function send(
  url: string,
  webhookId: string,
  body: string,
  secret: string,
  options: DeliverOptions,
): Promise<WebhookDelivery> {
  const { retry = false, fetch: send = globalThis.fetch, wait = delay, ...unknown } = options
  const [extra] = Object.keys(unknown)
  if (extra !== undefined) throw argumentError(`unknown option ${extra} of a webhook delivery`, 'ERR_UNKNOWN_OPTION')
  if (typeof send !== 'function' || typeof wait !== 'function')
    throw argumentError('fetch and wait must be functions')
  const headers = {
    'content-type': 'application/json',
    'x-api-video-webhookid': webhookId,
    'x-api-video-signature': await signWebhook(body, secret),
  }
  const statuses: number[] = []
  for (let attempt = 0; attempt <= (retry ? RETRIES : 0); attempt++) {
    if (attempt > 0) await wait(RETRY_DELAY)
    const status = await send(url, { method: 'POST', headers, body }).then(
      async (response) => (await response.body?.cancel(), response.status),
      () => 0,
    )
    statuses.push(status)
    if (status >= 200 && status <= 299) break
  }
  const last = statuses.at(-1) ?? 0
  return { webhookId, url, body, statuses, delivered: last >= 200 && last <= 299 }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The stand-in's subscriptions, and the `/webhooks` routes that manage them. */
function webhookRoutes(now: () => number) {
  const webhooks = new Map<string, StandInWebhook>()

  async function create(request: Request): Promise<Response> {
    const body = await readJsonObject(request)
    const { url, events } = body ?? {}
    const badUrl = typeof url !== 'string' || !/^https?:\/\/[^/]/.test(url)
    const badEvents =
      !Array.isArray(events) || events.length === 0 || !events.every((e) => WEBHOOK_EVENTS.includes(e))
    if (badUrl || badEvents) {
      const name = badUrl ? 'url' : 'events'
      const missing = body?.[name] === undefined
      const type = missing ? 'attribute-required' : 'invalid-attribute'
      const title = missing ? 'This attribute is required.' : 'This attribute is invalid.'
      return json(400, { ...problem(400, type, title), name })
    }
    const webhook: StandInWebhook = {
      webhookId: `webhook_${nonce().slice(0, 15)}`,
      createdAt: new Date(now()).toISOString().slice(0, 19) + '+00:00',
      events: [...new Set(events as string[])],
      url: url as string,
      signatureSecret: `sig_sec_${nonce().slice(0, 22)}`,
    }
    webhooks.set(webhook.webhookId, webhook)
    return json(201, webhook)
  }

  /** `GET /webhooks`: the subscriptions, filtered by `events`, a page at a time. */
  function list(url: URL): Response {
    const page = emptyPage(url)
    const { currentPage, pageSize } = page.pagination
    const event = url.searchParams.get('events')
    const all = [...webhooks.values()].filter((w) => event === null || w.events.includes(event))
    const data = all.slice((currentPage - 1) * pageSize, currentPage * pageSize)
    const pagesTotal = Math.max(1, Math.ceil(all.length / pageSize))
    const last = page.pagination.links.find((l) => l.rel === 'last')
    if (last) last.uri = last.uri.replace('currentPage=1', `currentPage=${pagesTotal}`)
    const pagination = { ...page.pagination, pagesTotal, itemsTotal: all.length, currentPageItems: data.length }
    return json(200, { data, pagination })
  }

  /** Answers an authorized request on `/webhooks` or `/webhooks/{webhookId}`. */
  async function answer(request: Request, url: URL): Promise<Response> {
    const id = WEBHOOK_PATH.exec(url.pathname)?.[1]?.slice(1)
    if (id === undefined) {
      if (request.method === 'POST') return create(request)
      if (request.method === 'GET') return list(url)
      return json(405, problem(405, 'method-not-allowed', 'Method not allowed.'))
    }
    const webhook = webhooks.get(decodeURIComponent(id))
    if (!webhook) {
      const notFound = problem(404, 'resource-not-found', 'The requested resource was not found.')
      return json(404, { ...notFound, name: 'webhookId' })
    }
    if (!['GET', 'DELETE'].includes(request.method))
      return json(405, problem(405, 'method-not-allowed', 'Method not allowed.'))
    if (request.method === 'GET') return json(200, webhook)
    webhooks.delete(webhook.webhookId)
    return json(204, null)
  }

  /** Delivers `event` to every subscription to its type, one after the other. */
  async function deliver(event: WebhookEventInit, options: DeliverOptions = {}): Promise<WebhookDelivery[]> {
    const body = eventBody(event, now())
    const deliveries: WebhookDelivery[] = []
    for (const webhook of webhooks.values()) {
      if (!webhook.events.includes(event.type)) continue
      deliveries.push(await send(webhook.url, webhook.webhookId, body, webhook.signatureSecret, options))
    }
    return deliveries
  }

  return { answer, deliver, isWebhookPath: (path: string) => WEBHOOK_PATH.test(path) }
}
