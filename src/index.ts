// apivideo-auth: api.video authentication for any JavaScript runtime with `fetch`.
//
// One self-contained file, read top to bottom: constants and defaults, types, the errors, argument checks, the two
// request builders, reading an answer, sending one request, and the session that chains them (its settings, the
// held token, the renewal rule and policy, the renewal itself, and its authorized fetch). It imports nothing: copy
// it into a project as it is (the `.ts` file for Deno and Bun, `dist/index.js` for Node and Workers).

// ---------------------------------------------------------------------------------------------------------------
// Constants and defaults
// ---------------------------------------------------------------------------------------------------------------

/** api.video's production API. */
export const PRODUCTION_URL = 'https://ws.api.video'
/** api.video's sandbox API (separate keys; videos are watermarked). */
export const SANDBOX_URL = 'https://sandbox.api.video'

// What a caller can override, each with the option that overrides it.
const DEFAULT_TIMEOUT_MS = 10_000 // `timeout`: each attempt gives up after 10 s, the answer's body included
const DEFAULT_REFRESH_MARGIN_MS = 5 * 60_000 // `refreshMargin`: due 5 min before expiry, plus up to 50% jitter
const DEFAULT_RETRIES = 2 // `retries`: two more attempts after a failure that retrying may fix
// `rateLimitWait`: a session.fetch call waits up to a minute in all for the rate limit (api.video's window), so a
// script's calls all succeed; a server whose own clients give up sooner sets less.
const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000

// Fixed limits, each with its reason.
// A token this close to expiry is not handed out while a renewal may still succeed: it must outlive the call it
// goes on (bounded by the 10 s default timeout) and the clock difference with api.video. Callers wait for a renewal
// inside it; outside it they get the held token while the renewal runs in the background.
const HARD_WINDOW_MS = 30_000
// After a renewal failed, the next background renewal waits this long, so an outage is not hit on every call.
const PAUSE_AFTER_FAILURE_MS = 15_000
const BACKOFF_BASE_MS = 250 // The first backoff draws from 0-250 ms, doubling each attempt…
const BACKOFF_CAP_MS = 4_000 // …up to 0-4 s
const WAIT_RETRY_AFTER_UP_TO_S = 10 // A longer Retry-After is not waited out: it locks renewals out until it ends
const LONGEST_LOCKOUT_S = 3_600 // No Retry-After locks renewals out for more than an hour
const RECENT_401_MS = 60_000 // A 401 on a token younger than a minute renews at most once a minute
const ANSWER_BYTES = 64 * 1024 // An auth answer is read up to 64 KiB
const LONGEST_LIFETIME_S = 86_400 // An expires_in above a day is refused
const LONGEST_TIMER_MS = 2 ** 31 - 1 // The longest delay setTimeout can hold
const MOST_REDIRECTS = 20 // The fetch standard's limit
// A budget no answer has described yet lets one call out at a time, for so long at most: its answer says the limit.
const FIRST_ANSWER_WAIT_MS = 1_000
const GUESSED_WINDOW_MS = 60_000 // api.video's window, until a Retry-After shows the length of this one
// The fleet's count is still spent past this session's reset: another instance saw the window end later. Ask again.
const FLEET_COUNTS_WINDOWS = 3 // The fleet's count goes on this many windows after its budget last ran short
/** What every request to the API says of its sender (api.video's attribution header); the build checks the version. */
const ORIGIN_SDK = 'apivideo-auth:1.1.0'

const ENV_KEY = 'APIVIDEO_API_KEY'
const ENV_BASE_URL = 'APIVIDEO_BASE_URL'
/** Header-safe: 1 to 8,192 visible ASCII characters. Keys and tokens are read and sent under this one rule. */
const HEADER_SAFE = /^[!-~]{1,8192}$/
const isHeaderSafe = (value: unknown): value is string => typeof value === 'string' && HEADER_SAFE.test(value)
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

/** Which auth endpoint an answer came from: it decides what a 400 or 401 means. */
export type Endpoint = 'api-key' | 'refresh'

