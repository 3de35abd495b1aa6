// apivideo-auth: api.video authentication for any JavaScript runtime with `fetch`.
//
// One self-contained file, read top to bottom: constants and defaults, types, the error, argument checks, the two
// request builders, reading an answer, sending one request, and the session that chains them. It imports nothing:
// copy it into a project as it is (the `.ts` file for Deno and Bun, `dist/index.js` for Node and Workers).

// ---------------------------------------------------------------------------------------------------------------
// Constants and defaults
// ---------------------------------------------------------------------------------------------------------------

/** api.video's production API. */
export const PRODUCTION_URL = 'https://ws.api.video'
/** api.video's sandbox API (separate keys; videos are watermarked). */
export const SANDBOX_URL = 'https://sandbox.api.video'

const DEFAULTS = {
  timeout: 10_000, // Each attempt gives up after 10 s, the answer's body included
  refreshMargin: 1000 * 60 * 5, // Start renewing 5 min before expiry, plus up to 50% jitter
  retries: 2, // Two more attempts after a failure that retrying may fix
  backoffBase: 250, // The first backoff draws from 0-250 ms, doubling each attempt…
  backoffCap: 4_000, // …up to 0-4 s
  longestRetryAfter: 10, // A Retry-After up to 10 s is waited out; a longer one fails at once and locks renewals out
  longestLockout: 3_600, // No Retry-After locks renewals out for more than an hour (seconds)
  staleFloor: 10_000, // When renewal fails, a token with more than 10 s left is served
  recent401: 60_000, // A 401 on a token younger than a minute renews at most once a minute
  answerLimit: 64 * 1024, // An auth answer is read up to 64 KiB
  longestLifetime: 86_400, // An expires_in above a day is refused (seconds)
  longestTimeout: 2 ** 31 - 1, // The longest delay setTimeout can hold (ms)
}

