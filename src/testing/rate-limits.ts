// api.video's rate limits, played by the stand-in: a budget per API key and per kind of request, in fixed windows.
import { badArgument } from '../internal/errors.js'
import { type Known, checkOptions } from '../internal/options.js'
import { json } from './http.js'
import { problem } from './problems.js'
import { AUTH_PATHS } from './request-log.js'
import type { Call } from './route.js'

/** Budgets of one window, as api.video's reference gives them per minute. */
export interface RateLimits {
  /** `GET` and `HEAD` requests a window; 500 by default (production's). */
  reads?: number | undefined
  /** `POST` (but uploads), `PUT`, `PATCH` and `DELETE` requests a window; 200 by default. */
  writes?: number | undefined
  /** `POST /upload` and `POST /videos/{videoId}/source` requests a window; 100 by default. */
  uploads?: number | undefined
  /** The window, in ms; 60,000 by default. A short one lets a test see a reset in a second. */
  windowMs?: number | undefined
}

type Kind = 'reads' | 'writes' | 'uploads'
/** Budgets, each given. */
export type Budgets = { [K in keyof RateLimits]-?: number }

/** Production's budgets (api.video's reference, "Limitation"). */
const PRODUCTION: Budgets = { reads: 500, writes: 200, uploads: 100, windowMs: 60_000 }
const RATE_LIMITS: Known<RateLimits> = { reads: true, writes: true, uploads: true, windowMs: true }
const TOO_MANY_REQUESTS = problem(429, 'too-many-requests', 'Too many requests.')
const MOST = 2_147_483_647

/**
 * `rateLimits` as createStandIn and the control route take it: `true` for production's budgets, budgets of one's
 * own (each absent one production's), or `false` or absent for none.
 */
export function readRateLimits(value: unknown): Budgets | undefined {
  if (value === undefined || value === false) return undefined
  if (value === true) return PRODUCTION
  if (typeof value !== 'object' || value === null) badArgument('rateLimits must be true, false or budgets')
  const given = checkOptions<RateLimits>(value, RATE_LIMITS)
  const limits = { ...PRODUCTION }
  for (const name of Object.keys(RATE_LIMITS) as (keyof RateLimits)[]) {
    const n = given[name]
    if (n === undefined) continue
    if (!(typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MOST))
      badArgument(`rateLimits.${name} must be a whole number from 0 to ${MOST}`)
    // Whole seconds, as api.video's windows: its Retry-After counts whole seconds to the end, and a session takes a
    // window to end on one.
    if (name === 'windowMs' && (n === 0 || n % 1000 !== 0))
      badArgument('rateLimits.windowMs must be whole seconds (a multiple of 1000)')
    limits[name] = n
  }
  return limits
}

/** The budget a request counts against, as FACTS.md reads api.video's reference. */
export function kindOf(method: string, path: string): Kind {
  if (method === 'GET' || method === 'HEAD') return 'reads'
  return method === 'POST' && /^\/(upload|videos\/[^/]+\/source)$/.test(path) ? 'uploads' : 'writes'
}

/**
 * The stand-in's rate limits: windows aligned on multiples of `windowMs` of its clock, a count per key and kind.
 * Every answer of a limited route carries `X-RateLimit-Limit`, `-Remaining` and `-Retry-After` (whole seconds to
 * the window's end, at least 1); the request past the budget is a 429 with api.video's problem body, not processed.
 */
export function createRateLimits(
  now: () => number,
  initial: Budgets | undefined,
  { uploadKeyOf, refused }: { uploadKeyOf: (token: string | null) => string | undefined; refused: () => void },
) {
  let limits = initial
  /** `apiKey kind` -> the window counted and the requests in it; at most one entry per key and kind. */
  const used = new Map<string, { window: number; count: number }>()

  /** Counts the call against its budget: the headers its answer carries, or the 429 that answers it instead. */
  function take({ request, url, apiKey }: Call): Headers | Response {
    // The auth endpoints are the only routes api.video does not limit.
    if (!limits || apiKey === undefined || AUTH_PATHS.includes(url.pathname)) return new Headers()
    const kind = kindOf(request.method, url.pathname)
    const at = now()
    const window = Math.floor(at / limits.windowMs)
    const key = `${apiKey}\n${kind}`
    const entry = used.get(key)
    const count = entry?.window === window ? entry.count : 0
    const limit = limits[kind]
    const retryAfter = Math.max(1, Math.ceil(((window + 1) * limits.windowMs - at) / 1000))
    const headers = new Headers({
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(Math.max(0, limit - count - 1)),
      'x-ratelimit-retry-after': String(retryAfter),
    })
    if (count >= limit) {
      headers.set('x-ratelimit-remaining', '0')
      return json(429, TOO_MANY_REQUESTS, headers)
    }
    used.set(key, { window, count: count + 1 })
    return headers
  }

  /**
   * The dispatch's step: counts the call against its key's budget once its caller is known; past it, api.video's
   * 429, and the route does not run (nothing is created). `POST /upload` counts against the key that minted its
   * upload token.
   */
  function count(call: Call): Response | undefined {
    const uploader = call.url.pathname === '/upload' ? call.url.searchParams.get('token') : null
    const apiKey = call.apiKey ?? uploadKeyOf(uploader)
    if (apiKey !== undefined) call.apiKey = apiKey
    const taken = take(call)
    if (taken instanceof Headers) {
      call.rateLimit = taken
      return undefined
    }
    refused()
    return taken
  }

  /** Replaces the budgets (the control route); counts so far stand. */
  function set(next: Budgets | undefined): void {
    limits = next
  }

  return { count, set }
}
