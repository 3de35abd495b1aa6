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
  /**
   * Answers the control routes under `/_stand-in/` (revoke, fail, expires-in, requests) on loopback URLs, for tests
   * in another language or process; `false` by default. The CLI's `apivideo-auth stand-in` turns them on.
   */
  controlRoutes?: boolean | undefined
}

/**
 * An offline api.video: the two auth endpoints, videos and delegated upload tokens kept in memory, and every other
 * path as a protected resource.
 *
 * Resources accept what api.video accepts: `Authorization: Bearer <a live access token>` or
 * `Authorization: Basic base64("<a known key>:")`; anything else is a 401 with api.video's problem body.
 * `POST`/`GET /videos`, `GET`/`PATCH`/`DELETE /videos/{videoId}`, `POST`/`GET /upload-tokens` and
 * `GET`/`DELETE /upload-tokens/{uploadToken}` answer as api.video does, in the shapes of its OpenAPI document;
 * `POST /upload?token=…` takes a multipart `file` and a live upload token in place of credentials.
 * An accepted `GET` on another list route (`/live-streams`, `/players`, `/webhooks`, `/watermarks`) answers an empty
 * first page in api.video's list shape, with `currentPage` and `pageSize` taken from the query (1 and 25 by default).
 * Any other accepted request answers 200 with the echo `{ "method": "<method>", "path": "<path without query>" }`.
 * A request body over 1 MiB is a 413, read no further than the chunk that crossed the limit.
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
// The same limit and answer as the CLI's node:http adapter, so that every way of serving the stand-in bounds memory.
const BODY_LIMIT = 1024 * 1024
const BODY_TOO_LARGE = { type: 'about:blank', title: 'The request body is over 1 MiB.', status: 413 }
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
 * const { data } = await (await session.fetch('/videos')).json()   // [] : no video yet
 * standIn.fail('/auth/refresh', { status: 503 })
 * standIn.counts.carriedApiKey                                       // 1: the first /auth/api-key
 */