const ENV_KEY = 'APIVIDEO_API_KEY'
/** Header-safe: 1 to 8,192 visible ASCII characters. Keys and tokens are read and sent under this one rule. */
const isHeaderSafe = (value: unknown): value is string => typeof value === 'string' && /^[!-~]{1,8192}$/.test(value)
/** `https:` anywhere; plain `http:` on loopback only (localhost, 127.*, [::1]). */
const SECURE_ORIGIN = /^(https:\/\/|http:\/\/(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$)/

// ---------------------------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------------------------

/**
 * Any fetch that takes this runtime's `Request`: `globalThis.fetch`, a wrapper (`(request) => fetch(request, {
 * dispatcher })`), a test double. It is always given a `Request`, and its answer's body is read as a web stream.
 * The types are loose on purpose: undici's `Request` and `Response` types differ from the DOM's, and both must fit.
 */
export type FetchFunction = (
  request: any,
  init?: any,
) => Promise<Pick<Response, 'status' | 'headers' | 'url'> & { body: { getReader(): unknown } | null }>

/** Where and how to build an auth request. */
export interface RequestOptions {
  /** API base, `PRODUCTION_URL` by default; `SANDBOX_URL`, or a loopback `http:` URL for tests. */
  baseUrl?: string | URL | undefined
  /** Extra headers, such as `AV-Origin-App`. The content type cannot be overridden. */
  headers?: ConstructorParameters<typeof Headers>[0] | undefined
}

/** How to send one auth request. */
export interface CallOptions extends RequestOptions {
  /** The fetch to use; `globalThis.fetch` by default, looked up at call time. */
  fetch?: FetchFunction | undefined
  /** The caller's cancellation: an abort rejects with the signal's reason. */
  signal?: AbortSignal | undefined
  /** Milliseconds per attempt, body included; 10,000 by default, at most 2,147,483,647. */
  timeout?: number | undefined
}

/**
 * A token pair read from api.video. `refreshToken` is not enumerable, so `JSON.stringify`, `inspect` and object
 * spread leave it out; read it by name.
 */
export interface AccessToken {
  accessToken: string
  refreshToken: string
  tokenType: string
  /** Lifetime in seconds, as api.video sent it. */
  expiresIn: number
  /** Epoch ms: the moment the request was sent plus `expiresIn`. */
  expiresAt: number
}

/** api.video's problem body (`application/json` or `application/problem+json`), with secrets scrubbed. */
export interface ProblemDetails {
  type?: string
  title?: string
  name?: string
  status?: number
  problems?: ProblemDetails[]
}

/** What a session reports. Events carry codes, times and counts, never a secret. */
export interface SessionEvent {
  type:
    | 'authenticated'
    | 'refreshed'
    | 'refresh-rejected'
    | 'retry'
    | 'failed'
    | 'served-stale'
    | 'clock-jump'
    | 'shared'
    | 'store-error'
  /** Epoch ms from the session's clock. */
  at: number
  code?: ErrorCode
  /** Retries so far, for `retry` and `failed`. */
  attempt?: number
  /** Milliseconds before the next attempt, for `retry`. */
  delay?: number
  /** Expiry of the token concerned, for `authenticated`, `refreshed`, `shared` and `served-stale`. */
  expiresAt?: number
}

/** An access token as instances share it: the token and its times (session clock, epoch ms), never a refresh token. */
export interface SharedToken {
  token: string
  sentAt: number
  expiresAt: number
  dueAt: number
}

/** What a session lends a share add-on such as `shareTokens` from `apivideo-auth/share`. */
export interface ShareContext {
  apiKey: string
  /** The session's base URL, without a trailing slash. */
  baseUrl: string
  /** Bound every store call by it (ms). */
  timeout: number
  now: () => number
  emit: (type: 'store-error') => void
}

/**
 * The hook a share add-on returns. `take` runs before a renewal (not a forced one) and never rejects: another
 * instance's token, or undefined to renew here. `put` runs after one, and callers do not wait for it; `afterTake`
 * says whether `take` ran first.
 */
export interface TokenShare {
  take(rejected?: string): Promise<SharedToken | undefined>
  put(token: SharedToken, renewal?: { afterTake: boolean }): Promise<void>
}

/** Options of `createSession`; only `apiKey` matters, and it may come from `APIVIDEO_API_KEY`. */
export interface SessionOptions extends Omit<CallOptions, 'signal'> {
  /** The API key; `APIVIDEO_API_KEY` from the environment when absent (Node, Bun, Deno). */
  apiKey?: string | undefined
  /** Milliseconds before expiry at which renewal starts; 300,000 by default, plus up to 50% jitter. */
  refreshMargin?: number | undefined
  /** Extra attempts after a failure that retrying may fix; 2 by default. */
  retries?: number | undefined
  /** The clock, epoch ms; by default monotonic (`performance.now()`), catching up with the wall clock after sleep. */
  now?: (() => number) | undefined
  /** Called with every event; a listener that throws or rejects is ignored. */
  onEvent?: ((event: SessionEvent) => unknown) | undefined
  /** Share access tokens between instances: `shareTokens(store)` from `apivideo-auth/share`. */
  share?: ((context: ShareContext) => TokenShare) | undefined
}

/** Per-call options of `session.token()`. */
export interface TokenOptions {
  /** Stops this caller's wait only; a renewal shared with others goes on. */
  signal?: AbortSignal | undefined
  /** Renew even a fresh token, sharing any renewal in flight. */
  forceRefresh?: boolean | undefined
}

/** A token source that always hands out a valid access token. */
export interface Session {
  /** The access token, from memory while it is fresh. */
  token(options?: TokenOptions): Promise<string>
  /** `"Bearer <token>"`. */
  authorization(options?: Omit<TokenOptions, 'forceRefresh'>): Promise<string>
  /**
   * `fetch` on the session's API with `Authorization` set. A path resolves against `baseUrl`; a URL or `Request`
   * on another origin is refused; both are read at the call, as `fetch` reads them. A 401 renews (once for many
   * callers) and replays once a body given in `init` as bytes, text, a `Blob`, `FormData` or `URLSearchParams`.
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>
  /**
   * Drops the cached access token; the next call renews. Given the token that was refused, drops it only if it is
   * still the current one, so many 401s cause one renewal.
   */
  invalidate(token?: string): void
}

// ---------------------------------------------------------------------------------------------------------------
// The error
// ---------------------------------------------------------------------------------------------------------------

/** Every way an auth call can fail, one code each. */
export type ErrorCode =
  | 'INVALID_CREDENTIALS'
  | 'INVALID_REFRESH_TOKEN'
  | 'ACCESS_DENIED'
  | 'RATE_LIMITED'
  | 'SERVER_ERROR'
  | 'NETWORK_ERROR'
  | 'TIMEOUT'
  | 'INVALID_RESPONSE'
  | 'UNEXPECTED_STATUS'

/** What a person can do about a failure that retrying will not fix. */
const HINTS: Partial<Record<ErrorCode, string>> = {
  INVALID_CREDENTIALS: 'check the key and its environment (production or sandbox)',
  INVALID_REFRESH_TOKEN: 'authenticate with the API key again',
  ACCESS_DENIED: 'is the account suspended?',
}
const RETRYABLE: ErrorCode[] = ['RATE_LIMITED', 'SERVER_ERROR', 'NETWORK_ERROR', 'TIMEOUT']

interface ErrorDetails {
  status?: number | undefined
  problem?: ProblemDetails | undefined
  retryAfter?: number | undefined
  cause?: unknown
}

/**
 * The one error class of this package: `code` says what failed, `retryable` whether trying again may help.
 * Messages are one line of at most 300 characters and never carry a key or token.
 * @example
 * try {
 *   await authenticate(apiKey)
 * } catch (error) {
 *   if (isApiVideoAuthError(error) && error.code === 'INVALID_CREDENTIALS') console.error(error.message)
 * }
 */
export class ApiVideoAuthError extends Error {
  declare readonly code: ErrorCode
  declare readonly retryable: boolean
  declare readonly status?: number
  declare readonly problem?: ProblemDetails
  /** Seconds to wait, from `X-RateLimit-Retry-After` or `Retry-After`. */
  declare readonly retryAfter?: number

  constructor(code: ErrorCode, details: ErrorDetails = {}) {
    const { status, problem, retryAfter, cause } = details
    const retryable = RETRYABLE.includes(code)
    const hint = retryable ? `retry ${retryAfter === undefined ? 'later' : `in ${retryAfter} s`}` : HINTS[code]
    const title = typeof problem?.title === 'string' ? `, ${printable(problem.title)}` : ''
    const http = status ? ` (HTTP ${status}${title})` : ''
    const message = `api.video: ${code.toLowerCase().replace(/_/g, ' ')}${http}${hint ? `: ${hint}` : ''}.`
    super(message.length > 300 ? `${message.slice(0, 299)}…` : message, cause === undefined ? undefined : { cause })
    this.name = 'ApiVideoAuthError'
    this.code = code
    this.retryable = retryable
    if (status !== undefined) this.status = status
    if (problem !== undefined) this.problem = problem
    if (retryAfter !== undefined) this.retryAfter = retryAfter
  }
}

/**
 * True for an `ApiVideoAuthError`, also one from another realm or another copy of this package.
 * @example
 * if (isApiVideoAuthError(error) && error.retryable) retryLater()
 */
export function isApiVideoAuthError(value: unknown): value is ApiVideoAuthError {
  if (value instanceof ApiVideoAuthError) return true
  const error = value as ApiVideoAuthError | null
  return (
    Object.prototype.toString.call(error) === '[object Error]' &&
    error!.name === 'ApiVideoAuthError' &&
    typeof error!.code === 'string'
  )
}

const codeOf = (error: unknown) => (isApiVideoAuthError(error) ? error.code : undefined)

/** The error mapping: what an HTTP status means on each auth endpoint. */
function errorCodeFor(status: number, endpoint: Endpoint): ErrorCode {
  if (status === 400 || status === 401)
    return endpoint === 'refresh' ? 'INVALID_REFRESH_TOKEN' : 'INVALID_CREDENTIALS'
  if (status === 403) return 'ACCESS_DENIED'
  if (status === 429) return 'RATE_LIMITED'
  return status >= 500 && status < 600 ? 'SERVER_ERROR' : 'UNEXPECTED_STATUS'
}

/**
 * A server's text made safe for one terminal line: control characters (ESC, so no escape sequence; CR, LF) become
 * spaces.
 */
function printable(text: string): string {
  return text.replace(/[\0-\x1f\x7f-\x9f]/g, ' ')
}

// ---------------------------------------------------------------------------------------------------------------
// Argument checks: a TypeError that names the argument, never its value
// ---------------------------------------------------------------------------------------------------------------

function fail(name: string, must: string): never {
  throw new TypeError(`${name} must ${must}`)
}

/** An options object (`{}` when absent) with no property outside `known`; a near miss is named. */
function checkOptions<T extends object>(name: string, value: T | undefined, known: string[]): T {
  if (value === undefined) return {} as T
  if (typeof value !== 'object' || value === null) fail(name, 'be an object')
  for (const property of Object.keys(value)) {
    if (known.includes(property)) continue
    const loose = (word: string) => word.toLowerCase().replace(/ms$/, '')
    const meant = known.find((candidate) => loose(candidate) === loose(property))
    throw new TypeError(`unknown option ${property}${meant ? ` (did you mean ${meant}?)` : ''}`)
  }
  return value
}

/** An API key or refresh token: header-safe, since it is sent back in a body or header. */
function checkSecret(name: string, value: unknown): string {
  if (isHeaderSafe(value)) return value
  // The type it got, never the value.
  const got = typeof value === 'string' ? 'another string' : value === null ? 'null' : typeof value
  return fail(name, `be 1-8192 visible ASCII characters (got ${got})`)
}

/** An absolute `https:` base URL (`http:` on loopback only), without its trailing slashes. */
function checkBaseUrl(value: unknown): string {
  let url: URL | undefined
  try {
    url = new URL(value as string)
  } catch {}
  // Anything beyond origin and path (credentials, a query or a hash, even an empty one) shows in `href`.
  if (!url || url.href !== url.origin + url.pathname || !SECURE_ORIGIN.test(url.origin)) {
    fail('baseUrl', 'be an https: URL (http: on loopback only), with no credentials, query or hash')
  }
  return url.href.replace(/\/+$/, '')
}

function checkHeaders(value: unknown): Headers {
  try {
    return new Headers(value as HeadersInit | undefined)
  } catch {
    return fail('headers', 'be valid headers')
  }
}

function checkFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') fail(name, 'be a function')
}

