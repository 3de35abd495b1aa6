// Compiles against dist/index.d.ts under strict, exactOptionalPropertyTypes and noUncheckedIndexedAccess: a
// listener narrows a SessionEvent on `type` and reads that member's fields with no `!` and no cast. Checked by
// tests/types/check.mjs; never run.
import {
  createSession,
  readAccessToken,
  type AccessToken,
  type ErrorCode,
  type SessionEvent,
  type TokenWithExpiry,
} from '../../dist/index.js'

/** One line per event, each field read as its member types it. */
export function describe(e: SessionEvent): string {
  const at: number = e.at
  switch (e.type) {
    case 'retrying': {
      const delayMs: number = e.delayMs
      const code: ErrorCode = e.code
      const attempt: number = e.attempt
      return `${at}: attempt ${attempt} after ${code}, in ${delayMs} ms`
    }
    case 'share-failed': {
      const message: string = e.error.message
      const name: string = e.error.name
      return `${e.call} failed: ${name}: ${message}`
    }
    case 'renewal-failed':
      return `gave up: ${e.code ?? 'not an ApiVideoAuthError'}`
    case 'authenticated':
    case 'refreshed':
    case 'shared-token-used':
      return `token until ${e.expiresAt}`
    default:
      return e.type
  }
}

export const session = createSession({ apiKey: 'key', onEvent: (e) => console.log(describe(e)) })

/** A narrowing with `if`, as a listener usually writes it. */
export function retryDelay(e: SessionEvent): number | undefined {
  if (e.type === 'retrying') return e.delayMs
  // @ts-expect-error delayMs belongs to 'retrying' only
  return e.delayMs
}

/** A member's fields are required: a `retrying` event without `delayMs` is not one. */
// @ts-expect-error delayMs is missing
export const incomplete: SessionEvent = { type: 'retrying', at: 0, code: 'TIMEOUT', attempt: 1 }

/** The old names are gone. */
// @ts-expect-error 'retry' is now 'retrying'
export const renamed: SessionEvent = { type: 'retry', at: 0 }

export async function withExpiry(): Promise<TokenWithExpiry> {
  const { token, expiresAt } = await session.tokenWithExpiry()
  return { token, expiresAt: Math.min(expiresAt, Date.now() + 60_000) }
}

/** readAccessToken takes the endpoint the answer came from. */
export async function read(response: Response): Promise<AccessToken> {
  await readAccessToken(response, { endpoint: 'refresh', sentAt: undefined })
  // @ts-expect-error the endpoint is required
  await readAccessToken(response)
  // @ts-expect-error only 'api-key' or 'refresh'
  await readAccessToken(response, { endpoint: 'token' })
  return readAccessToken(response, { endpoint: 'api-key' })
}