export function createStandIn(options: StandInOptions = {}): StandIn {
  const { apiKeys, now, keepRequests, controlRoutes, ...settings } = readOptions(options)
  let { expiresIn } = settings
  const accessTokens = new Map<string, number>() // token -> expiry (epoch ms), oldest first
  const refreshTokens = new Set<string>() // oldest first
  const faults = new Map<string, Fault[]>()
  const videos = createVideos(now)
  const uploadTokens = createUploadTokens(now, videos)
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
    keepNewest(accessTokens, MAX_TOKENS)
    keepNewest(refreshTokens, MAX_TOKENS)
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

  async function resource(request: Request, url: URL, authorization: Authorization, body: Bytes): Promise<Response> {
    // POST /upload takes a delegated upload token in place of credentials.
    if (url.pathname === '/upload' && request.method === 'POST') return uploadTokens.upload(request, url, body)
    if (authorization.kind === 'basic' && !(authorization.password === '' && apiKeys.includes(authorization.user)))
      return json(401, INVALID_API_KEY)
    const expiresAt = authorization.kind === 'bearer' ? accessTokens.get(authorization.token) : undefined
    if (authorization.kind !== 'basic' && !(expiresAt && expiresAt > now())) return json(401, INVALID_TOKEN)
    if (webhooks.isWebhookPath(url.pathname)) return webhooks.answer(request, url, body)
    const routed = videos.route(request, url, body) ?? uploadTokens.route(request, url, body)
    if (routed) return routed
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
    if (controlRoutes && path.startsWith(CONTROL_PREFIX)) return control(request, url)
    const authorization = readAuthorization(request.headers.get('authorization'))
    // The body is read whatever its content type, so that the record tells which secrets were on the wire.
    const bytes = await readBody(request)
    const body = AUTH_PATHS.includes(path) && bytes ? parseJsonObject(bytes) : undefined
    const credential = credentialOf(path, body, authorization)
    const keyInBody = path === '/auth/api-key' && typeof body?.apiKey === 'string' && body.apiKey !== ''
    record(request, path, credential, keyInBody || (authorization.kind === 'basic' && authorization.user !== ''))
    if (bytes === undefined) return json(413, BODY_TOO_LARGE, { 'content-type': 'application/problem+json' })
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
    return AUTH_PATHS.includes(path) ? grant(request, path, body) : resource(request, url, authorization, bytes)
  }

  /** The routes under `/_stand-in/`: not api.video's, so neither recorded nor subject to faults. */
  function control(request: Request, url: URL): Promise<Response> {
    return answerControl(request, url, {
      revoke: () => accessTokens.clear(),
      fail,
      setExpiresIn: (seconds) => (expiresIn = seconds),
      report: () => ({ requests, counts: countsCopy() }),
    })
  }

  /** Like fetch, the answer carries the request's URL, and an aborted request rejects with the signal's reason. */
  async function handler(request: Request): Promise<Response> {
    if (request.signal.aborted) throw request.signal.reason
    const response = await answer(request)
    return Object.defineProperty(response, 'url', { value: request.url })
  }

  function countsCopy(): StandInCounts {
    return { ...counts, credentials: { ...counts.credentials } }
  }

  function fail(path: string, ...more: Fault[]): void {
    // Faults match on the path alone: a query or hash would never match.
    if (typeof path !== 'string' || !/^\/[^?#]*$/.test(path))
      throw argumentError('path must be a string starting with "/", with no query or hash')
    more.forEach(checkFault)
    faults.set(path, [...(faults.get(path) ?? []), ...more])
  }

  return Object.freeze({
    handler,
    fetch: (input: RequestInfo | URL, init?: RequestInit) => handler(new Request(input, init)),
    requests,
    get counts(): StandInCounts {
      return countsCopy()
    },
    fail,
    revoke: () => accessTokens.clear(),
    deliver: webhooks.deliver,
  })
}

/** The options, checked whole, with their defaults. */
function readOptions(options: StandInOptions) {
  if (typeof options !== 'object' || options === null) throw argumentError('options must be an object')
  const {
    apiKeys = ['test-key'],
    expiresIn = 3600,
    now = Date.now,
    keepRequests = 1000,
    controlRoutes = false,
    ...unknown
  } = options
  const [extra] = Object.keys(unknown)
  if (extra !== undefined) throw argumentError(`unknown option ${extra} of createStandIn`, 'ERR_UNKNOWN_OPTION')
  if (!Array.isArray(apiKeys) || !apiKeys.every((k) => typeof k === 'string'))
    throw argumentError('apiKeys must be an array of strings')
  if (!isLifetime(expiresIn)) throw argumentError('expiresIn must be a positive number')
  if (typeof controlRoutes !== 'boolean') throw argumentError('controlRoutes must be a boolean')
  if (typeof now !== 'function') throw argumentError('now must be a function')
  if (
    typeof keepRequests !== 'number' ||
    !(keepRequests >= 0) ||
    !(Number.isInteger(keepRequests) || keepRequests === Infinity)
  ) {
    throw argumentError('keepRequests must be a whole number of requests, or Infinity')
  }
  return { apiKeys, expiresIn, now, keepRequests, controlRoutes }
}

/**
 * The credential a request carried: the JSON body's on the two auth paths (whatever the header says), the
 * `Authorization` header's elsewhere.
 */
function credentialOf(path: string, body: Record<string, unknown> | undefined, authorization: Authorization) {
  if (path === '/auth/api-key') return typeof body?.apiKey === 'string' ? 'api-key' : 'none'
  if (path === '/auth/refresh') return typeof body?.refreshToken === 'string' ? 'refresh-token' : 'none'
  return authorization.kind
}

/** The TypeError of a bad argument, with its `code`; its message names the argument, never its value. */
function argumentError(message: string, code = 'ERR_INVALID_ARGUMENT'): TypeError {
  return Object.assign(new TypeError(message), { code })
}

/** A request body, whole in memory (at most 1 MiB). */
type Bytes = Uint8Array<ArrayBuffer>

/** Drops the oldest entries (maps and sets iterate in insertion order) until at most `max` are left. */
function keepNewest(entries: Map<string, unknown> | Set<string>, max: number): void {
  for (const key of entries.keys()) {
    if (entries.size <= max) return
    entries.delete(key)
  }
}

type Authorization =
  { kind: 'basic'; user: string; password: string } | { kind: 'bearer'; token: string } | { kind: 'other' | 'none' }

/** The `Authorization` header's scheme and credentials; Basic credentials are `base64("user:password")` in UTF-8. */
function readAuthorization(header: string | null): Authorization {
  if (!header) return { kind: 'none' }
  const bearer = /^Bearer +(\S+)$/i.exec(header)
  if (bearer) return { kind: 'bearer', token: bearer[1] ?? '' }
  const encoded = /^Basic +(\S*)$/i.exec(header)?.[1]
  if (encoded === undefined) return { kind: 'other' }
  let decoded: string
  try {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new TypeError('not base64')
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0)))
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
  return page(url, [])
}

