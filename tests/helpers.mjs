// Shared test parts: a loopback server for a fetch handler, a fake clock, MockAgent wiring.
import * as assert from 'uvu/assert'
import { MockAgent } from 'undici'

export const KEY = 'test-key'

/** Serves a `(Request) => Promise<Response>` handler on 127.0.0.1 (the demo's and examples' adapter). */
export { listen as serve } from '../scripts/loopback.mjs'

/** A clock that moves only when told. */
export function clock(start = 1_700_000_000_000) {
  let t = start
  return { now: () => t, tick: (ms) => (t += ms), set: (ms) => (t = ms) }
}

/** A MockAgent that refuses real network, and a fetch bound to it. */
export function mock(origin = 'https://ws.api.video') {
  const agent = new MockAgent()
  agent.disableNetConnect()
  const fetch = (input, init) => globalThis.fetch(input, { ...init, dispatcher: agent })
  return { agent, pool: agent.get(origin), fetch }
}

export const JSON_HEADERS = { headers: { 'content-type': 'application/json' } }

export function tokenBody(n = 1, expiresIn = 3600) {
  return { token_type: 'Bearer', expires_in: expiresIn, access_token: `access-${n}`, refresh_token: `refresh-${n}` }
}

/**
 * Wraps a stand-in's `fetch` or `handler` so every refresh token it answers with is kept in `refreshTokens`, for
 * tests that look for secrets where they must not be.
 */
export function recordingRefreshTokens(handle) {
  const refreshTokens = []
  const record = async (...args) => {
    const response = await handle(...args)
    const body = await response
      .clone()
      .json()
      .catch(() => ({}))
    if (body.refresh_token) refreshTokens.push(body.refresh_token)
    return response
  }
  return { record, refreshTokens }
}

/** Resolves after pending microtasks and I/O callbacks have run. */
export const settle = () => new Promise((resolve) => setImmediate(resolve))

/** The error a promise rejects with; fails the test if it resolves. */
export async function failure(promise) {
  try {
    await promise
  } catch (error) {
    return error
  }
  assert.unreachable('resolved')
}