function checkNumber(
  name: string,
  value: unknown,
  { min = 0, max = Number.MAX_SAFE_INTEGER, integer = false } = {},
): void {
  const valid = typeof value === 'number' && (integer ? Number.isInteger(value) : Number.isFinite(value))
  if (!valid || value < min || value > max)
    fail(name, `be a${integer ? 'n integer' : ' number'} from ${min} to ${max}`)
}

/** A real `AbortSignal`, from this realm or another. */
function checkSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined || value instanceof AbortSignal) return value
  if (Object.prototype.toString.call(value) !== '[object AbortSignal]') fail('signal', 'be an AbortSignal')
  return value as AbortSignal
}

/** The options each function knows, so a typo is caught. */
const REQUEST_OPTIONS = ['baseUrl', 'headers']
const CALL_OPTIONS = ['baseUrl', 'headers', 'fetch', 'signal', 'timeout']
const SESSION_OPTIONS = [
  'baseUrl',
  'headers',
  'fetch',
  'timeout',
  'apiKey',
  'refreshMargin',
  'retries',
  'now',
  'onEvent',
  'share',
]

/** The sending options shared by `authenticate`, `refresh` and `createSession`. */
function checkCallOptions(options: CallOptions): void {
  checkFunction('fetch', options.fetch)
  if (options.timeout !== undefined) checkNumber('timeout', options.timeout, { min: 1, max: DEFAULTS.longestTimeout })
  checkSignal(options.signal)
}