/** One page of `items` in api.video's list shape, for the page and size the query asks (1 and 25 by default). */
function page(url: URL, items: unknown[]) {
  const whole = (name: string, fallback: number, max: number) => {
    const n = Number(url.searchParams.get(name) ?? fallback)
    return Number.isInteger(n) && n >= 1 && n <= max ? n : fallback
  }
  const currentPage = whole('currentPage', 1, Number.MAX_SAFE_INTEGER)
  const pageSize = whole('pageSize', 25, 100)
  const pagesTotal = Math.max(1, Math.ceil(items.length / pageSize))
  const data = items.slice((currentPage - 1) * pageSize, currentPage * pageSize)
  const link = (rel: string, to: number) => ({
    rel,
    uri: `${url.origin}${url.pathname}?currentPage=${to}&pageSize=${pageSize}`,
  })
  const links = [link('self', currentPage), link('first', 1)]
  if (currentPage > 1 && currentPage <= pagesTotal) links.push(link('previous', currentPage - 1))
  if (currentPage < pagesTotal) links.push(link('next', currentPage + 1))
  links.push(link('last', pagesTotal))
  return {
    data,
    pagination: {
      currentPage,
      pageSize,
      pagesTotal,
      itemsTotal: items.length,
      currentPageItems: data.length,
      links,
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
    throw argumentError(
      'faults must each be { status: 200-599, body?: JSON, headers?: valid headers }, { delay: 0-2147483647 ms }' +
        ' or { networkError: true }',
    )
}

/**
 * The request body, or undefined once it is over 1 MiB: a declared length over it is refused unread, and a body
 * without one is read no further than the chunk that crossed the limit.
 */
async function readBody(request: Request): Promise<Bytes | undefined> {
  if (request.body === null) return new Uint8Array(0)
  if (Number(request.headers.get('content-length')) > BODY_LIMIT) {
    request.body.cancel().catch(() => {})
    return undefined
  }
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > BODY_LIMIT) {
      reader.cancel().catch(() => {})
      return undefined
    }
    chunks.push(value)
  }
  const whole = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    whole.set(chunk, offset)
    offset += chunk.byteLength
  }
  return whole
}