/** Options of `readAccessToken`. */
export interface ReadOptions {
  /** The endpoint the request went to. */
  endpoint: Endpoint
  /** Epoch ms when the request was sent (the token's life counts from then); `Date.now()` by default. */
  sentAt?: number | undefined
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

/** An access token as a session holds it (and instances share it): the token and its times, epoch ms. */
export interface CachedToken {
  token: string
  /** When its request was sent: its life counts from then. */
  sentAt: number
  expiresAt: number
  /** When its renewal starts (in the background). */
  dueAt: number
}

/** The token a session hands out, with its expiry (epoch ms on the session's clock). */
export interface TokenWithExpiry {
  token: string
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

/**
 * Which of api.video's rate-limit budgets a request counts against: `upload` (`POST /upload`, `POST
 * /videos/{videoId}/source`), `write` (any other `POST`, `PUT`, `PATCH`, `DELETE`) or `read` (`GET`, `HEAD`).
 */
export type RateLimitKind = 'read' | 'write' | 'upload'

/** One window of a rate-limit budget, as a fleet counts it: its limit, its end (epoch ms) and its length. */
export interface FleetWindow {
  limit: number
  endsAt: number
  windowMs: number
}

/** Which store call of a share add-on failed; `open` is a value that was read but could not be used. */
export type ShareCall = 'get' | 'set' | 'claim' | 'open' | 'lease' | 'increment'

/**
 * What a session reports, one member per `type`, each with the fields it always has. Events carry codes, times,
 * counts and error names, never a secret. `at` is epoch ms from the session's clock.
 */
export type SessionEvent =
  /** A renewal begins: in the background while callers get the held token, or with callers waiting for it. */
  | { type: 'renewal-started'; at: number; background: boolean }
  /** A token came from `POST /auth/api-key`. */
  | { type: 'authenticated'; at: number; expiresAt: number }
  /** A token came from `POST /auth/refresh`. */
  | { type: 'refreshed'; at: number; expiresAt: number }
  /** The refresh token was refused (`INVALID_REFRESH_TOKEN`): the same renewal falls back to the API key. */
  | { type: 'refresh-rejected'; at: number }
  /** An attempt failed in a way retrying may fix: the next one starts after `delayMs`. */
  | { type: 'retrying'; at: number; code: ErrorCode; attempt: number; delayMs: number }
  /** A renewal gave up (`code` is undefined for an error that is not an `ApiVideoAuthError`). */
  | { type: 'renewal-failed'; at: number; code: ErrorCode | undefined; attempt: number }
  /** A renewal failed, and the held token, still outside the hard window, is handed out meanwhile. */
  | { type: 'served-stale'; at: number; code: ErrorCode | undefined; expiresAt: number }
  /**
   * A `session.fetch` call waits for the rate limit of its `kind`: after a 429 (`too-many-requests`), or because the
   * window's budget is spent (`budget-spent`). `remaining` is what the window had left as last seen.
   */
  | {
      type: 'rate-limit-wait'
      at: number
      kind: RateLimitKind
      delayMs: number
      remaining: number
      reason: 'too-many-requests' | 'budget-spent'
    }
  /** The clock went back before the held token was sent: the token was dropped. */
  | { type: 'clock-jumped'; at: number }
  /** Another instance's token was taken from the share instead of renewing. */
  | { type: 'shared-token-used'; at: number; expiresAt: number }
  /** A store call of the share failed (`call`), or a value read could not be used (`open`), and why. */
  | { type: 'share-failed'; at: number; call: ShareCall; error: { name: string; message: string } }

/** An event before the session stamps its time. */
type Unstamped<E> = E extends unknown ? Omit<E, 'at'> : never
/** The events a share add-on reports. */
export type ShareEvent = Unstamped<Extract<SessionEvent, { type: 'shared-token-used' | 'share-failed' }>>

/** What a session lends a share add-on such as `shareTokens` from `apivideo-auth/share`. */
export interface ShareContext {
  apiKey: string
  /** The session's base URL, without a trailing slash. */
  baseUrl: string
  /** Bound every store call by it. */
  timeoutMs: number
  now: () => number
  emit: (event: ShareEvent) => void
}

/** The hook a share add-on returns: the share protocol, one call per renewal. */
export interface TokenShare {
  /**
   * One renewal for the fleet: another instance's token (unless `force`, and never `refused`), or the token
   * `renewHere` gets, written for the others in the background. Never rejects for a store's sake.
   */
  renew(
    renewHere: () => Promise<CachedToken>,
    options: { force: boolean; refused: string | undefined },
  ): Promise<CachedToken>
  /** Resolves once every background write has ended. */
  settled(): Promise<void>
  /**
   * Counts one call of `kind` against the fleet's count of `window` (its end on the session's clock): true when it
   * may be sent (at most `window.limit` calls), false when the fleet has spent the window, undefined when the store
   * could not say. Optional.
   */
  take?(kind: RateLimitKind, window: FleetWindow): Promise<boolean | undefined>
  /**
   * The window of `kind` the fleet counts, as the first count of a window stored it (its end may have passed), for a
   * session that has had no answer yet; undefined when none is. The session takes it only if it is a window (whole
   * numbers, at most a minute long, ending within one). Optional, with `take`.
   */
  window?(kind: RateLimitKind): Promise<FleetWindow | undefined>
}

/** Options of `createSession`; only `apiKey` matters, and it may come from `APIVIDEO_API_KEY`. */
export interface SessionOptions extends Omit<CallOptions, 'signal'> {
  /** The API key; `APIVIDEO_API_KEY` from the environment when absent (Node, Bun, Deno). */
  apiKey?: string | undefined
  /** Milliseconds before expiry at which a token falls due; 300,000 by default, plus up to 50% jitter. */
  refreshMargin?: number | undefined
  /** Extra attempts after a failure that retrying may fix; 2 by default. */
  retries?: number | undefined
  /** The clock, epoch ms; by default monotonic (`performance.now()`), catching up with the wall clock after sleep. */
  now?: (() => number) | undefined
  /** Called with every event; a listener that throws or rejects is ignored. */
  onEvent?: ((event: SessionEvent) => unknown) | undefined
  /** Share access tokens between instances: `shareTokens(store)` from `apivideo-auth/share`. */
  share?: ((context: ShareContext) => TokenShare) | undefined
  /**
   * The longest a `session.fetch` call waits for api.video's rate limit, in ms, in all: held while its budget is
   * spent, or after a 429; 60,000 by default. 0 sends every call at once and hands every 429 to the caller.
   */
  rateLimitWait?: number | undefined
}

/** Per-call options of `session.token()` and `session.tokenWithExpiry()`. */
export interface TokenOptions {
  /** Stops this caller's wait only; a renewal shared with others goes on. */
  signal?: AbortSignal | undefined
  /** Renew even a fresh token, sharing any renewal in flight. */
  forceRefresh?: boolean | undefined
}

/** A token source that always hands out a valid access token. */
export interface Session {
  /** The access token, from memory while it is fresh; renewed in the background once due. */
  token(options?: TokenOptions): Promise<string>
  /** The access token with its expiry, for code that hands it on (another client, a queue, a player). */
  tokenWithExpiry(options?: TokenOptions): Promise<TokenWithExpiry>
  /** `"Bearer <token>"`. */
  authorization(options?: Omit<TokenOptions, 'forceRefresh'>): Promise<string>
  /**
   * `fetch` on the session's API with `Authorization` set. A path (starting with `/`) resolves against `baseUrl`;
   * a URL or `Request` on another origin is refused; both are read at the call, as `fetch` reads them. Redirects
   * are followed by the session, the token sent only while they stay on its origin. A 401 renews (once for many
   * callers) and replays once a body given in `init` as bytes, text, a `Blob`, `FormData` or `URLSearchParams`.
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>
  /**
   * Drops the cached access token; the next call renews. Given the token that was refused, drops it only if it is
   * still the current one, so many 401s cause one renewal.
   */
  invalidate(token?: string): void
  /**
   * Resolves once background work (a renewal, a store write) has ended: await it before a short-lived process
   * ends (a CLI, a Lambda invocation; `ctx.waitUntil(session.settled())` in a Worker).
   */
  settled(): Promise<void>
}

// ---------------------------------------------------------------------------------------------------------------
// The errors
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
  // Refusals of `verifyWebhook` (apivideo-auth/webhooks): never from an auth call.
  | 'INVALID_SIGNATURE'
  | 'INVALID_WEBHOOK'
  // From `privateVideo` (apivideo-auth/private): no video has that id.
  | 'VIDEO_NOT_FOUND'

/** The `code` of every `TypeError` the package throws for a bad argument. */
export type ArgumentErrorCode = 'ERR_INVALID_ARGUMENT' | 'ERR_UNKNOWN_OPTION' | 'ERR_MISSING_API_KEY'

/** A `TypeError` for a bad argument, with its code. */
export interface ArgumentError extends TypeError {
  code: ArgumentErrorCode
}

/** What a person can do about a failure. */
const HINTS: Partial<Record<ErrorCode, string>> = {
  INVALID_CREDENTIALS: 'check the key and its environment (production or sandbox)',
  INVALID_REFRESH_TOKEN: 'authenticate with the API key again',
  ACCESS_DENIED: 'is the account suspended?',
  NETWORK_ERROR: 'check the base URL and the network',
}
const RETRYABLE: ErrorCode[] = ['RATE_LIMITED', 'SERVER_ERROR', 'NETWORK_ERROR', 'TIMEOUT']

interface ErrorDetails {
  status?: number | undefined
  problem?: ProblemDetails | undefined
  retryAfter?: number | undefined
  /** What failed, in words with no secret: the field of an answer, the host a request could not reach. */
  detail?: string | undefined
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
    const { status, problem, retryAfter, detail, cause } = details
    const retryable = RETRYABLE.includes(code)
    const wait = retryAfter === undefined ? 'retry later' : `retry in ${retryAfter} s`
    const hint = HINTS[code] ?? (retryable ? wait : undefined)
    const title = typeof problem?.title === 'string' ? `, ${printable(problem.title)}` : ''
    const http = status ? ` (HTTP ${status}${title})` : ''
    const words = [`api.video: ${code.toLowerCase().replace(/_/g, ' ')}${http}`, detail, hint]
    const message = `${words.filter(Boolean).join(': ')}.`
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
  const error = value as Partial<ApiVideoAuthError> | null
  return (
    Object.prototype.toString.call(error) === '[object Error]' &&
    error?.name === 'ApiVideoAuthError' &&
    typeof error.code === 'string'
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

function argumentError(message: string, code: ArgumentErrorCode = 'ERR_INVALID_ARGUMENT'): ArgumentError {
  return Object.assign(new TypeError(message), { code })
}

function fail(name: string, must: string): never {
  throw argumentError(`${name} must ${must}`)
}

/** The option names a function knows, typed so that the compiler fails when one is missing. */
type Known<T> = { [K in keyof T]-?: true }
const REQUEST_OPTIONS: Known<RequestOptions> = { baseUrl: true, headers: true }
// Written out, not spread from one another: a bundler drops the lists a program does not use only then.
const CALL_OPTIONS: Known<CallOptions> = { baseUrl: true, headers: true, fetch: true, signal: true, timeout: true }
const READ_OPTIONS: Known<ReadOptions> = { endpoint: true, sentAt: true }
const TOKEN_OPTIONS: Known<TokenOptions> = { signal: true, forceRefresh: true }
const AUTHORIZATION_OPTIONS: Known<Omit<TokenOptions, 'forceRefresh'>> = { signal: true }
const SESSION_OPTIONS: Known<SessionOptions> = {
  baseUrl: true,
  headers: true,
  fetch: true,
  timeout: true,
  apiKey: true,
  refreshMargin: true,
  retries: true,
  now: true,
  onEvent: true,
  share: true,
  rateLimitWait: true,
}

const NO_OPTIONS = Object.freeze({})

/** An options object (`{}` when absent) with no property outside `known`; a near miss is named. */
function checkOptions<T extends object>(name: string, value: T | undefined, known: Known<T>): T {
  // One shared empty object: a cached token() allocates nothing for its absent options.
  if (value === undefined) return NO_OPTIONS as T
  if (typeof value !== 'object' || value === null) fail(name, 'be an object')
  const names = Object.keys(known)
  for (const property of Object.keys(value)) {
    if (names.includes(property)) continue
    const loose = (word: string) => word.toLowerCase().replace(/ms$/, '')
    const meant = names.find((candidate) => loose(candidate) === loose(property))
    throw argumentError(`unknown option ${property}${meant ? ` (did you mean ${meant}?)` : ''}`, 'ERR_UNKNOWN_OPTION')
  }
  return value
}

/** An API key or refresh token: header-safe, since it is sent back in a body or header. */
function checkSecret(name: string, value: unknown): string {
  if (isHeaderSafe(value)) return value
  // The type it got, never the value.
  let got: string = typeof value
  if (typeof value === 'string') got = 'another string'
  else if (value === null) got = 'null'
  return fail(name, `be 1-8192 visible ASCII characters (got ${got})`)
}

/** An absolute `https:` base URL (`http:` on loopback only), without its trailing slashes. */
function checkBaseUrl(value: unknown, name = 'baseUrl'): string {
  let url: URL | undefined
  try {
    url = new URL(value as string)
  } catch {}
  // Anything beyond origin and path (credentials, a query or a hash, even an empty one) shows in `href`.
  if (!url || url.href !== url.origin + url.pathname || !SECURE_ORIGIN.test(url.origin)) {
    fail(name, 'be an https: URL (http: on loopback only), with no credentials, query or hash')
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

/** The sending options shared by `authenticate`, `refresh` and `createSession`. */
function checkCallOptions(options: CallOptions): void {
  checkFunction('fetch', options.fetch)
  if (options.timeout !== undefined) checkNumber('timeout', options.timeout, { min: 1, max: LONGEST_TIMER_MS })
  checkSignal(options.signal)
}

// ---------------------------------------------------------------------------------------------------------------
// The two request builders: pure, nothing is sent
// ---------------------------------------------------------------------------------------------------------------

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
 * const next = await readAccessToken(await fetch(refreshRequest(token.refreshToken)), { endpoint: 'refresh' })
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
  if (!all.has('av-origin-sdk')) all.set('av-origin-sdk', ORIGIN_SDK)
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
 * Reads an answer of `/auth/api-key` or `/auth/refresh` (say which: it decides what a 400 means) into a token, or
 * throws an `ApiVideoAuthError` with the code for what went wrong. The body is read up to 64 KiB; tokens must be
 * header-safe, lifetimes at most a day.
 * @example
 * const sentAt = Date.now()
 * const token = await readAccessToken(await fetch(authenticateRequest(apiKey)), { endpoint: 'api-key', sentAt })
 */
export async function readAccessToken(response: Response, options: ReadOptions): Promise<AccessToken> {
  if (typeof response?.text !== 'function') fail('response', 'be a Response')
  const { endpoint, sentAt = Date.now() } = checkOptions('options', options, READ_OPTIONS)
  if (endpoint !== 'api-key' && endpoint !== 'refresh') fail('endpoint', "be 'api-key' or 'refresh'")
  checkNumber('sentAt', sentAt)
  return readAnswer(response, { sentAt, endpoint })
}

interface AnswerOptions {
  sentAt: number
  endpoint: Endpoint
  /** What was sent and may be echoed back: scrubbed from an error's problem after decoding. */
  secret?: string
  /** Ends the reading: the body is cancelled. */
  signal?: AbortSignal
}

async function readAnswer(
  response: Response,
  { sentAt, endpoint, secret, signal }: AnswerOptions,
): Promise<AccessToken> {
  const { status, headers } = response
  const ok = status >= 200 && status < 300
  const code = ok ? 'INVALID_RESPONSE' : errorCodeFor(status, endpoint)
  const text = await readLimited(response, code, { signal, secret })
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {}
  const object =
    typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined
  if (ok) return tokenFrom(object, { status, sentAt })
  const problem = object && scrub(object, secret)
  const retryAfter = code === 'RATE_LIMITED' ? retryAfterOf(headers) : undefined
  // An auth endpoint that is not there: most often a base URL with a path that api.video does not have.
  const detail = status === 404 ? 'no auth endpoint at this URL: check the base URL and its path' : undefined
  throw new ApiVideoAuthError(code, { status, problem, retryAfter, detail })
}

/** A 2xx body into a token; the first field that fails is named, as api.video's JSON spells it. */
function tokenFrom(
  body: Record<string, unknown> | undefined,
  { status, sentAt }: { status: number; sentAt: number },
) {
  const invalid = (detail: string) => new ApiVideoAuthError('INVALID_RESPONSE', { status, detail })
  if (!body) throw invalid('the body is not a JSON object')
  const { access_token: accessToken, refresh_token: refreshToken, expires_in: expiresIn, token_type: type } = body
  const tokens: [string, unknown][] = [
    ['access_token', accessToken],
    ['refresh_token', refreshToken],
  ]
  for (const [field, value] of tokens) {
    if (!isHeaderSafe(value)) throw invalid(`"${field}" must be 1-8192 visible ASCII characters`)
  }
  if (typeof expiresIn !== 'number' || !(expiresIn >= 1 && expiresIn <= LONGEST_LIFETIME_S))
    throw invalid(`"expires_in" must be a number of seconds from 1 to ${LONGEST_LIFETIME_S}`)
  const token = {
    accessToken,
    tokenType: isHeaderSafe(type) ? type : 'Bearer',
    expiresIn,
    expiresAt: sentAt + expiresIn * 1000,
  }
  return Object.defineProperty(token, 'refreshToken', { value: refreshToken, writable: true }) as AccessToken
}

/** The body as text, at most `ANSWER_BYTES`: past that, or on an abort, the rest is cancelled. */
async function readLimited(
  response: Response,
  code: ErrorCode,
  { signal, secret }: { signal?: AbortSignal | undefined; secret?: string | undefined },
): Promise<string> {
  const { body, status } = response
  if (!body) return ''
  // A body that is not a web stream (a Node stream from a fetch polyfill) cannot be read within the limit.
  if (typeof body.getReader !== 'function')
    throw new ApiVideoAuthError(code, { status, detail: 'the body is not a web stream' })
  const reader = body.getReader()
  const cancel = () => reader.cancel().catch(() => {})
  if (signal?.aborted) void cancel()
  signal?.addEventListener('abort', cancel)
  const chunks: BlobPart[] = []
  let size = 0
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      // Chunks that are not bytes (text from a polyfill) have no size to count: refused like an answer too long.
      size += ArrayBuffer.isView(chunk.value) ? chunk.value.byteLength : Infinity
      if (size > ANSWER_BYTES) {
        void cancel()
        throw new ApiVideoAuthError(code, { status, detail: `the answer is over ${ANSWER_BYTES} bytes` })
      }
      chunks.push(chunk.value)
    }
  } catch (error) {
    if (isApiVideoAuthError(error)) throw error
    throw new ApiVideoAuthError('NETWORK_ERROR', { status, cause: safeCause(error, secret) })
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
 * A Retry-After's wait in ms: counted up to whole seconds, as the server counts them (one that is an HTTP date is a
 * fraction), and a whole one at least.
 */
const waitOf = (seconds: number) => Math.max(Math.ceil(seconds), 1) * 1000

/** Seconds to wait from api.video's `X-RateLimit-Retry-After`, or a standard `Retry-After`. */
const retryAfterOf = (headers: Headers) =>
  retryAfterSeconds(headers.get('x-ratelimit-retry-after') ?? headers.get('retry-after'))

/**
 * Seconds from a `Retry-After`-style header, at most an hour: a plain number of seconds, or one HTTP date written
 * exactly as `toUTCString` writes it. Anything else (`5, 5` from two headers) is undefined: the normal backoff.
 */
function retryAfterSeconds(value: string | null): number | undefined {
  const text = value?.trim() ?? ''
  const date = Date.parse(text)
  let seconds = NaN
  if (/^\d+(\.\d+)?$/.test(text)) seconds = Number(text)
  else if (new Date(date).toUTCString() === text) seconds = (date - Date.now()) / 1000
  return Number.isNaN(seconds) ? undefined : Math.min(Math.max(0, seconds), LONGEST_LOCKOUT_S)
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
  const { fetch = globalThis.fetch, signal, timeout = DEFAULT_TIMEOUT_MS } = call
  signal?.throwIfAborted()
  const sentAt = now()
  const controller = new AbortController()
  const stop = () => controller.abort(signal?.reason)
  const timer = setTimeout(() => controller.abort(new ApiVideoAuthError('TIMEOUT')), timeout)
  signal?.addEventListener('abort', stop)
  const exchange = async () => {
    const sent = new Request(request, { signal: controller.signal })
    const response = (await fetch(sent, { signal: controller.signal })) as Response
    return readAnswer(response, { sentAt, endpoint, secret, signal: controller.signal })
  }
  try {
    return await untilAborted(exchange(), controller.signal)
  } catch (error) {
    if (controller.signal.aborted) throw controller.signal.reason
    if (isApiVideoAuthError(error)) throw error
    throw networkError(error, new URL(request.url).host, secret)
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', stop)
  }
}

/**
 * What fetch threw, as `NETWORK_ERROR`: the message names the host and the system's code (`ECONNREFUSED`,
 * `ENOTFOUND`…). The original is the `cause`, unless something along its chain mentions the secret (a test double
 * that echoes the request body): then it is dropped.
 */
function networkError(error: unknown, host: string, secret: string): ApiVideoAuthError {
  let code: string | undefined
  let link: any = error
  for (let depth = 0; depth < 8 && link != null && code === undefined; depth++, link = link.cause) {
    if (/^[A-Z][A-Z0-9_]{1,39}$/.test(link.code)) code = link.code
  }
  const detail = `could not reach ${host}${code ? ` (${code})` : ''}`
  return new ApiVideoAuthError('NETWORK_ERROR', { detail, cause: safeCause(error, secret) })
}

/**
 * `error`, unless a string reachable from it mentions the secret, as it was sent or JSON-escaped: its own
 * properties, enumerable or not (`message`, `stack`, `cause`, `errors`, an `options.body`…), four levels deep and
 * 100 values at most; past that bound it is dropped too, as it cannot be shown clean.
 */
function safeCause(error: unknown, secret: string | undefined): unknown {
  if (secret === undefined) return error
  const texts = [secret, JSON.stringify(secret).slice(1, -1)]
  const seen = new Set<unknown>()
  const mentions = (value: unknown, depth: number): boolean => {
    if (typeof value === 'string') return texts.some((text) => value.includes(text))
    if (typeof value !== 'object' || value === null || seen.has(value)) return false
    seen.add(value)
    if (depth > 4 || seen.size > 100) return true
    return Object.getOwnPropertyNames(value).some((name) => {
      try {
        return mentions((value as Record<string, unknown>)[name], depth + 1)
      } catch {
        return true
      }
    })
  }
  return mentions(error, 0) ? undefined : error
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
// The session: its settings
// ---------------------------------------------------------------------------------------------------------------

/** A variable of the environment, where the runtime has one (Node, Bun; Deno with --allow-env); empty is none. */
function fromEnvironment(name: string): string | undefined {
  const { Deno, process } = globalThis as any
  let value: unknown
  try {
    value = Deno ? Deno.env.get(name) : process?.env?.[name]
  } catch {}
  return typeof value === 'string' && value !== '' ? value : undefined
}

function apiKeyFromEnvironment(): string {
  const key = fromEnvironment(ENV_KEY)
  if (key !== undefined) return key
  const workers = (globalThis as any).navigator?.userAgent === 'Cloudflare-Workers'
  const pass = workers ? `pass { apiKey: env.${ENV_KEY} }` : `pass { apiKey } or set ${ENV_KEY}`
  throw argumentError(`apiKey is missing: ${pass}`, 'ERR_MISSING_API_KEY')
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
    // The wall first: a pause between the two reads (the thread preempted) then makes the lead seem smaller, which
    // the next read mends, never larger, which would put the clock ahead of the wall for good.
    const wall = Date.now()
    const monotonic = origin + performance.now()
    lead = Math.max(lead, wall - monotonic)
    return monotonic + lead
  }
}

/** A session's settings, checked, with the defaults and the environment applied. */
interface Settings {
  apiKey: string
  baseUrl: string
  origin: string
  headers: RequestOptions['headers']
  fetch: FetchFunction | undefined
  timeoutMs: number
  refreshMarginMs: number
  retries: number
  share: SessionOptions['share']
  rateLimitWaitMs: number
}

function sessionSettings(given: SessionOptions): Settings {
  const apiKey = checkSecret('apiKey', given.apiKey === undefined ? apiKeyFromEnvironment() : given.apiKey)
  const {
    headers,
    fetch,
    timeout = DEFAULT_TIMEOUT_MS,
    refreshMargin = DEFAULT_REFRESH_MARGIN_MS,
    retries = DEFAULT_RETRIES,
    share,
    rateLimitWait = DEFAULT_RATE_LIMIT_WAIT_MS,
  } = given
  const environmentUrl = fromEnvironment(ENV_BASE_URL)
  const baseUrl =
    given.baseUrl === undefined && environmentUrl !== undefined
      ? checkBaseUrl(environmentUrl, ENV_BASE_URL)
      : checkBaseUrl(given.baseUrl === undefined ? PRODUCTION_URL : given.baseUrl)
  // Checked now without building a Request: a Worker may create the session at global scope.
  checkHeaders(headers)
  checkCallOptions(given)
  checkNumber('refreshMargin', refreshMargin)
  checkNumber('retries', retries, { integer: true })
  checkNumber('rateLimitWait', rateLimitWait, { max: LONGEST_TIMER_MS })
  checkFunction('now', given.now)
  checkFunction('onEvent', given.onEvent)
  checkFunction('share', share)
  const origin = new URL(baseUrl).origin
  return {
    apiKey,
    baseUrl,
    origin,
    headers,
    fetch,
    timeoutMs: timeout,
    refreshMarginMs: refreshMargin,
    retries,
    share,
    rateLimitWaitMs: rateLimitWait,
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The session: the held token, the renewal rule, the retry policy
// ---------------------------------------------------------------------------------------------------------------

type Emit = (event: Unstamped<SessionEvent>) => void

/** What a session knows (the held token, the latest refresh token, the last refused token), and what changes it. */
function holdTokens(emit: Emit) {
  let current: CachedToken | undefined
  let refreshToken: string | undefined
  let refused: string | undefined
  return {
    current: () => current,
    refused: () => refused,
    hold(token: CachedToken): void {
      current = token
    },
    /** A token sent after `at` means the clock went back since: it is dropped, with an event. */
    dropIfClockWentBack(at: number): void {
      if (current && at < current.sentAt) {
        current = undefined
        emit({ type: 'clock-jumped' })
      }
    },
    /** Drops the held token: `token` only while it is the held one; with none, whatever is held. */
    refuse(token?: string): void {
      // Remembered even when no longer held: a share must not hand the refused token back.
      refused = token ?? current?.token ?? refused
      if (current?.token === refused) current = undefined
    },
    /** The refresh token, now spent: api.video accepts each one once. */
    spendRefreshToken(): string | undefined {
      const spent = refreshToken
      refreshToken = undefined
      return spent
    },
    keepRefreshToken(token: string): void {
      refreshToken = token
    },
  }
}
type TokenHolder = ReturnType<typeof holdTokens>

/**
 * A token's times: due `marginMs` before expiry plus up to 50% jitter (so a fleet started together does not renew
 * together), and never earlier than halfway through its life.
 */
function cachedToken({ accessToken, expiresAt, expiresIn }: AccessToken, marginMs: number): CachedToken {
  const lifetime = expiresIn * 1000
  const margin = Math.min(marginMs * (1 + Math.random() / 2), lifetime / 2)
  return { token: accessToken, sentAt: expiresAt - lifetime, expiresAt, dueAt: expiresAt - margin }
}

/** The renewal rule, part one: from its due time a token is renewed in the background, and still handed out. */
function shouldRenew(token: CachedToken, at: number): boolean {
  return at >= token.dueAt
}

/**
 * The renewal rule, part two: inside the hard window (30 s before expiry, or the last quarter of a shorter life)
 * callers wait for a renewal, and get the token again only if the renewal fails while it is still outside.
 */
function mustRenew(token: CachedToken, at: number): boolean {
  return token.expiresAt - at <= Math.min(HARD_WINDOW_MS, (token.expiresAt - token.sentAt) / 4)
}

/**
 * The retry policy: milliseconds before the next attempt, or undefined to give up.
 * - Only retryable codes retry (rate limit, 5xx, network, timeout), at most `retries` times.
 * - Retry-After is authoritative: waited out up to `WAIT_RETRY_AFTER_UP_TO_S`; a longer one gives up (and locks
 *   renewals out, see `lockoutMs`).
 * - Otherwise exponential backoff with full jitter, so a fleet does not retry in step.
 */
function retryDelay(error: unknown, attempt: number, retries: number): number | undefined {
  if (!isApiVideoAuthError(error) || !error.retryable || attempt >= retries) return undefined
  const { retryAfter } = error
  if (retryAfter !== undefined) return retryAfter > WAIT_RETRY_AFTER_UP_TO_S ? undefined : retryAfter * 1000
  return Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt)
}

/** How long a Retry-After too long to wait out keeps renewals from sending anything (ms); 0 for any other error. */
function lockoutMs(error: unknown): number {
  const retryAfter = isApiVideoAuthError(error) ? (error.retryAfter ?? 0) : 0
  return retryAfter > WAIT_RETRY_AFTER_UP_TO_S ? retryAfter * 1000 : 0
}

// ---------------------------------------------------------------------------------------------------------------
// The session: renewing
// ---------------------------------------------------------------------------------------------------------------

interface SessionParts {
  clock: () => number
  emit: Emit
  held: TokenHolder
}

/**
 * The attempts of one renewal: the latest refresh token if there is one, else the API key, retried by the retry
 * policy. A Retry-After too long to wait out locks every later renewal out until it ends.
 */
function createAttempts(settings: Settings, { clock, emit, held }: SessionParts) {
  const { apiKey, baseUrl, headers, fetch, timeoutMs, refreshMarginMs, retries } = settings
  let lockedUntil = 0

  async function exchange(endpoint: Endpoint, secret: string): Promise<CachedToken> {
    const request = buildRequest(endpoint, secret, { baseUrl, headers })
    const answer = await sendOnce(request, { fetch, timeout: timeoutMs }, { endpoint, secret, now: clock })
    held.keepRefreshToken(answer.refreshToken)
    emit({ type: endpoint === 'refresh' ? 'refreshed' : 'authenticated', expiresAt: answer.expiresAt })
    return cachedToken(answer, refreshMarginMs)
  }

  /**
   * One attempt: the latest refresh token if there is one, else the API key. A refresh token counts as spent once
   * sent, unless a 429 shows it was turned away unused; a rejected one falls back to the key at once.
   */
  async function renewOnce(): Promise<CachedToken> {
    const spent = held.spendRefreshToken()
    if (spent) {
      try {
        return await exchange('refresh', spent)
      } catch (error) {
        const code = codeOf(error)
        if (code === 'RATE_LIMITED') held.keepRefreshToken(spent)
        if (code !== 'INVALID_REFRESH_TOKEN') throw error
        emit({ type: 'refresh-rejected' })
      }
    }
    return exchange('api-key', apiKey)
  }

  return async function renewWithRetries(): Promise<CachedToken> {
    for (let attempt = 0; ; attempt++) {
      try {
        const waitS = Math.ceil((lockedUntil - clock()) / 1000)
        // A wait longer than any lockout means the clock went back since it began: it is over.
        if (waitS > 0 && waitS <= LONGEST_LOCKOUT_S)
          throw new ApiVideoAuthError('RATE_LIMITED', { retryAfter: waitS, detail: 'an earlier Retry-After holds' })
        return await renewOnce()
      } catch (error) {
        const lockout = lockoutMs(error)
        if (lockout > 0) lockedUntil = clock() + lockout
        const delayMs = retryDelay(error, attempt, retries)
        const code = codeOf(error)
        if (delayMs === undefined || code === undefined) {
          emit({ type: 'renewal-failed', code, attempt })
          throw error
        }
        emit({ type: 'retrying', code, attempt: attempt + 1, delayMs })
        await sleep(delayMs)
      }
    }
  }
}

/** Renewals: one at a time, shared by every caller that waits and, with `share`, by the fleet. */
function createRenewals(settings: Settings, parts: SessionParts) {
  const { apiKey, baseUrl, timeoutMs, share } = settings
  const { clock, emit, held } = parts
  const shareHook = share?.({ apiKey, baseUrl, timeoutMs, now: clock, emit })
  const renewWithRetries = createAttempts(settings, parts)
  let pausedUntil = 0
  let inFlight: Promise<CachedToken> | undefined
  /**
   * The callers' waits on the renewal in flight, one per signal; made when the first caller with a signal waits, and
   * dropped when the renewal settles, so no caller's signal outlives its wait.
   */
  let waits: Map<AbortSignal, Promise<CachedToken>> | undefined

  /** One renewal, held once it succeeds; after a failure, the held token while it is outside the hard window. */
  async function renew(force: boolean): Promise<CachedToken> {
    try {
      const fresh = shareHook
        ? await shareHook.renew(renewWithRetries, { force, refused: held.refused() })
        : await renewWithRetries()
      held.hold(fresh)
      return fresh
    } catch (error) {
      const at = clock()
      pausedUntil = at + PAUSE_AFTER_FAILURE_MS
      const stale = held.current()
      if (!stale || mustRenew(stale, at)) throw error
      emit({ type: 'served-stale', code: codeOf(error), expiresAt: stale.expiresAt })
      return stale
    }
  }

  /** The renewal in flight, or a new one. */
  function start(force: boolean, background: boolean): Promise<CachedToken> {
    if (!inFlight) {
      emit({ type: 'renewal-started', background })
      inFlight = renew(force).finally(() => {
        inFlight = undefined
        waits = undefined
      })
    }
    return inFlight
  }

  return {
    /** Waits for a renewal; `signal` ends this wait only (one listener per signal, however many callers share it). */
    wait(force: boolean, signal: AbortSignal | undefined): Promise<CachedToken> {
      const renewal = start(force, false)
      if (!signal) return renewal
      waits ??= new Map()
      let wait = waits.get(signal)
      if (!wait) waits.set(signal, (wait = untilAborted(renewal, signal)))
      return wait
    },
    /** Starts a renewal nobody waits for, unless a failure paused them; a failure is only its events. */
    inBackground(at: number): void {
      if (at >= pausedUntil) start(false, true).catch(() => {})
    },
    async settled(): Promise<void> {
      await inFlight?.catch(() => {})
      await shareHook?.settled()
    },
    /** The share's count of the fleet's calls, when it keeps one. */
    fleet: shareHook?.take ? shareHook : undefined,
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The session: pacing its calls by api.video's rate limits
// ---------------------------------------------------------------------------------------------------------------

/** One of api.video's budgets as a session knows it, from its answers' `X-RateLimit-*` headers. */
interface Budget {
  /** `X-RateLimit-Limit`: undefined until an answer says; Infinity when answers carry no limit. */
  limit: number | undefined
  /** What the window has left, as its answers last said. */
  remaining: number
  /** When the window ends, on the session's clock: as its answers say, or a whole window after the last one ended. */
  resetAt: number
  /** What this window's answers say of its end: after `endsAfter`, by `endsBy`. */
  endsAfter: number
  endsBy: number
  /** Whether an answer to a call sent in this window has come: until one does, its end is a guess. */
  answered: boolean
  /** A 429's Retry-After: no call goes before it, even when it outlasts the window (a penalty). */
  notBefore: number
  /** A window's length: the longest Retry-After seen. */
  windowMs: number
  /** When this window began here; answers to calls sent before it say nothing of it. */
  startedAt: number
  /** When a 429, a `Remaining` at half the limit or less, or the fleet's count last said the budget runs short. */
  shortAt: number
  /** Calls sent and not answered yet: they count against what is left. */
  inFlight: number
  /** Those of them counted in flight before this window began: none of them is its first call. */
  carried: number
  /** This window's number, from the session's first: a call is counted in flight in one. */
  window: number
  /** The fleet's window, read once for the session's first calls (none without a share that keeps one). */
  fleetWindow: Promise<FleetWindow | undefined> | undefined
  /** The calls held until the next answer, which may free the window. */
  held: Set<() => void>
}

const newBudget = (): Budget => ({
  limit: undefined,
  remaining: Infinity,
  resetAt: 0,
  endsAfter: -Infinity,
  endsBy: Infinity,
  answered: false,
  notBefore: -Infinity,
  windowMs: 0,
  startedAt: -Infinity,
  shortAt: -Infinity,
  inFlight: 0,
  carried: 0,
  window: 0,
  fleetWindow: undefined,
  held: new Set(),
})

/** The budget a request counts against, by its method and its path below the base URL (FACTS.md's reading). */
function rateLimitKind(method: string, url: string, baseUrl: string): RateLimitKind {
  if (method === 'GET' || method === 'HEAD') return 'read'
  const path = url.slice(baseUrl.length).replace(/[?#].*/, '')
  return method === 'POST' && /^\/(upload|videos\/[^/]+\/source)$/.test(path) ? 'upload' : 'write'
}

/**
 * The pacing rule: how long a call waits before it is sent (0: now), and whether it waits for an answer (which may
 * end the wait sooner).
 * - After a 429, no call goes before its Retry-After.
 * - A window no answer has described yet lets one call out at a time: its answer says the limit and the window's
 *   end. That holds for a session's first window, and for each new one while the fleet counts (see fleetCounts),
 *   whose end is only a guess until then (and a wrong guess would count the fleet's calls under another window's
 *   name).
 * - Calls in flight count against what the window has left; once that is spent, calls wait for the window's end.
 */
function paceWait(budget: Budget, at: number): { delayMs: number; forAnswer: boolean } {
  if (at < budget.notBefore) return { delayMs: budget.notBefore - at, forAnswer: false }
  if (budget.remaining - budget.inFlight <= 0) return { delayMs: Math.max(budget.resetAt - at, 1), forAnswer: false }
  const forAnswer = !budget.answered && (budget.limit === undefined || fleetCounts(budget, at))
  return { delayMs: forAnswer && budget.inFlight > budget.carried ? FIRST_ANSWER_WAIT_MS : 0, forAnswer }
}

/**
 * The fleet counts every call for three windows after the budget ran short, and after a session's first call, which
 * cannot know how busy the fleet is: a fleet that spends its budget is counted from each window's start, and one far
 * from it costs no store call.
 */
const fleetCounts = (budget: Budget, at: number) =>
  Number.isFinite(budget.limit) && at - budget.shortAt < FLEET_COUNTS_WINDOWS * windowLength(budget)

/** A window's length: the longest Retry-After its answers gave, or api.video's minute until one says. */
const windowLength = (budget: Budget) => budget.windowMs || GUESSED_WINDOW_MS

/** The first end after `at` of windows of `windowMs` that follow each other from one that ends at `endsAt`. */
const nextEnd = (endsAt: number, at: number, windowMs: number) =>
  endsAt + Math.max(Math.floor((at - endsAt) / windowMs) + 1, 0) * windowMs

/**
 * Starts a budget's next window with the whole limit. Windows follow each other at one length, so it ends a whole
 * number of windows after the last one, until its answers say; at least one window later, as a clock that stood still
 * (a test's) has not moved past the end. The calls in flight count against it (api.video may take them after it
 * began); those of earlier windows are carried.
 */
function startWindow(budget: Budget, at: number): void {
  const windowMs = windowLength(budget)
  budget.remaining = budget.limit as number
  budget.startedAt = at
  budget.endsAfter = -Infinity
  budget.endsBy = Infinity
  budget.answered = false
  budget.window++
  budget.carried = budget.inFlight
  budget.resetAt = Math.max(nextEnd(budget.resetAt, at, windowMs), budget.resetAt + windowMs)
}

/**
 * Whether what a share gave is a window: whole numbers, at most api.video's minute long (what it stores is not
 * sealed), ending within one.
 */
const isWindow = ({ limit, endsAt, windowMs }: FleetWindow, at: number) =>
  [limit, endsAt, windowMs].every(Number.isSafeInteger) &&
  limit > 0 &&
  windowMs > 0 &&
  windowMs <= GUESSED_WINDOW_MS &&
  endsAt - at <= windowMs

/**
 * Takes the window the fleet counts for a budget no answer has described: the session's first call is then counted
 * with the fleet's, instead of going uncounted into a window the fleet may have spent.
 */
function adoptWindow(budget: Budget, { limit, endsAt, windowMs }: FleetWindow, at: number): void {
  budget.limit = limit
  budget.remaining = limit
  budget.windowMs = windowMs
  budget.resetAt = nextEnd(endsAt, at, windowMs)
}

/**
 * api.video's windows (and the stand-in's) end on whole seconds: a time its answers place after `after` and by `by`
 * is the whole second nearest the middle of that span. It stays so when answers are slow or the clocks are a fraction
 * of a second apart, and every instance of a fleet works it out alike, so that the fleet's count follows it.
 */
const nearestSecond = (after: number, by: number) => Math.round((after + by) / 2 / 1000) * 1000

/** Reads what an answer says of its budget; an answer to a call sent in an earlier window changes nothing. */
function readBudget(budget: Budget, headers: Headers, answer: { status: number; sentAt: number; at: number }): void {
  const { status, sentAt, at } = answer
  if (sentAt < budget.startedAt) return
  const number = (name: string) => {
    const value = headers.get(`x-ratelimit-${name}`)
    return value !== null && /^\d+$/.test(value.trim()) ? Number(value) : undefined
  }
  const seconds = retryAfterOf(headers)
  budget.limit = number('limit') ?? budget.limit ?? Infinity
  budget.answered = true
  if (seconds !== undefined) {
    const waitMs = waitOf(seconds)
    // The server counted the seconds up (a whole one at least) from when it took the call, between `sentAt` and
    // `at`: the time it gave is after `sentAt + waitMs - 1 s`, and by `at + waitMs`.
    const after = sentAt + waitMs - 1000
    const by = at + waitMs
    // A 429's is when this call may go again, at the latest it may mean: it may be a penalty that outlasts the
    // window, and that need not end on a whole second.
    if (status === 429) budget.notBefore = Math.max(budget.notBefore, by)
    // Each answer narrows the span the window's end is in. One outside it is newer news: the window moved on, or
    // the clock went back. A 429's that ends after the span is a penalty, not the window's end.
    const penalty = status === 429 && after >= budget.endsBy
    if (!penalty) {
      const outside = after >= budget.endsBy || by <= budget.endsAfter
      // Time to the window's end says the window is at least that long; a 429's says no more than api.video's minute.
      budget.windowMs = Math.max(budget.windowMs, status === 429 ? Math.min(waitMs, GUESSED_WINDOW_MS) : waitMs)
      budget.endsAfter = outside ? after : Math.max(budget.endsAfter, after)
      budget.endsBy = outside ? by : Math.min(budget.endsBy, by)
      budget.resetAt = nearestSecond(budget.endsAfter, budget.endsBy)
    }
  }
  const remaining = status === 429 ? 0 : number('remaining')
  if (remaining !== undefined) budget.remaining = Math.min(budget.remaining, remaining)
  if (remaining !== undefined && remaining <= (budget.limit as number) / 2) budget.shortAt = at
}

/**
 * Waits `ms` (true), or until the budget's next answer wakes it (false); the caller's abort rejects with its
 * reason. No timer or listener is left behind.
 */
const hold = (budget: Budget, ms: number, signal: AbortSignal) =>
  new Promise<boolean>((resolve, reject) => {
    const end = (timedOut: boolean) => {
      clearTimeout(timer)
      budget.held.delete(wake)
      signal.removeEventListener('abort', wake)
      if (signal.aborted) reject(signal.reason)
      else resolve(timedOut)
    }
    const wake = () => end(false)
    const timer = setTimeout(() => end(true), ms)
    budget.held.add(wake)
    signal.addEventListener('abort', wake)
    if (signal.aborted) wake()
  })

/**
 * A call as pacing let it go: the ms it waited, the window it was counted in flight in, and whether it went before
 * the session knew any window (the fleet then counts it once its answer says the window).
 */
interface Paced {
  waitedMs: number
  window: number
  unknown: boolean
}

/** The budget of `kind`, made when first asked for. */
function budgetOf(budgets: Map<RateLimitKind, Budget>, kind: RateLimitKind): Budget {
  let budget = budgets.get(kind)
  if (!budget) budgets.set(kind, (budget = newBudget()))
  return budget
}

/** A call is no longer in flight (and no longer carried, if it was counted in an earlier window). */
function uncount(budget: Budget, { window }: Paced): void {
  budget.inFlight--
  if (window < budget.window) budget.carried--
}

/**
 * The fleet's count of a session's calls: its share, when it keeps one (`take`, and `window` for a session's first
 * calls), and its clock. Without `take`, every call may go. Plain functions of it, so that a session holds no more.
 */
interface Fleet {
  hook: TokenShare | undefined
  clock: () => number
}

/** Counts a call with the fleet's; when the fleet has spent the window, so has this budget: the held look again. */
async function fleetTake({ hook, clock }: Fleet, budget: Budget, kind: RateLimitKind): Promise<boolean | undefined> {
  const window = { limit: budget.limit as number, endsAt: budget.resetAt, windowMs: windowLength(budget) }
  const allowed = await hook?.take?.(kind, window)
  // A refusal of a window that has ended since says nothing of this one.
  if (allowed === false && window.endsAt === budget.resetAt) {
    budget.remaining = 0
    budget.shortAt = clock()
    for (const wake of budget.held) wake()
  }
  return allowed
}

/**
 * Whether the fleet's count lets the call go. A budget no answer has described takes the fleet's window first, if it
 * counts one; with none, the call goes uncounted. The caller's abort ends the wait for the store at once (the call
 * then goes nowhere).
 */
async function fleetAllows(fleet: Fleet, budget: Budget, kind: RateLimitKind, at: number, signal: AbortSignal) {
  const { hook } = fleet
  if (!hook?.take) return true
  let allowed: boolean | undefined
  try {
    if (budget.limit === undefined) {
      budget.shortAt = at
      budget.fleetWindow ??= hook.window ? hook.window(kind) : Promise.resolve(undefined)
      const known = await untilAborted(budget.fleetWindow, signal)
      if (known && budget.limit === undefined && isWindow(known, at)) adoptWindow(budget, known, at)
    }
    if (!fleetCounts(budget, at)) return true
    allowed = await untilAborted(fleetTake(fleet, budget, kind), signal)
  } catch {}
  return allowed !== false
}

/** Counts `calls` sent uncounted with the fleet's, when it counts this window, in the background. */
function fleetCount(fleet: Fleet, budget: Budget, kind: RateLimitKind, calls: number): void {
  if (!fleet.hook?.take || budget.limit === undefined || !fleetCounts(budget, fleet.clock())) return
  for (let i = 0; i < calls; i++) fleetTake(fleet, budget, kind).catch(() => {})
}

/**
 * Paces a session's calls by api.video's rate limits, one budget per kind, and with a share, by the fleet's count.
 * Waits end with the caller's signal; a store that fails or hangs costs pacing, never the call.
 */
function createPacing({ clock, emit, fleet: hook }: Omit<SessionParts, 'held'> & { fleet: TokenShare | undefined }) {
  const budgets = new Map<RateLimitKind, Budget>()

  const fleet: Fleet = { hook, clock }

  return {
    /**
     * Whether a call of `kind` is to have its token before it is paced: the first of a session that has a fleet's
     * window to take, so that it takes the window as it is when the call can go, not before an auth request.
     */
    first: (kind: RateLimitKind) => hook?.window !== undefined && budgetOf(budgets, kind).limit === undefined,

    /**
     * Holds a call of `kind` while its budget is spent, at most `leftMs` in all, then counts it in flight; resolves
     * with the ms it waited, and the window it is counted in. `tooMany`: the call got a 429 and is to be sent again.
     */
    async before(kind: RateLimitKind, signal: AbortSignal, leftMs: number, tooMany: boolean): Promise<Paced> {
      const budget = budgetOf(budgets, kind)
      const started = Date.now()
      let reported = false
      let waitedForAnswer = false
      // Where a clock that stood still (a test's) through a wait that ran its time is taken to be: at the wait's end.
      // A clock that moved says itself, as a timer may fire a little early.
      let ranTo = -Infinity
      for (;;) {
        const at = clock()
        const reached = Math.max(at, ranTo)
        // A clock that went back: the answers to come are of this window, not of an earlier one.
        if (at < budget.startedAt) budget.startedAt = at
        if (budget.limit !== undefined && reached >= budget.resetAt) {
          // The calls of the window that ended still in flight: api.video may take them in this one.
          const crossing = budget.inFlight - budget.carried
          startWindow(budget, at)
          fleetCount(fleet, budget, kind, crossing)
        }
        if (reached >= budget.notBefore) budget.notBefore = -Infinity
        const waited = Date.now() - started
        const { delayMs, forAnswer } = paceWait(budget, reached)
        // A call that has waited its time for the window's first answer goes without it.
        if (delayMs === 0 || waited + delayMs > leftMs || (waitedForAnswer && forAnswer)) {
          // Counted in flight before anything is awaited, so that calls made together see each other.
          budget.inFlight++
          const paced = { waitedMs: waited, window: budget.window, unknown: false }
          // The fleet's count is asked for a call that may wait if it refuses: not one that goes because it cannot
          // wait (rateLimitWait 0, or spent).
          const mayWait = leftMs > 0 && (delayMs === 0 || forAnswer)
          const allowed = !mayWait || (await fleetAllows(fleet, budget, kind, at, signal))
          paced.unknown = mayWait && budget.limit === undefined
          if (allowed && !signal.aborted) return paced
          uncount(budget, paced)
          signal.throwIfAborted()
          continue
        }
        // One event for a call's wait on a spent budget (or a 429's), however often it wakes to look again.
        if (!reported && !forAnswer) {
          reported = true
          const reason = tooMany ? 'too-many-requests' : 'budget-spent'
          emit({ type: 'rate-limit-wait', kind, delayMs: Math.ceil(delayMs), remaining: budget.remaining, reason })
        }
        const heldAt = Date.now()
        const timedOut = await hold(budget, delayMs, signal)
        waitedForAnswer = timedOut && forAnswer
        // Stood still: the wait's time passed in real time, and not on the clock.
        const stoodStill = timedOut && clock() === at && Date.now() - heldAt >= delayMs
        ranTo = stoodStill ? reached + delayMs : -Infinity
      }
    },
    /** Reads the answer of a call counted in flight (none when it failed). */
    after(kind: RateLimitKind, paced: Paced, sentAt: number, response: Response | undefined): void {
      const budget = budgetOf(budgets, kind)
      const { resetAt, answered } = budget
      uncount(budget, paced)
      if (response) readBudget(budget, response.headers, { status: response.status, sentAt, at: clock() })
      // Its answer says the window, and that the call reached api.video: counted before the calls held are.
      if (response && paced.unknown) fleetCount(fleet, budget, kind, 1)
      // The calls held look again when the answer may let one go (a call no longer in flight, an earlier end) or
      // when it is the first of its window, which says what the budget is.
      const woken =
        paceWait(budget, clock()).delayMs === 0 || budget.resetAt < resetAt || answered !== budget.answered
      if (woken) for (const wake of budget.held) wake()
    },
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The session: its authorized fetch
// ---------------------------------------------------------------------------------------------------------------

/**
 * A body given in `init` as something that can be sent again (after a 401, or to a 307 or 308 redirect), copied at
 * the call so that later changes by the caller change nothing; undefined for a body sent once (a stream, an async
 * iterable). A Blob is immutable and stays lazy, so a large file is not held in memory twice.
 */
function replayableBody(body: unknown): BodyInit | undefined {
  if (typeof body === 'string' || body instanceof Blob) return body
  if (body instanceof URLSearchParams) return new URLSearchParams(body)
  if (body instanceof ArrayBuffer) return body.slice(0)
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength).slice()
  if (!(body instanceof FormData)) return undefined
  const copy = new FormData()
  body.forEach((value, name) => copy.append(name, value))
  return copy
}

/** The statuses a redirect is followed on. */
const REDIRECTS = [301, 302, 303, 307, 308]

/**
 * The request a redirect leads to, built as the fetch standard builds it: 303 (and 301 or 302 after a POST) becomes
 * a GET without a body; 307 and 308 send the body again. Undefined, so the redirect is returned as it is, where the
 * standard fails the fetch: a Location that is not an http(s) URL, a body that was sent once.
 */
function redirectedRequest(from: Request, status: number, location: string, body: BodyInit | null | undefined) {
  const toGet = status === 303 ? from.method !== 'HEAD' : status < 303 && from.method === 'POST'
  const resent = !toGet && from.body !== null ? body : null
  let url: URL | undefined
  try {
    url = new URL(location, from.url)
  } catch {}
  if (resent === undefined || !/^https?:$/.test(url?.protocol ?? '')) return undefined
  const headers = new Headers(from.headers)
  headers.delete('authorization')
  if (toGet || body instanceof FormData) headers.delete('content-type')
  return new Request(url as URL, {
    method: toGet ? 'GET' : from.method,
    headers,
    body: resent,
    redirect: 'manual',
    signal: from.signal,
  })
}

/**
 * Sends with the token, and says whether the answer is the first request's (no redirect followed). With `follow`
 * (the caller left `redirect` at its default, and the request was built with `manual`), redirects are followed
 * here, at most 20, and the token goes only to the session's origin: once a redirect leaves it, no later request
 * carries it. Runtimes that strip it themselves on a cross-origin redirect do not all do so (Workers before
 * 2025-09-01).
 */
async function sendWithToken(
  { fetch, origin }: Settings,
  request: Request,
  { bearer, body, follow }: { bearer: string; body: BodyInit | null | undefined; follow: boolean },
): Promise<[Response, boolean]> {
  let sent = request
  let trusted = true
  // The attribution header is for the API: another origin gets it only when the caller set it.
  const callersSdk = request.headers.has('av-origin-sdk')
  for (let redirects = 0; ; redirects++) {
    if (trusted) sent.headers.set('authorization', `Bearer ${bearer}`)
    if (trusted && !callersSdk) sent.headers.set('av-origin-sdk', ORIGIN_SDK)
    if (!trusted && !callersSdk) sent.headers.delete('av-origin-sdk')
    const response = (await (fetch ?? globalThis.fetch)(sent)) as Response
    const location = response.headers.get('location')
    const next =
      follow && REDIRECTS.includes(response.status) && location !== null && redirects < MOST_REDIRECTS
        ? redirectedRequest(sent, response.status, location, body)
        : undefined
    if (!next) return [response, redirects === 0]
    await cancelBody(response)
    trusted &&= new URL(next.url).origin === origin
    sent = next
  }
}

/** `fetch` on the session's API, with its token, paced by its rate limits. */
function createAuthorizedFetch(
  settings: Settings,
  parts: SessionParts & { tokenFor: (signal: AbortSignal) => Promise<CachedToken>; fleet: TokenShare | undefined },
) {
  const { clock, held, tokenFor } = parts
  const { baseUrl, origin, rateLimitWaitMs } = settings
  const pacing = createPacing(parts)
  let last401Renewal = -Infinity

  const refuse = (): never =>
    fail('input', `be a path starting with /, or a URL or Request on ${origin}, where the token belongs`)

  /** A caller's input as `Request` takes it, read once; a URL with credentials is refused before anything reads it. */
  function target(input: string | URL | Request): string | Request {
    if (typeof input === 'string' && input.startsWith('/') && !input.startsWith('//')) return baseUrl + input
    if (input instanceof Request) return input
    let url: URL | undefined
    try {
      url = new URL(input)
    } catch {}
    if (!url || url.username || url.password) return refuse()
    return url.href
  }

  /**
   * After a 401: renew only if the token that got it is still the current one and is older than a minute, or no
   * 401 renewed in the last minute, so an API that refuses a fresh token for another reason causes no storm.
   * True when a replay may get another answer.
   */
  function renewAfter401(used: string): boolean {
    const current = held.current()
    if (current?.token !== used) return true
    const at = clock()
    if (at - current.sentAt < RECENT_401_MS && at - last401Renewal < RECENT_401_MS) return false
    last401Renewal = at
    held.refuse(used)
    return true
  }

  return async function authorizedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    if (init !== undefined && (typeof init !== 'object' || init === null)) fail('init', 'be an object')
    // Redirects left at their default are followed by the session (see `sendWithToken`): the request is built not to.
    const chosen = init?.redirect ?? (input instanceof Request ? input.redirect : undefined)
    const follow = chosen === undefined || chosen === 'follow'
    // Built at once, as fetch builds it: a URL or a buffer the caller changes after this call changes nothing sent,
    // and a Request input's own body is taken now, as fetch takes it.
    const request = new Request(target(input), follow ? { ...init, redirect: 'manual' } : init)
    // The origin of the Request that is sent, not of the input: a subclass or a Proxy can fake its `url`. A Request's
    // URL is serialized, with no credentials: its origin is what comes before the path's first slash.
    if (!request.url.startsWith(`${origin}/`)) refuse()
    const body = request.body === null ? null : replayableBody(init?.body)
    const kind = rateLimitKind(request.method, request.url, baseUrl)
    let waitedMs = 0
    let renewed = false
    let tooMany = false
    // The replay's headers, taken now from the request as built, not from `init` again (the caller may change it, or
    // it may be read once), nor after the first send (a fetch function may add to them); a FormData gets a boundary,
    // so a content type, of its own.
    const headers = new Headers(request.headers)
    if (body instanceof FormData) headers.delete('content-type')
    // Sent again only with a body that can be (checked below, before the loop goes round).
    const again = () => new Request(request, body === null ? { headers } : { headers, body: body as BodyInit })
    for (let sent = request; ; sent = again()) {
      // Paced first: a token taken before a long wait could be near its end when the call goes.
      if (pacing.first(kind)) await tokenFor(request.signal)
      const paced = await pacing.before(kind, request.signal, rateLimitWaitMs - waitedMs, tooMany)
      waitedMs += paced.waitedMs
      // When the call went, after its token: an answer's Retry-After counts from then, not from an auth request.
      let sentAt = clock()
      let answer: [Response, boolean, CachedToken] | undefined
      try {
        // Counted in flight from here: a token that cannot be had ends the call, and its count, as a failed send does.
        const used = await tokenFor(request.signal)
        sentAt = clock()
        answer = [...(await sendWithToken(settings, sent, { bearer: used.token, body, follow })), used]
      } finally {
        pacing.after(kind, paced, sentAt, answer?.[1] ? answer[0] : undefined)
      }
      const [response, first, used] = answer
      // Only the first request's answer is about the token and the budget: a later hop's may come from another origin
      // that never had it, or answer a request the redirect changed (a POST that became a GET).
      if (!first) return response
      if (response.status === 401) {
        // One renewal and one replay for a 401, where a replay may get another answer.
        if (renewed || !renewAfter401(used.token) || body === undefined) return response
        renewed = true
      } else if (!(response.status === 429 && resendAfter429(response.headers, body, rateLimitWaitMs - waitedMs))) {
        return response
      }
      tooMany = response.status === 429
      await cancelBody(response)
    }
  }
}

/**
 * The rate-limit policy for a 429: true to send the call again once its budget's window ends, false to hand the 429
 * to the caller.
 * - A 429 was not processed: a call whose body can be sent again (as after a 401) is safe to send again; a stream is
 *   never sent twice.
 * - Retry-After (api.video's `X-RateLimit-Retry-After`, or `Retry-After`) says when; without it there is nothing to
 *   wait for.
 * - The wait must fit in what is left of `rateLimitWait`.
 */
function resendAfter429(headers: Headers, body: BodyInit | null | undefined, leftMs: number): boolean {
  const seconds = retryAfterOf(headers)
  return body !== undefined && seconds !== undefined && waitOf(seconds) <= leftMs
}

async function cancelBody(response: Response): Promise<void> {
  try {
    await response.body?.cancel()
  } catch {}
}

// ---------------------------------------------------------------------------------------------------------------
// The session
// ---------------------------------------------------------------------------------------------------------------

/**
 * A session: every caller gets a valid access token, and concurrent callers share one request. From its due time a
 * token is renewed in the background while callers keep getting it. Lazy (nothing runs until the first call), no
 * timers left behind, secrets kept in this closure only.
 * @example
 * const session = createSession()                      // the key from APIVIDEO_API_KEY
 * const response = await session.fetch('/videos')     // on https://ws.api.video
 */
export function createSession(options?: SessionOptions): Session {
  const given = checkOptions('options', options, SESSION_OPTIONS)
  const settings = sessionSettings(given)
  const { now = defaultClock(), onEvent } = given

  /** The clock, checked where it is read. */
  function clock(): number {
    const at = now()
    if (!Number.isFinite(at)) fail('now', 'return a finite number of epoch ms')
    return at
  }

  /** Reports an event; a listener that throws or rejects changes nothing. */
  function emit(event: Unstamped<SessionEvent>): void {
    try {
      Promise.resolve(onEvent?.({ ...event, at: clock() } as SessionEvent)).catch(() => {})
    } catch {}
  }

  const held = holdTokens(emit)
  const renewals = createRenewals(settings, { clock, emit, held })

  /**
   * The token for a caller: the held one while it is outside the hard window (renewed in the background once due);
   * otherwise, and on `forceRefresh`, the caller waits for the renewal.
   */
  function obtain(options: TokenOptions | undefined): CachedToken | Promise<CachedToken> {
    const { signal, forceRefresh = false } = checkOptions('options', options, TOKEN_OPTIONS)
    checkSignal(signal)?.throwIfAborted()
    const at = clock()
    held.dropIfClockWentBack(at)
    const current = held.current()
    if (!current || forceRefresh || mustRenew(current, at)) return renewals.wait(forceRefresh, signal)
    if (shouldRenew(current, at)) renewals.inBackground(at)
    return current
  }

  return Object.freeze({
    async token(options?: TokenOptions): Promise<string> {
      const found = obtain(options)
      // A held token is answered without waiting a turn of the event loop: the hot path.
      return found instanceof Promise ? (await found).token : found.token
    },
    async tokenWithExpiry(options?: TokenOptions): Promise<TokenWithExpiry> {
      const { token, expiresAt } = await obtain(options)
      return { token, expiresAt }
    },
    authorization: async (options?: Omit<TokenOptions, 'forceRefresh'>) =>
      `Bearer ${(await obtain(checkOptions('options', options, AUTHORIZATION_OPTIONS))).token}`,
    fetch: createAuthorizedFetch(settings, {
      clock,
      emit,
      held,
      tokenFor: async (signal) => obtain({ signal }),
      fleet: renewals.fleet,
    }),
    invalidate(token?: string): void {
      if (token !== undefined && typeof token !== 'string') fail('token', 'be a string')
      held.refuse(token)
    },
    settled: () => renewals.settled(),
  })
}