// ---------------------------------------------------------------------------------------------------------------
// The two request builders: pure, nothing is sent
// ---------------------------------------------------------------------------------------------------------------

type Endpoint = 'api-key' | 'refresh'

/**
 * Builds `POST /auth/api-key`. Pure: nothing is sent.
 * @example
 * const response = await fetch(authenticateRequest(process.env.APIVIDEO_API_KEY, { baseUrl: SANDBOX_URL }))
 */
export function authenticateRequest(apiKey: string, options?: RequestOptions): Request {
  return buildRequest('api-key', apiKey, options)
}

/**
 * Builds `POST /auth/refresh`. Pure: nothing is sent. api.video rotates refresh tokens: send the latest one.
 * @example
 * const next = await readAccessToken(await fetch(refreshRequest(token.refreshToken)))
 */
export function refreshRequest(refreshToken: string, options?: RequestOptions): Request {
  return buildRequest('refresh', refreshToken, options)
}

/** Redirects are not followed, so the secret in the body is never posted to another host. */
function buildRequest(endpoint: Endpoint, secret: string, options: RequestOptions | undefined): Request {
  const field = endpoint === 'refresh' ? 'refreshToken' : 'apiKey'
  const body = { [field]: checkSecret(field, secret) }
  const { baseUrl = PRODUCTION_URL, headers } = checkOptions('options', options, REQUEST_OPTIONS)
  const all = checkHeaders(headers)
  all.set('content-type', 'application/json')
  all.set('accept', 'application/json')
  return new Request(`${checkBaseUrl(baseUrl)}/auth/${endpoint}`, {
    method: 'POST',
    headers: all,
    body: JSON.stringify(body),
    redirect: 'manual',
  })
}

// ---------------------------------------------------------------------------------------------------------------
// Reading an answer
// ---------------------------------------------------------------------------------------------------------------

/**
 * Reads an answer of `/auth/api-key` or `/auth/refresh` into a token, or throws an `ApiVideoAuthError` with the code
 * for what went wrong. The body is read up to 64 KiB; tokens must be header-safe, lifetimes at most a day.
 * @example
 * const sentAt = Date.now()
 * const token = await readAccessToken(await fetch(authenticateRequest(apiKey)), { sentAt })
 */
export async function readAccessToken(
  response: Response,
  options?: { sentAt?: number | undefined },
): Promise<AccessToken> {
  if (typeof response?.text !== 'function') fail('response', 'be a Response')
  const { sentAt = Date.now() } = checkOptions('options', options, ['sentAt'])
  checkNumber('sentAt', sentAt)
  return readAnswer(response, { sentAt, endpoint: /\/auth\/refresh\/?$/.test(response.url) ? 'refresh' : 'api-key' })
}

interface ReadOptions {
  sentAt: number
  endpoint: Endpoint
  /** What was sent and may be echoed back: scrubbed from an error's problem after decoding. */
  secret?: string
  /** Ends the reading: the body is cancelled. */
  signal?: AbortSignal
}

