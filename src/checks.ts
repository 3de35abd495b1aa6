import type { CallOptions } from './types.js'

/** `https:` anywhere; plain `http:` only on loopback (localhost, 127.*, [::1]). */
const SECURE = /^(https:|http:(localhost|127(\.\d{1,3}){3}|\[::1\])$)/

/** Throws the argument error: it names the argument, never its value. */
export function fail(name: string, must: string): never {
  throw new TypeError(`${name} must ${must}`)
}

/** Checks an API key or refresh token: 1 to 8192 characters, no surrounding spaces, no control characters. */
export function secret(name: string, value: unknown): string {
  if (typeof value !== 'string' || !/^(?!\s)[^\0-\x1f\x7f-\x9f]{1,8192}(?<!\s)$/.test(value)) {
    fail(name, 'be 1-8192 characters, trimmed, with no control characters')
  }
  return value
}

/** An absolute `https:` base URL (`http:` only on loopback), without its trailing slashes. */
export function baseUrl(value: unknown): string {
  let url: URL | undefined
  try {
    url = new URL(value as string)
  } catch {}
  if (!url || url.username + url.password + url.search + url.hash || !SECURE.test(url.protocol + url.hostname)) {
    fail('baseUrl', 'be an https: URL (http: on loopback only), with no credentials, query or hash')
  }
  return url.href.replace(/\/+$/, '')
}

export function headers(value: unknown): Headers {
  try {
    return new Headers(value as HeadersInit | undefined)
  } catch {
    return fail('headers', 'be valid headers')
  }
}

/** An options object; `{}` when it is optional and absent. */
export function object<T>(name: string, value: T | undefined, required?: boolean): T {
  if (value === undefined && !required) return {} as T
  return typeof value === 'object' && value ? value : fail(name, 'be an object')
}

export function fn(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') fail(name, 'be a function')
}

export function number(name: string, value: unknown, min = 0, integer?: boolean): void {
  if (!((integer ? Number.isInteger : Number.isFinite)(value) && (value as number) >= min)) fail(name, `be a${integer ? 'n integer' : ' number'} >= ${min}`)
}

export function signal(value: unknown): AbortSignal | undefined {
  const s = value as AbortSignal | undefined
  if (s !== undefined && typeof s?.aborted !== 'boolean') fail('signal', 'be an AbortSignal')
  return s
}

/** Checks the sending options shared by `authenticate`, `refresh` and `createSession`. */
export function callOptions(options: CallOptions): void {
  fn('fetch', options.fetch)
  if (options.timeout !== undefined) number('timeout', options.timeout, 1)
  signal(options.signal)
}
