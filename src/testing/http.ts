// What every route reads and answers with: JSON answers, the request body and its limit, JSON parsing.
import { readWithin } from '../internal/bytes.js'

/** A request body, whole in memory (at most `BODY_LIMIT`). */
export type Bytes = Uint8Array<ArrayBuffer>
/** A JSON object, as a payload or an answer. */
export type Json = Record<string, unknown>

/**
 * The largest request body read: 1 MiB, as the CLI's node:http adapter, so that every way of serving the stand-in
 * bounds memory.
 */
export const BODY_LIMIT = 1024 * 1024
/** The problem body of a request over `BODY_LIMIT`. */
export const BODY_TOO_LARGE = { type: 'about:blank', title: 'The request body is over 1 MiB.', status: 413 }
const NULL_BODY = [204, 205, 304]

/** A JSON answer; a status that has no body (204, 205, 304) gets none. */
export function json(status: number, body: unknown, headers?: ConstructorParameters<typeof Headers>[0]): Response {
  const h = new Headers(headers)
  if (NULL_BODY.includes(status)) return new Response(null, { status, headers: h })
  if (!h.has('content-type')) h.set('content-type', 'application/json')
  return new Response(JSON.stringify(body), { status, headers: h })
}

/** The 413 of a body over the limit. */
export const tooLarge = (): Response => json(413, BODY_TOO_LARGE, { 'content-type': 'application/problem+json' })

/**
 * The request body, or undefined once it is over 1 MiB: a declared length over it is refused unread, and a body
 * without one is read no further than the chunk that crossed the limit.
 */
export async function readBody(request: Request): Promise<Bytes | undefined> {
  if (request.body === null) return new Uint8Array(0)
  if (Number(request.headers.get('content-length')) > BODY_LIMIT) {
    request.body.cancel().catch(() => {})
    return undefined
  }
  return readWithin(request.body, BODY_LIMIT)
}

/** True when the request says its body is JSON (`application/json`, any parameters). */
export const isJson = (request: Request): boolean =>
  /^application\/json\s*(;|$)/i.test(request.headers.get('content-type') ?? '')

/** The JSON object in `bytes`, or undefined when they hold something else. */
export function parseJsonObject(bytes: Bytes): Json | undefined {
  try {
    const body: unknown = JSON.parse(new TextDecoder().decode(bytes))
    return isObject(body) ? body : undefined
  } catch {
    return undefined
  }
}

/** True for a JSON object: not null, not an array. */
export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