async function readAnswer(
  response: Response,
  { sentAt, endpoint, secret, signal }: ReadOptions,
): Promise<AccessToken> {
  const { status, headers } = response
  const ok = status >= 200 && status < 300
  const code = ok ? 'INVALID_RESPONSE' : errorCodeFor(status, endpoint)
  const text = await readLimited(response, code, signal)
  let body: any
  try {
    body = JSON.parse(text)
  } catch {}
  if (ok) {
    const {
      access_token: accessToken,
      refresh_token: refreshToken,
      expires_in: expiresIn,
      token_type: type,
    } = body ?? {}
    const lifetime = typeof expiresIn === 'number' && expiresIn > 0 && expiresIn <= DEFAULTS.longestLifetime
    if (!isHeaderSafe(accessToken) || !isHeaderSafe(refreshToken) || !lifetime)
      throw new ApiVideoAuthError(code, { status })
    const tokenType = isHeaderSafe(type) ? type : 'Bearer'
    const token = { accessToken, tokenType, expiresIn, expiresAt: sentAt + expiresIn * 1000 }
    return Object.defineProperty(token, 'refreshToken', { value: refreshToken, writable: true }) as AccessToken
  }
  const problem = typeof body === 'object' && body !== null && !Array.isArray(body) ? scrub(body, secret) : undefined
  const retryAfter =
    code === 'RATE_LIMITED'
      ? retryAfterSeconds(headers.get('x-ratelimit-retry-after') ?? headers.get('retry-after'))
      : undefined
  throw new ApiVideoAuthError(code, { status, problem, retryAfter })
}

/** The body as text, at most `answerLimit` bytes: past that, or on an abort, the rest is cancelled. */
async function readLimited(response: Response, code: ErrorCode, signal?: AbortSignal): Promise<string> {
  const { body, status } = response
  if (!body) return ''
  // A body that is not a web stream (a Node stream from a fetch polyfill) cannot be read within the limit.
  if (typeof body.getReader !== 'function') throw new ApiVideoAuthError(code, { status })
  const reader = body.getReader()
  const cancel = () => reader.cancel().catch(() => {})
  if (signal?.aborted) cancel()
  signal?.addEventListener('abort', cancel)
  const chunks: BlobPart[] = []
  let size = 0
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      // Chunks that are not bytes (text from a polyfill) have no size to count: refused like an answer too long.
      size += ArrayBuffer.isView(chunk.value) ? chunk.value.byteLength : Infinity
      if (size > DEFAULTS.answerLimit) {
        cancel()
        throw new ApiVideoAuthError(code, { status })
      }
      chunks.push(chunk.value)
    }
  } catch (error) {
    throw isApiVideoAuthError(error) ? error : new ApiVideoAuthError('NETWORK_ERROR', { status, cause: error })
  } finally {
    signal?.removeEventListener('abort', cancel)
  }
  return new Blob(chunks).text()
}

/**
 * A decoded problem with `secret` replaced wherever it stands. The problem is encoded again first, so however the
 * server escaped an echo (`\u0041`, `\/`), the secret now reads exactly as `JSON.stringify` writes it.
 */
function scrub(problem: object, secret: string | undefined): ProblemDetails {
  const json = JSON.stringify(problem)
  return JSON.parse(secret ? json.replaceAll(JSON.stringify(secret).slice(1, -1), '[redacted]') : json)
}

/**
 * Seconds from a `Retry-After`-style header, at most an hour: a plain number of seconds, or one HTTP date written
 * exactly as `toUTCString` writes it. Anything else (`5, 5` from two headers) is undefined: the normal backoff.
 */
function retryAfterSeconds(value: string | null): number | undefined {
  const text = value?.trim() ?? ''
  const date = Date.parse(text)
  const seconds = /^\d+(\.\d+)?$/.test(text)
    ? Number(text)
    : new Date(date).toUTCString() === text
      ? (date - Date.now()) / 1000
      : NaN
  return Number.isNaN(seconds) ? undefined : Math.min(Math.max(0, seconds), DEFAULTS.longestLockout)
}

// ---------------------------------------------------------------------------------------------------------------
// Sending one request
// ---------------------------------------------------------------------------------------------------------------

/**
 * Exchanges an API key for a token pair: one attempt, bounded by `timeout`.
 * @example
 * const { accessToken, expiresAt } = await authenticate(process.env.APIVIDEO_API_KEY, { timeout: 5_000 })
 */
export async function authenticate(apiKey: string, options?: CallOptions): Promise<AccessToken> {
  return callOnce('api-key', apiKey, options)
}

/**
 * Exchanges a refresh token for a new pair (api.video rotates it: keep the new one). One attempt.
 * @example
 * token = await refresh(token.refreshToken, { baseUrl: SANDBOX_URL })
 */
export async function refresh(refreshToken: string, options?: CallOptions): Promise<AccessToken> {
  return callOnce('refresh', refreshToken, options)
}

async function callOnce(endpoint: Endpoint, secret: string, options: CallOptions | undefined): Promise<AccessToken> {
  const call = checkOptions('options', options, CALL_OPTIONS)
  checkCallOptions(call)
  const where = { baseUrl: call.baseUrl, headers: call.headers }
  return sendOnce(buildRequest(endpoint, secret, where), call, { endpoint, secret })
}

