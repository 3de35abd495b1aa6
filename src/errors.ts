import type { ProblemDetails } from './types.js'

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

interface Details {
  status?: number
  problem?: ProblemDetails
  retryAfter?: number
  cause?: unknown
}

/**
 * The one error class of this package: `code` says what failed, `retryable` whether trying
 * again may help. Messages name what went wrong, never a key or token.
 * @example
 * try { await authenticate(key) } catch (e) { if (isApiVideoAuthError(e) && e.code === 'INVALID_CREDENTIALS') … }
 */
export class ApiVideoAuthError extends Error {
  declare readonly code: ErrorCode
  declare readonly status?: number
  declare readonly problem?: ProblemDetails
  /** Seconds to wait, from `X-RateLimit-Retry-After` or `Retry-After`. */
  declare readonly retryAfter?: number
  declare readonly retryable: boolean

  constructor(code: ErrorCode, details: Details = {}) {
    const { status, problem, retryAfter, cause } = details
    const retryable = RETRYABLE.includes(code)
    const hint = retryable ? `retry ${retryAfter === undefined ? 'later' : `in ${retryAfter} s`}` : HINTS[code]
    const http = status ? ` (HTTP ${status}${problem?.title ? `, ${problem.title}` : ''})` : ''
    super(`api.video: ${code.toLowerCase().replace(/_/g, ' ')}${http}${hint ? `: ${hint}` : ''}.`, cause === undefined ? undefined : { cause })
    this.name = 'ApiVideoAuthError'
    Object.assign(this, { code, retryable }, status && { status }, problem && { problem }, retryAfter !== undefined && { retryAfter })
  }
}

/**
 * True for an `ApiVideoAuthError`, also one from another realm or another copy of this package.
 * @example
 * if (isApiVideoAuthError(error) && error.retryable) retryLater()
 */
export function isApiVideoAuthError(value: unknown): value is ApiVideoAuthError {
  if (value instanceof ApiVideoAuthError) return true
  const v = value as ApiVideoAuthError | null
  return Object.prototype.toString.call(v) === '[object Error]' && v!.name === 'ApiVideoAuthError' && typeof v!.code === 'string'
}

/** The error mapping: which code an HTTP status means on each endpoint. */
export function statusCode(status: number, refresh: boolean): ErrorCode {
  if (status === 400 || status === 401) return refresh ? 'INVALID_REFRESH_TOKEN' : 'INVALID_CREDENTIALS'
  if (status === 403) return 'ACCESS_DENIED'
  if (status === 429) return 'RATE_LIMITED'
  return status >= 500 && status < 600 ? 'SERVER_ERROR' : 'UNEXPECTED_STATUS'
}