function parseJsonObject(bytes: Bytes): Record<string, unknown> | undefined {
  try {
    const body: unknown = JSON.parse(new TextDecoder().decode(bytes))
    return typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/** A token lifetime in seconds: positive and finite. */
function isLifetime(value: unknown): value is number {
  return typeof value === 'number' && value > 0 && value < Infinity
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

// Videos and delegated upload tokens: api.video's shapes (its OpenAPI document), kept in memory.

type Json = Record<string, unknown>
type AttributeProblem = { type: string; title: string; name: string }

const DOCS = 'https://docs.api.video/reference/'
const MAX_VIDEOS = 1000
const MAX_UPLOAD_TOKENS = 10_000
const MAX_TTL = 2_147_483_647
const LANGUAGES =
  'ar ca cs da de el en es fa fi fr he hi hr hu it ja ko ml nl nn false pl pt ru sk sl te tr uk ur vi zh'.split(' ')
const NOT_JSON: Problem = {
  type: 'about:blank',
  title: 'The request body is not a JSON object.',
  name: '',
  status: 400,
}

const required = (name: string): AttributeProblem => ({
  type: `${DOCS}attribute-required`,
  title: 'This attribute is required.',
  name,
})
const invalid = (name: string, title: string): AttributeProblem => ({ type: `${DOCS}invalid-attribute`, title, name })
const notFound = (name: string): Response =>
  json(404, { type: `${DOCS}resource-not-found`, title: 'The requested resource was not found.', name, status: 404 })
/** api.video's 400: the first problem at the top, every problem in `problems`. */
const badRequest = (problems: AttributeProblem[]): Response => json(400, { ...problems[0], status: 400, problems })

/** Checks one attribute; answers the problem's title when the value is not what api.video takes. */
type Rule = (value: unknown) => string | undefined
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const STRING: Rule = (v) => (typeof v === 'string' ? undefined : 'This attribute must be a string.')
const BOOLEAN: Rule = (v) => (typeof v === 'boolean' ? undefined : 'This attribute must be a boolean.')
const OBJECT: Rule = (v) => (isObject(v) ? undefined : 'This attribute must be an object.')
const STRINGS: Rule = (v) =>
  Array.isArray(v) && v.every((s) => typeof s === 'string') ? undefined : 'This attribute must be an array.'
const METADATA: Rule = (v) =>
  Array.isArray(v) && v.every((m) => isObject(m) && typeof m.key === 'string' && typeof m.value === 'string')
    ? undefined
    : 'This attribute must be an array of { "key", "value" } strings.'
const LANGUAGE: Rule = (v) =>
  typeof v === 'string' && LANGUAGES.includes(v) ? undefined : 'This attribute must be a supported language.'
const SUMMARY_ATTRIBUTES: Rule = (v) =>
  Array.isArray(v) && v.every((a) => a === 'abstract' || a === 'takeaways')
    ? undefined
    : 'This attribute must be an array of "abstract" and "takeaways".'
const NULLABLE_STRING: Rule = (v) => (v === null ? undefined : STRING(v))

/** The attributes of `video-update-payload`; `video-creation-payload` adds source, clip and watermark. */
const UPDATE_RULES: Record<string, Rule> = {
  title: STRING,
  description: STRING,
  public: BOOLEAN,
  panoramic: BOOLEAN,
  mp4Support: BOOLEAN,
  playerId: NULLABLE_STRING,
  tags: STRINGS,
  metadata: METADATA,
  language: LANGUAGE,
  transcript: BOOLEAN,
  transcriptSummary: BOOLEAN,
  transcriptSummaryAttributes: SUMMARY_ATTRIBUTES,
}
const CREATION_RULES: Record<string, Rule> = {
  ...UPDATE_RULES,
  playerId: STRING,
  source: STRING,
  clip: OBJECT,
  watermark: OBJECT,
}
/** What a video object shows of a payload: the rest (source, clip, transcripts…) starts work api.video does. */
const SHOWN = [
  'title',
  'description',
  'public',
  'panoramic',
  'mp4Support',
  'playerId',
  'tags',
  'metadata',
  'language',
]

/** The problems of a payload, against its rules; an attribute the rules do not know is ignored. */
function check(payload: Json, rules: Record<string, Rule>): AttributeProblem[] {
  const problems: AttributeProblem[] = []
  for (const [name, rule] of Object.entries(rules)) {
    if (!(name in payload)) continue
    const title = rule(payload[name])
    if (title) problems.push(invalid(name, title))
  }
  return problems
}

/**
 * A JSON object body, as api.video's JSON operations take it: an empty body reads as `{}`; another content type,
 * a body that is not JSON or not an object, is a 400.
 */
function jsonPayload(request: Request, body: Bytes): Json | Response {
  if (body.byteLength === 0) return {}
  if (!/^application\/json\s*(;|$)/i.test(request.headers.get('content-type') ?? ''))
    return json(400, WRONG_CONTENT_TYPE)
  return parseJsonObject(body) ?? json(400, NOT_JSON)
}

/** ATOM UTC, as api.video writes dates: `2026-01-05T08:00:00+00:00`. */
const atom = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00')

/** An id as api.video's look: a two-letter prefix and 22 letters and digits. */
function id(prefix: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  // 248 is the largest multiple of 62 below 256: bytes above it are skipped, so every character is equally likely.
  const bytes = Array.from(crypto.getRandomValues(new Uint8Array(64))).filter((b) => b < 248)
  return (
    prefix +
    bytes
      .slice(0, 22)
      .map((b) => alphabet[b % 62])
      .join('')
  )
}

/** The sort a list query asks for, among `fields`; undefined for creation order, a Response when it is wrong. */
function sortOf(url: URL, fields: string[]): [string, 1 | -1] | undefined | Response {
  const sortBy = url.searchParams.get('sortBy')
  const sortOrder = url.searchParams.get('sortOrder') ?? 'asc'
  if (sortBy !== null && !fields.includes(sortBy))
    return badRequest([invalid('sortBy', `This attribute must be one of ${fields.join(', ')}.`)])
  if (sortOrder !== 'asc' && sortOrder !== 'desc')
    return badRequest([invalid('sortOrder', 'This attribute must be one of asc, desc.')])
  return sortBy === null ? undefined : [sortBy, sortOrder === 'asc' ? 1 : -1]
}

function sorted(items: Json[], sort: [string, 1 | -1] | undefined): Json[] {
  if (!sort) return items
  const [field, direction] = sort
  const key = (item: Json) => item[field] as string | number
  return [...items].sort((a, b) => {
    if (key(a) === key(b)) return 0
    return key(a) < key(b) ? -direction : direction
  })
}

/** A route's `{id}`, decoded; a malformed escape is kept as sent, so it matches nothing. */
function pathParameter(match: RegExpExecArray): string {
  const raw = match[1] ?? ''
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}

/** Forgets the oldest entries of a map beyond `max`. */
function cap<K, V>(map: Map<K, V>, max: number): void {
  for (const key of map.keys()) {
    if (map.size <= max) return
    map.delete(key)
  }
}

/** The video routes: `POST`/`GET /videos`, `GET`/`PATCH`/`DELETE /videos/{videoId}`. */
function createVideos(now: () => number) {
  const videos = new Map<string, Json>() // videoId -> video, oldest first

  function assets(videoId: string, mp4Support: boolean): Json {
    const vod = `https://cdn.api.video/vod/${videoId}`
    return {
      iframe:
        `<iframe src="https://embed.api.video/vod/${videoId}" width="100%" height="100%" frameborder="0"` +
        ' scrolling="no" allowfullscreen=""></iframe>',
      player: `https://embed.api.video/vod/${videoId}`,
      hls: `${vod}/hls/manifest.m3u8`,
      thumbnail: `${vod}/thumbnail.jpg`,
      ...(mp4Support ? { mp4: `${vod}/mp4/source.mp4` } : {}),
    }
  }

  /** Copies the shown attributes of a checked payload onto a video, and keeps its dates and assets in step. */
  function apply(video: Json, payload: Json): Json {
    for (const name of SHOWN) if (name in payload) video[name] = payload[name]
    if (video.playerId === null) delete video.playerId
    if ('language' in payload) video.languageOrigin = 'api'
    video.updatedAt = atom(now())
    video.assets = assets(video.videoId as string, video.mp4Support === true)
    return video
  }

  /** A new video object, remembered (the oldest forgotten beyond 1,000). */
  function create(payload: Json, sourceType?: string): Json {
    const videoId = id('vi')
    const at = atom(now())
    const video: Json = {
      videoId,
      createdAt: at,
      title: '',
      description: '',
      publishedAt: at,
      updatedAt: at,
      discarded: false,
      discardedAt: null,
      deletesAt: null,
      public: true,
      panoramic: false,
      mp4Support: true,
      tags: [],
      metadata: [],
      source: sourceType
        ? { type: sourceType, uri: `/videos/${videoId}/source` }
        : { uri: `/videos/${videoId}/source` },
    }
    videos.set(videoId, apply(video, payload))
    cap(videos, MAX_VIDEOS)
    return video
  }

  function list(url: URL): Response {
    const title = url.searchParams.get('title')
    const tags = url.searchParams.getAll('tags[]')
    const sort = sortOf(url, ['title', 'createdAt', 'publishedAt', 'updatedAt'])
    if (sort instanceof Response) return sort
    const found = [...videos.values()].filter(
      (v) =>
        (title === null || (v.title as string).includes(title)) &&
        tags.every((tag) => (v.tags as string[]).includes(tag)),
    )
    return json(200, page(url, sorted(found, sort)))
  }

  function route(request: Request, url: URL, body: Bytes): Response | undefined {
    const one = /^\/videos\/([^/]+)$/.exec(url.pathname)
    if (url.pathname === '/videos' && request.method === 'GET') return list(url)
    if (url.pathname === '/videos' && request.method === 'POST') {
      const payload = jsonPayload(request, body)
      if (payload instanceof Response) return payload
      const problems = check(payload, CREATION_RULES)
      if (payload.title === undefined || payload.title === '') problems.unshift(required('title'))
      return problems.length > 0 ? badRequest(problems) : json(201, create(payload))
    }
    if (!one || !['GET', 'PATCH', 'DELETE'].includes(request.method)) return undefined
    const video = videos.get(pathParameter(one))
    if (!video) return notFound('videoId')
    if (request.method === 'GET') return json(200, video)
    if (request.method === 'DELETE') {
      videos.delete(video.videoId as string)
      return json(204, null)
    }
    const payload = jsonPayload(request, body)
    if (payload instanceof Response) return payload
    const problems = check(payload, UPDATE_RULES)
    return problems.length > 0 ? badRequest(problems) : json(200, apply(video, payload))
  }

  return { create, route, get: (videoId: string) => videos.get(videoId) }
}

/**
 * The delegated upload token routes: `POST`/`GET /upload-tokens`, `GET`/`DELETE /upload-tokens/{uploadToken}`, and
 * `POST /upload?token=…`, which needs no credentials.
 */
function createUploadTokens(now: () => number, videos: ReturnType<typeof createVideos>) {
  const tokens = new Map<string, { ttl: number; createdAt: number }>() // oldest first

  /** The token if it is live: known, not deleted, not expired (a `ttl` of 0 never expires). */
  function live(token: string): Json | undefined {
    const found = tokens.get(token)
    if (!found) return undefined
    const expiresAt = found.createdAt + found.ttl * 1000
    if (found.ttl > 0 && expiresAt <= now()) {
      tokens.delete(token)
      return undefined
    }
    return {
      token,
      ttl: found.ttl,
      createdAt: atom(found.createdAt),
      ...(found.ttl > 0 ? { expiresAt: atom(expiresAt) } : {}),
    }
  }

  function mint(request: Request, body: Bytes): Response {
    const payload = jsonPayload(request, body)
    if (payload instanceof Response) return payload
    const { ttl = 0 } = payload
    if (!(Number.isInteger(ttl) && (ttl as number) >= 0 && (ttl as number) <= MAX_TTL))
      return badRequest([invalid('ttl', `This attribute must be an integer from 0 to ${MAX_TTL}.`)])
    const token = id('to')
    tokens.set(token, { ttl: ttl as number, createdAt: now() })
    cap(tokens, MAX_UPLOAD_TOKENS)
    return json(200, live(token))
  }

  function route(request: Request, url: URL, body: Bytes): Response | undefined {
    if (url.pathname === '/upload-tokens' && request.method === 'POST') return mint(request, body)
    if (url.pathname === '/upload-tokens' && request.method === 'GET') {
      const sort = sortOf(url, ['createdAt', 'ttl'])
      if (sort instanceof Response) return sort
      const all = [...tokens.keys()].map(live).filter((t): t is Json => t !== undefined)
      return json(200, page(url, sorted(all, sort)))
    }
    const one = /^\/upload-tokens\/([^/]+)$/.exec(url.pathname)
    if (!one || !['GET', 'DELETE'].includes(request.method)) return undefined
    const token = pathParameter(one)
    const found = live(token)
    if (!found) return notFound('uploadToken')
    if (request.method === 'GET') return json(200, found)
    tokens.delete(token)
    return json(204, null)
  }

  /**
   * `POST /upload?token=…` with a multipart `file` creates a video titled after the file; with a `videoId` part,
   * a later chunk of that video's upload. The file's bytes are not kept.
   */
  async function upload(request: Request, url: URL, body: Bytes): Promise<Response> {
    const token = url.searchParams.get('token')
    if (!token) return badRequest([required('token')])
    if (!live(token)) return badRequest([invalid('token', 'The upload token is invalid or expired.')])
    const contentType = request.headers.get('content-type') ?? ''
    const form = /^multipart\/form-data\s*;/i.test(contentType)
      ? await new Response(body, { headers: { 'content-type': contentType } }).formData().catch(() => undefined)
      : undefined
    // The `file` part, or the one file part under another name, as the official Node client sends it.
    const files = [...(form?.entries() ?? [])].filter(
      (entry): entry is [string, File] => typeof entry[1] !== 'string',
    )
    const file = (files.find(([name]) => name === 'file') ?? (files.length === 1 ? files[0] : undefined))?.[1]
    if (!file) return badRequest([required('file')])
    const videoId = form?.get('videoId')
    if (typeof videoId !== 'string') return json(201, videos.create({ title: file.name || 'file' }, 'upload'))
    const video = videos.get(videoId)
    return video ? json(201, video) : notFound('videoId')
  }

  return { route, upload }
}

// The control routes, for the stand-in served over HTTP: tests in another language or process steer it with them.

const CONTROL_PREFIX = '/_stand-in/'
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]']

interface Controls {
  revoke(): void
  fail(path: string, ...faults: Fault[]): void
  setExpiresIn(seconds: number): void
  report(): { requests: StandInRequest[]; counts: StandInCounts }
}

const controlProblem = (status: number, title: string): Response =>
  json(status, { type: 'about:blank', title, name: '', status })

/** The host name of a `Host` header's value (`127.0.0.1:8080`, `[::1]:80`), or '' when it is not one. */
function hostnameOf(host: string): string {
  try {
    return new URL(`http://${host}`).hostname
  } catch {
    return ''
  }
}

/**
 * `GET /_stand-in/requests`, `POST /_stand-in/revoke`, `POST /_stand-in/fail {"path", "faults"}` and
 * `POST /_stand-in/expires-in {"expiresIn"}`. They answer a loopback URL and `Host` only, and never a request with
 * an `Origin` header (a web page's), so that no page a developer visits can steer the stand-in on their machine.
 */
async function answerControl(request: Request, url: URL, controls: Controls): Promise<Response> {
  const hosts = [url.host, request.headers.get('host') ?? url.host]
  if (!hosts.every((host) => LOOPBACK_HOSTS.includes(hostnameOf(host))) || request.headers.has('origin'))
    return controlProblem(403, 'The control routes answer loopback clients only, never a web page.')
  const route = `${request.method} ${url.pathname.slice(CONTROL_PREFIX.length)}`
  if (route === 'GET requests') return json(200, controls.report())
  if (route === 'POST revoke') {
    controls.revoke()
    return json(204, null)
  }
  if (route !== 'POST fail' && route !== 'POST expires-in')
    return controlProblem(404, 'No such control route: GET requests, POST revoke, fail or expires-in.')
  const body = await readBody(request)
  if (body === undefined) return json(413, BODY_TOO_LARGE, { 'content-type': 'application/problem+json' })
  const payload = jsonPayload(request, body)
  if (payload instanceof Response) return payload
  if (route === 'POST expires-in') {
    if (!isLifetime(payload.expiresIn)) return controlProblem(400, 'expiresIn must be a positive number of seconds')
    controls.setExpiresIn(payload.expiresIn)
    return json(204, null)
  }
  try {
    if (!Array.isArray(payload.faults)) throw new TypeError('faults must be an array')
    controls.fail(payload.path as string, ...(payload.faults as Fault[]))
  } catch (error) {
    return controlProblem(400, (error as Error).message)
  }
  return json(204, null)
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

  function create(bytes: Bytes): Response {
    const body = parseJsonObject(bytes)
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
  function answer(request: Request, url: URL, bytes: Bytes): Response {
    const id = WEBHOOK_PATH.exec(url.pathname)?.[1]?.slice(1)
    if (id === undefined) {
      if (request.method === 'POST') return create(bytes)
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