interface SendOptions {
  endpoint: Endpoint
  secret: string
  now?: () => number
}

/**
 * Sends one request and reads its answer. The caller's abort rejects with its reason; the timeout covers the body.
 * Either ends the exchange: the signal rides on the `Request` itself, so even a fetch that drops its second argument
 * stops, and an answer that arrives late has its body cancelled.
 */
async function sendOnce(
  request: Request,
  call: CallOptions,
  { endpoint, secret, now = Date.now }: SendOptions,
): Promise<AccessToken> {
  const { fetch = globalThis.fetch, signal, timeout = DEFAULTS.timeout } = call
  signal?.throwIfAborted()
  const sentAt = now()
  const controller = new AbortController()
  const stop = () => controller.abort(signal!.reason)
  const timer = setTimeout(() => controller.abort(new ApiVideoAuthError('TIMEOUT')), timeout)
  signal?.addEventListener('abort', stop)
  const exchange = async () => {
    const response = (await fetch(new Request(request, { signal: controller.signal }), {
      signal: controller.signal,
    })) as Response
    return readAnswer(response, { sentAt, endpoint, secret, signal: controller.signal })
  }
  try {
    return await untilAborted(exchange(), controller.signal)
  } catch (error) {
    if (controller.signal.aborted) throw controller.signal.reason
    throw isApiVideoAuthError(error) ? error : new ApiVideoAuthError('NETWORK_ERROR', { cause: error })
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', stop)
  }
}

/** Waits for `promise`; an abort of `signal` ends only this wait, rejecting with its reason. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const abort = () => reject(signal.reason)
    signal.addEventListener('abort', abort)
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort))
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// ---------------------------------------------------------------------------------------------------------------
// The session
// ---------------------------------------------------------------------------------------------------------------

/** The API key from `APIVIDEO_API_KEY`, where the runtime has an environment. */
function apiKeyFromEnvironment(): unknown {
  const { Deno, process, navigator } = globalThis as any
  const missing =
    navigator?.userAgent === 'Cloudflare-Workers'
      ? `apiKey is missing: pass { apiKey: env.${ENV_KEY} }`
      : `apiKey is missing: pass { apiKey } or set ${ENV_KEY}`
  let key: unknown
  try {
    key = Deno ? Deno.env.get(ENV_KEY) : process?.env?.[ENV_KEY]
  } catch {}
  if (key === undefined || key === '') throw new TypeError(missing)
  return key
}

/**
 * The default clock, epoch ms: a monotonic one (`timeOrigin`, read once, plus `performance.now()`) that also moves
 * ahead whenever the wall clock gets ahead of it, so no token looks younger than it is. A wall clock stepped back
 * (NTP, a resumed VM) changes nothing; a monotonic clock that stood still while the machine slept catches up with
 * the wall clock. It never runs backwards. Without `performance`, the wall clock alone.
 */
function defaultClock(): () => number {
  const { performance } = globalThis
  const origin = performance?.timeOrigin
  if (!Number.isFinite(origin) || typeof performance.now !== 'function') return Date.now
  // How far the wall clock got ahead of the monotonic one. It only grows, so the clock never runs backwards.
  let lead = 0
  return () => {
    const monotonic = origin + performance.now()
    lead = Math.max(lead, Date.now() - monotonic)
    return monotonic + lead
  }
}

/**
 * The body kinds `fetch` can send again, given in `init`. Anything else (a stream, an async iterable, the body of a
 * `Request` input, which is a stream) is sent once.
 */
function replayable(body: unknown): boolean {
  return (
    typeof body === 'string' ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof Blob ||
    body instanceof FormData ||
    body instanceof URLSearchParams
  )
}

/**
 * A session: every caller gets a valid access token, and concurrent callers share one request. Lazy (nothing runs
 * until the first call), no timers left behind, secrets kept in this closure only.
 * @example
 * const session = createSession()                      // the key from APIVIDEO_API_KEY
 * const response = await session.fetch('/videos')     // on https://ws.api.video
 */
