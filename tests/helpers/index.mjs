// Shared test parts: a loopback server for a fetch handler, a fake clock, MockAgent wiring.
import * as assert from 'uvu/assert'
import { MockAgent } from 'undici'
import { createSession } from '../../dist/index.js'
import { createStandIn } from '../../dist/testing.js'
import { listen } from '../../scripts/loopback.mjs'

export const KEY = 'test-key'

/** Serves a `(Request) => Promise<Response>` handler on 127.0.0.1 (the demo's and examples' adapter). */
export const serve = listen

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
 * Wraps a stand-in's `fetch` or `handler` so every token it answers with is kept: `refreshTokens` for tests that look
 * for secrets where they must not be, `accessTokens` for tests that check which token a session handed out.
 */
export function recordingIssuedTokens(handle) {
  const refreshTokens = []
  const accessTokens = []
  const record = async (...args) => {
    const response = await handle(...args)
    const body = await response
      .clone()
      .json()
      .catch(() => ({}))
    if (body.refresh_token) refreshTokens.push(body.refresh_token)
    if (body.access_token) accessTokens.push(body.access_token)
    return response
  }
  return { record, refreshTokens, accessTokens }
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

/** A JSON answer; a string `body` is sent as it is (for bodies that are not valid JSON, or escaped by hand). */
export function json(status, body, headers) {
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })
}

/** Runs `run` with `Math.random` returning `value`, and puts the real one back after. */
export function withRandom(value, run) {
  const original = Math.random
  Math.random = () => value
  return Promise.resolve(run()).finally(() => (Math.random = original))
}

/** A fetch answering every call with `answer(request, n)` (n counts from 1); `requests` records what was sent. */
export function scripted(answer) {
  const requests = []
  const fetch = async (input, init) => {
    const request = new Request(input, init)
    requests.push(request)
    return answer(request, requests.length)
  }
  return { fetch, requests }
}

/** A fetch that grants on /auth/*, answers 200 elsewhere, and records every request it was given. */
export function recorder() {
  const { fetch, requests } = scripted((request, n) => {
    const { pathname } = new URL(request.url)
    return pathname.endsWith('/auth/api-key') || pathname.endsWith('/auth/refresh')
      ? json(200, tokenBody(n))
      : json(200, { url: request.url })
  })
  return { fetch, requests, urls: () => requests.map((r) => r.url) }
}

/** A fetch that records what reached the stand-in's protected paths, and may hold one path's first answer. */
export function recording(standIn, hold) {
  const seen = []
  let release
  const gate = new Promise((resolve) => (release = resolve))
  const fetch = async (input, init) => {
    const request = new Request(input, init)
    const { pathname } = new URL(request.url)
    if (pathname.startsWith('/auth/')) return standIn.handler(request)
    seen.push({
      path: pathname,
      authorization: request.headers.get('authorization'),
      keep: request.headers.get('x-keep'),
      body: await request.clone().text(),
    })
    if (pathname === hold && seen.filter((s) => s.path === hold).length === 1) {
      await gate
      return new Response(null, { status: 401 })
    }
    return standIn.handler(request)
  }
  return { fetch, seen, release }
}

/**
 * A session on a stand-in sharing one fake clock; `paths()` lists the auth requests made, `latest()` is the access
 * token the stand-in issued last.
 */
export function sessionOnStandIn(options = {}, standInOptions = {}) {
  const time = clock()
  const standIn = createStandIn({ apiKeys: [KEY], now: time.now, ...standInOptions })
  const events = []
  const { record, accessTokens } = recordingIssuedTokens(standIn.fetch)
  const session = createSession({
    apiKey: KEY,
    fetch: record,
    now: time.now,
    onEvent: (e) => events.push(e),
    ...options,
  })
  const paths = () => standIn.requests.map((r) => r.path)
  const latest = () => accessTokens.at(-1) ?? assert.unreachable('the stand-in issued no token')
  // A renewal's start is left out: these tests look at what renewals did.
  const types = () => events.map((e) => e.type).filter((type) => type !== 'renewal-started')
  return { time, standIn, session, events, paths, latest, types }
}

/** Deletes `names` from `process.env`; the function it returns puts back what they held. */
export function clearEnvironment(...names) {
  const saved = names.filter((name) => Object.hasOwn(process.env, name)).map((name) => [name, process.env[name]])
  for (const name of names) delete process.env[name]
  return () => {
    for (const name of names) delete process.env[name]
    for (const [name, value] of saved) process.env[name] = value
  }
}

/** What `run` throws or rejects with; fails the test if it returns or resolves. */
export async function thrownBy(run) {
  try {
    await run()
  } catch (error) {
    return error
  }
  assert.unreachable('returned')
}

/** A predicate for `assert.throws`: a TypeError whose message names the argument `name`. */
export const typeErrorNaming = (name) => (error) =>
  error instanceof TypeError && new RegExp(`\\b${name}\\b`).test(error.message)

/** Asserts that `error` is the package's TypeError for a bad argument: its `code`, and a message naming `name`. */
export function assertArgumentError(error, name, code = 'ERR_INVALID_ARGUMENT', where = '') {
  assert.instance(error, TypeError, where)
  assert.is(error.code, code, where)
  assert.ok(typeErrorNaming(name)(error), `${where} names ${name}: ${error.message}`)
}

/** Runs `check(standIn, server)` with a stand-in that accepts KEY, served on 127.0.0.1 until `check` ends. */
export async function overHttp(check, standInOptions = {}) {
  const standIn = createStandIn({ apiKeys: [KEY], ...standInOptions })
  const server = await listen(standIn.handler)
  try {
    await check(standIn, server)
  } finally {
    await server.close()
  }
}