export function createSession(options?: SessionOptions): Session {
  const settings = checkOptions('options', options, SESSION_OPTIONS)
  const apiKey = checkSecret('apiKey', settings.apiKey === undefined ? apiKeyFromEnvironment() : settings.apiKey)
  const {
    baseUrl: givenBaseUrl = PRODUCTION_URL,
    headers,
    fetch: givenFetch,
    timeout = DEFAULTS.timeout,
    refreshMargin = DEFAULTS.refreshMargin,
    retries = DEFAULTS.retries,
    now = defaultClock(),
    onEvent,
    share,
  } = settings
  const baseUrl = checkBaseUrl(givenBaseUrl)
  const origin = new URL(baseUrl).origin
  // Checked now without building a Request: a Worker may create the session at global scope.
  checkHeaders(headers)
  checkCallOptions(settings)
  checkNumber('refreshMargin', refreshMargin)
  checkNumber('retries', retries, { integer: true })
  checkFunction('now', now)
  checkFunction('onEvent', onEvent)
  checkFunction('share', share)
  const where: RequestOptions = { baseUrl, headers }
  const call: CallOptions = { fetch: givenFetch, timeout }

  let current: SharedToken | undefined
  let refreshToken: string | undefined
  let renewal: { done: Promise<string>; waits: Map<AbortSignal, Promise<string>> } | undefined
  let lockedUntil = 0
  let rejected: string | undefined
  let last401Renewal = -Infinity

  /** The clock, checked where it is read. */
  function clock(): number {
    const at = now()
    if (!Number.isFinite(at)) fail('now', 'return a finite number of epoch ms')
    return at
  }

  /** Reports an event; a listener that throws or rejects changes nothing. */
  function emit(type: SessionEvent['type'], details?: Omit<SessionEvent, 'type' | 'at'>): void {
    try {
      Promise.resolve(onEvent?.({ type, at: clock(), ...details })).catch(() => {})
    } catch {}
  }

  const shared = share?.({ apiKey, baseUrl, timeout, now: clock, emit })

  /**
   * The renewal rule. Simple rules:
   * - a token from before the clock's present moment (a clock stepped back) is dropped;
   * - a token is served until it is due (its margin before expiry);
   * - after a failed renewal, a due token with more than `staleFloor` left is served stale.
   */
  function usableToken(at: number, { afterFailure = false } = {}): SharedToken | undefined {
    if (current && at < current.sentAt) {
      current = undefined
      emit('clock-jump')
    }
    if (!current) return undefined
    if (at < current.dueAt) return current
    return afterFailure && current.expiresAt - at > DEFAULTS.staleFloor ? current : undefined
  }

  function remember(token: AccessToken, type: 'authenticated' | 'refreshed'): SharedToken {
    const { expiresAt, expiresIn } = token
    const lifetime = expiresIn * 1000
    const margin = Math.min(refreshMargin * (1 + Math.random() / 2), lifetime / 2)
    const fresh = { token: token.accessToken, sentAt: expiresAt - lifetime, expiresAt, dueAt: expiresAt - margin }
    refreshToken = token.refreshToken
    current = fresh
    // A listener may call invalidate(): the renewal still hands out the token it got.
    emit(type, { expiresAt })
    return fresh
  }

  /**
   * One attempt: the latest refresh token if there is one, else the API key. A refresh token counts as spent once
   * sent, unless a 429 shows it was turned away unused; a rejected one falls back to the key at once.
   */
  async function renewOnce(): Promise<SharedToken> {
    const spent = refreshToken
    refreshToken = undefined
    if (spent) {
      try {
        return await exchange('refresh', spent)
      } catch (error) {
        const code = codeOf(error)
        if (code === 'RATE_LIMITED') refreshToken = spent
        if (code !== 'INVALID_REFRESH_TOKEN') throw error
        emit('refresh-rejected')
      }
    }
    return exchange('api-key', apiKey)
  }

  async function exchange(endpoint: Endpoint, secret: string): Promise<SharedToken> {
    const token = await sendOnce(buildRequest(endpoint, secret, where), call, { endpoint, secret, now: clock })
    return remember(token, endpoint === 'refresh' ? 'refreshed' : 'authenticated')
  }

  /**
   * The retry policy: milliseconds before the next attempt, or undefined to give up.
   * - Only retryable codes retry (rate limit, 5xx, network, timeout), at most `retries` times.
   * - Retry-After is authoritative when present; a long one (over `longestRetryAfter`) is not waited out, it locks
   *   renewals out until it has passed (the parsed header is at most `longestLockout`).
   * - Otherwise exponential backoff with full jitter, so a fleet does not retry in step.
   */
  function retryDelay(error: unknown, attempt: number): number | undefined {
    if (!isApiVideoAuthError(error) || !error.retryable) return undefined
    const { retryAfter } = error
    if (retryAfter !== undefined && retryAfter > DEFAULTS.longestRetryAfter) {
      lockedUntil = clock() + retryAfter * 1000
      return undefined
    }
    if (attempt >= retries) return undefined
    if (retryAfter !== undefined) return retryAfter * 1000
    return Math.random() * Math.min(DEFAULTS.backoffCap, DEFAULTS.backoffBase * 2 ** attempt)
  }

  async function renewWithRetries(): Promise<SharedToken> {
    for (let attempt = 0; ; attempt++) {
      try {
        const wait = (lockedUntil - clock()) / 1000
        // A wait longer than any lockout means the clock went back since it began: it is over.
        if (wait > 0 && wait <= DEFAULTS.longestLockout)
          throw new ApiVideoAuthError('RATE_LIMITED', { status: 429, retryAfter: wait })
        return await renewOnce()
      } catch (error) {
        const delay = retryDelay(error, attempt)
        const code = codeOf(error)
        if (delay === undefined) {
          emit('failed', { code, attempt })
          throw error
        }
        emit('retry', { code, attempt: attempt + 1, delay })
        await sleep(delay)
      }
    }
  }

  /** A renewal shared by every caller while it runs (and by the fleet, with `share`), forgotten once it settles. */
  async function renewShared(force: boolean): Promise<string> {
    try {
      const found = shared && !force ? await shared.take(rejected) : undefined
      if (found) {
        current = found
        emit('shared', { expiresAt: found.expiresAt })
        return found.token
      }
      const fresh = await renewWithRetries()
      shared?.put(fresh, { afterTake: !force }).catch(() => emit('store-error'))
      return fresh.token
    } catch (error) {
      const stale = usableToken(clock(), { afterFailure: true })
      if (!stale) throw error
      emit('served-stale', { code: codeOf(error), expiresAt: stale.expiresAt })
      return stale.token
    } finally {
      renewal = undefined
    }
  }

  /** One abort listener per signal per renewal, however many callers share that signal. */
  function waitForRenewal(signal: AbortSignal | undefined): Promise<string> {
    const { done, waits } = renewal!
    if (!signal) return done
    let wait = waits.get(signal)
    if (!wait) waits.set(signal, (wait = untilAborted(done, signal)))
    return wait
  }

  async function token(options?: TokenOptions): Promise<string> {
    const { signal, forceRefresh = false } = checkOptions('options', options, ['signal', 'forceRefresh'])
    checkSignal(signal)?.throwIfAborted()
    const fresh = forceRefresh ? undefined : usableToken(clock())
    if (fresh) return fresh.token
    renewal ??= { done: renewShared(forceRefresh), waits: new Map() }
    return waitForRenewal(signal)
  }

  function invalidate(refused?: string): void {
    if (refused !== undefined && typeof refused !== 'string') fail('token', 'be a string')
    // The dropped token is never taken back from a share: a plain invalidate() follows a 401 too.
    rejected = refused ?? current?.token ?? rejected
    if (current?.token === rejected) current = undefined
  }

  /**
   * What a caller's input means on this session's API, read once: a `URL` becomes its text, so changing the object
   * later changes nothing. Another origin never gets the token.
   */
  function target(input: string | URL | Request): string | Request {
    if (typeof input === 'string' && input.startsWith('/') && !input.startsWith('//')) return baseUrl + input
    let url: URL | undefined
    try {
      url = new URL(input instanceof Request ? input.url : input)
    } catch {}
    if (!url || url.origin !== origin)
      fail('input', `be a path, or a URL or Request on ${origin}, where the token belongs`)
    return input instanceof Request ? input : url.href
  }

  /**
   * After a 401: renew only if the token that got it is still the current one and is older than a minute, or no
   * 401 renewed in the last minute, so an API that refuses a fresh token for another reason causes no storm.
   * True when a replay may get another answer.
   */
  function renewAfter401(used: string): boolean {
    if (current?.token !== used) return true
    const at = clock()
    if (at - current.sentAt < DEFAULTS.recent401 && at - last401Renewal < DEFAULTS.recent401) return false
    last401Renewal = at
    invalidate(used)
    return true
  }

  async function authorizedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    if (init !== undefined && (typeof init !== 'object' || init === null)) fail('init', 'be an object')
    // Built at once, as fetch builds it: a URL or a buffer the caller changes after this call changes nothing sent,
    // and a Request input's own body is taken now, as fetch takes it.
    const request = new Request(target(input), init)
    const once = request.body !== null && !replayable(init?.body)
    // The replay's copy, taken now from the request as built, not from `init` again (the caller may change it, or it
    // may be read once): its headers, and a body given in `init` again (bytes copied now; a Blob or FormData stays
    // lazy, where a clone would hold it whole in memory; FormData gets a boundary, so a content type, of its own).
    const headers = new Headers(request.headers)
    if (init?.body instanceof FormData) headers.delete('content-type')
    const spare = request.body !== null && !once ? new Request(request, { body: init!.body, headers }) : undefined
    const signal = request.signal
    const send = (to: Request, bearer: string) => {
      to.headers.set('authorization', `Bearer ${bearer}`)
      return (givenFetch ?? globalThis.fetch)(to) as Promise<Response>
    }
    const used = await token({ signal })
    const response = await send(request, used)
    if (response.status !== 401 || !renewAfter401(used) || once) return response
    try {
      await response.body?.cancel()
    } catch {}
    return send(spare ?? new Request(request, { headers }), await token({ signal }))
  }

  return Object.freeze({
    token,
    authorization: async (options?: Omit<TokenOptions, 'forceRefresh'>) =>
      `Bearer ${await token(checkOptions('options', options, ['signal']))}`,
    fetch: authorizedFetch,
    invalidate,
  })
}
