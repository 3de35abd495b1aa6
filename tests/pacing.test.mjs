import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { authenticateRequest, createSession } from '../dist/index.js'
import { createStandIn } from '../dist/testing.js'
import { KEY, assertArgumentError, failure, json, settle, thrownBy, tokenBody } from './helpers/index.mjs'

/**
 * An API whose answers carry api.video's rate-limit headers: `limits` per kind (read, write) in windows of `windowMs`
 * (whole seconds) of real time, each starting on the whole second of the answer that finds the last one over, so that
 * they end on whole seconds as the stand-in's (and api.video's) do. `hold`
 * keeps the first resource answer until `release()`. Records every resource request and the most in flight at once.
 */
function budgeted({ limits = { read: 100, write: 100 }, windowMs = 1_000, headers = true, hold = false } = {}) {
  const used = { read: 0, write: 0 }
  const nextEnd = () => Math.floor(Date.now() / 1000) * 1000 + windowMs
  let windowEnds = nextEnd()
  let inFlight = 0
  let release
  const gate = hold ? new Promise((resolve) => (release = resolve)) : undefined
  const seen = { requests: [], bodies: [], mostInFlight: 0, tooMany: 0 }
  const fetch = async (request) => {
    const { pathname } = new URL(request.url)
    if (pathname.startsWith('/auth/')) return json(200, tokenBody(1))
    seen.requests.push(request)
    inFlight++
    seen.mostInFlight = Math.max(seen.mostInFlight, inFlight)
    try {
      if (gate && seen.requests.length === 1) await gate
      // An answer takes a turn of the event loop, so that calls sent together are in flight together.
      await settle()
      if (Date.now() >= windowEnds) {
        windowEnds = nextEnd()
        used.read = used.write = 0
      }
      const kind = request.method === 'GET' ? 'read' : 'write'
      const limit = limits[kind]
      const retryAfter = String(Math.max(1, Math.ceil((windowEnds - Date.now()) / 1000)))
      const limited = {
        'x-ratelimit-limit': String(limit),
        'x-ratelimit-remaining': String(Math.max(0, limit - used[kind] - 1)),
        'x-ratelimit-retry-after': retryAfter,
      }
      if (used[kind] >= limit) {
        seen.tooMany++
        return json(429, { type: 'https://docs.api.video/reference/too-many-requests', status: 429 }, limited)
      }
      used[kind]++
      if (request.body) seen.bodies.push(await request.text())
      return json(request.method === 'POST' ? 201 : 200, {}, headers ? limited : {})
    } finally {
      inFlight--
    }
  }
  return { fetch, seen, release: () => release() }
}

function sessionOn(api, options = {}) {
  const events = []
  const session = createSession({ apiKey: KEY, fetch: api.fetch, onEvent: (e) => events.push(e), ...options })
  const waits = () => events.filter((e) => e.type === 'rate-limit-wait')
  return { session, events, waits }
}

const statuses = (responses) => responses.map((r) => r.status)
const json201 = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title":"a"}' }

const pacing = suite('session.fetch: pacing by the rate limit')

pacing('a budget no answer has described yet lets one call out at a time', async () => {
  const api = budgeted({ hold: true })
  const { session } = sessionOn(api)
  const calls = Array.from({ length: 5 }, () => session.fetch('/videos'))
  for (let i = 0; i < 20; i++) await settle()
  assert.is(api.seen.requests.length, 1, 'only the first call was sent before its answer came')
  api.release()
  assert.equal(statuses(await Promise.all(calls)), [200, 200, 200, 200, 200])
  assert.is(api.seen.tooMany, 0)
})

pacing('answers without rate-limit headers are never paced once the first has come', async () => {
  const api = budgeted({ headers: false })
  const { session, waits } = sessionOn(api)
  await session.fetch('/videos')
  await Promise.all(Array.from({ length: 20 }, () => session.fetch('/videos')))
  assert.is(api.seen.mostInFlight, 20, 'the 20 calls were all in flight together')
  assert.equal(waits(), [])
})

pacing('calls in flight count against what is left; the rest wait for the window, with no 429', async () => {
  const api = budgeted({ limits: { read: 3, write: 3 } })
  const { session, waits, events } = sessionOn(api)
  const answers = await Promise.all(Array.from({ length: 6 }, () => session.fetch('/videos')))
  assert.equal(statuses(answers), Array(6).fill(200))
  assert.is(api.seen.tooMany, 0)
  assert.is(waits().length, 3, 'one event for each of the 3 calls held')
  for (const wait of waits()) {
    assert.is(wait.kind, 'read')
    assert.is(wait.reason, 'budget-spent')
    assert.ok(wait.delayMs > 0 && wait.delayMs <= 1_000, `${wait.delayMs} ms`)
    assert.ok(wait.remaining <= 2)
  }
  assert.not.ok(JSON.stringify(events).includes(KEY), 'no event carries the key')
})

pacing('a 429 is waited out and a JSON body sent again: the video is created once', async () => {
  const api = budgeted({ limits: { read: 100, write: 1 } })
  const { session, waits } = sessionOn(api, { rateLimitWait: 5_000 })
  // The first write spends the budget; the second is sent before any answer said so, by a second session.
  assert.is((await session.fetch('/videos', json201)).status, 201)
  const other = sessionOn(api)
  const answer = await other.session.fetch('/videos', json201)
  assert.is(answer.status, 201)
  assert.equal(api.seen.bodies, ['{"title":"a"}', '{"title":"a"}'])
  assert.is(api.seen.tooMany, 1, 'the second session sent once for a 429, then after the reset')
  assert.equal(
    other.waits().map((w) => [w.kind, w.reason]),
    [['write', 'too-many-requests']],
  )
  assert.equal(waits(), [])
})

pacing('a stream body is never sent twice: its 429 is handed to the caller as it came', async () => {
  const api = budgeted({ limits: { read: 100, write: 0 } })
  const { session } = sessionOn(api)
  const stream = new Blob(['{"title":"a"}']).stream()
  const answer = await session.fetch('/videos', { ...json201, body: stream, duplex: 'half' })
  assert.is(answer.status, 429)
  assert.is(api.seen.requests.length, 1)
  assert.is((await answer.json()).type, 'https://docs.api.video/reference/too-many-requests')
})

pacing('a Retry-After longer than what is left of rateLimitWait is handed to the caller at once', async () => {
  const api = budgeted({ limits: { read: 0, write: 0 }, windowMs: 30_000 })
  const { session, waits } = sessionOn(api, { rateLimitWait: 10_000 })
  assert.is((await session.fetch('/videos')).status, 429)
  assert.is(api.seen.requests.length, 1)
  assert.equal(waits(), [])
})

pacing('rateLimitWait: 0 sends every call at once and hands every 429 back', async () => {
  const api = budgeted({ limits: { read: 1, write: 1 }, windowMs: 30_000 })
  const { session, waits } = sessionOn(api, { rateLimitWait: 0 })
  assert.is((await session.fetch('/videos')).status, 200)
  assert.equal(statuses(await Promise.all([session.fetch('/videos'), session.fetch('/videos')])), [429, 429])
  assert.is(api.seen.requests.length, 3)
  assert.equal(waits(), [])
})

pacing("the caller's signal ends a wait at once, with its reason, and nothing more is sent", async () => {
  const api = budgeted({ limits: { read: 1, write: 1 }, windowMs: 5_000 })
  const controller = new AbortController()
  const reason = new Error('the caller gave up')
  const session = createSession({
    apiKey: KEY,
    fetch: api.fetch,
    onEvent: (e) => e.type === 'rate-limit-wait' && controller.abort(reason),
  })
  assert.is((await session.fetch('/videos')).status, 200)
  const error = await failure(session.fetch('/videos', { signal: controller.signal }))
  assert.is(error, reason)
  assert.is(api.seen.requests.length, 1, 'the held call was never sent')
})

pacing(
  "a clock that stands still (a test's) does not stretch a wait: its Retry-After is waited, then the call goes",
  async () => {
    const api = budgeted({ limits: { read: 1, write: 1 } })
    const frozen = Date.now()
    const { session, waits } = sessionOn(api, { now: () => frozen })
    assert.is((await session.fetch('/videos')).status, 200)
    // A guard against a hang, not a measure of speed: the wait is a second, rateLimitWait a minute.
    let guard
    const hung = new Promise((resolve) => (guard = setTimeout(resolve, 20_000, 'hung')))
    const answer = await Promise.race([session.fetch('/videos'), hung]).finally(() => clearTimeout(guard))
    assert.is.not(answer, 'hung', 'the held call waited for rateLimitWait, not for its window')
    assert.is(answer.status, 200)
    assert.is(waits().length, 1)
  },
)

pacing('a call whose token cannot be had leaves the budget as it was: later calls are not held', async () => {
  const api = budgeted({ limits: { read: 3, write: 3 }, windowMs: 30_000 })
  let refuse = false
  const fetch = (request) =>
    refuse && new URL(request.url).pathname.startsWith('/auth/')
      ? json(400, { title: 'The user credentials were incorrect.', status: 400 })
      : api.fetch(request)
  const { session, waits } = sessionOn({ fetch }, { retries: 0 })
  assert.is((await session.fetch('/videos')).status, 200) // the budget is described: 3 a window, 2 left
  refuse = true
  for (let i = 0; i < 5; i++) {
    session.invalidate()
    assert.is((await failure(session.fetch('/videos'))).code, 'INVALID_CREDENTIALS')
  }
  refuse = false
  assert.equal(statuses(await Promise.all([session.fetch('/videos'), session.fetch('/videos')])), [200, 200])
  assert.equal(waits(), [], 'no call was held for the calls that never went out')
})

pacing('the attribution header stays on the API: a redirect to another origin does not carry it', async () => {
  const seen = []
  const fetch = async (request) => {
    const url = new URL(request.url)
    if (url.pathname.startsWith('/auth/')) return json(200, tokenBody(1))
    seen.push([url.host, request.headers.get('av-origin-sdk'), request.headers.get('authorization')])
    return url.host === 'ws.api.video'
      ? new Response(null, { status: 302, headers: { location: 'https://cdn.example.com/file' } })
      : json(200, {})
  }
  const session = createSession({ apiKey: KEY, fetch })
  assert.is((await session.fetch('/videos/vi1/source')).status, 200)
  assert.equal(seen[1], ['cdn.example.com', null, null])
  await session.fetch('/videos/vi1/source', { headers: { 'av-origin-sdk': 'wrapper:2.0.0' } })
  assert.equal(seen[3], ['cdn.example.com', 'wrapper:2.0.0', null], "the caller's own goes where the caller sends it")
})

pacing.run()

const onStandIn = suite("session.fetch: the stand-in's budgets, with the session's defaults")

/** A session with its defaults on a stand-in with `rateLimits`, both on the real clock (waits are real). */
function budgetedStandIn(rateLimits) {
  const standIn = createStandIn({ apiKeys: [KEY], rateLimits, keepRequests: Infinity })
  const events = []
  const session = createSession({ apiKey: KEY, fetch: standIn.fetch, onEvent: (e) => events.push(e) })
  const resources = () => standIn.requests.filter((r) => !r.path.startsWith('/auth/'))
  return { standIn, session, events, resources }
}

onStandIn('30 concurrent reads on a budget of 10 a second all get a 200, in at most 4 windows', async () => {
  const { session, resources } = budgetedStandIn({ reads: 10, windowMs: 1_000 })
  const answers = await Promise.all(Array.from({ length: 30 }, () => session.fetch('/videos')))
  assert.equal(statuses(answers), Array(30).fill(200))
  const windows = new Set(resources().map((r) => Math.floor(r.at / 1_000)))
  assert.ok(windows.size <= 4, `the reads took ${windows.size} windows of 1 s`)
})

onStandIn('two concurrent JSON writes on a budget of 1 both get a 201, each video created once', async () => {
  const { session, standIn } = budgetedStandIn({ writes: 1, windowMs: 1_000 })
  const create = (title) => session.fetch('/videos', { ...json201, body: JSON.stringify({ title }) })
  assert.equal(statuses(await Promise.all([create('one'), create('two')])), [201, 201])
  const { data } = await (
    await standIn.fetch('https://ws.api.video/videos', { headers: await bearer(session) })
  ).json()
  assert.equal(data.map((v) => v.title).sort(), ['one', 'two'])
})

onStandIn('a stream body on a spent budget is sent once: never created twice', async () => {
  const { session, standIn, resources } = budgetedStandIn({ writes: 1, windowMs: 1_000 })
  assert.is((await session.fetch('/videos', json201)).status, 201)
  const stream = new Blob(['{"title":"streamed"}']).stream()
  const answer = await session.fetch('/videos', { ...json201, body: stream, duplex: 'half' })
  assert.ok([201, 429].includes(answer.status), `${answer.status}`)
  assert.is(resources().filter((r) => r.method === 'POST').length, 2, 'the stream was sent once')
  const { data } = await (
    await standIn.fetch('https://ws.api.video/videos', { headers: await bearer(session) })
  ).json()
  assert.ok(data.filter((v) => v.title === 'streamed').length <= 1)
})

onStandIn('a signal that fires 300 ms into a 5 s wait ends it, with its reason; nothing more is sent', async () => {
  const { session, resources, events } = budgetedStandIn({ writes: 1, windowMs: 5_000 })
  // The window's end is up to 5 s away: the first write spends it, and the next one waits.
  assert.is((await session.fetch('/videos', json201)).status, 201)
  const controller = new AbortController()
  const reason = new Error('the caller gave up')
  const waiting = failure(session.fetch('/videos', { ...json201, signal: controller.signal }))
  await settle()
  assert.is(events.filter((e) => e.type === 'rate-limit-wait').length, 1, 'the second write waits')
  setTimeout(() => controller.abort(reason), 300)
  assert.is(await waiting, reason)
  assert.is(resources().filter((r) => r.method === 'POST').length, 1, 'the held write was never sent')
})

/** The session's `Authorization` value, for a request made around it. */
const bearer = async (session) => ({ authorization: await session.authorization() })

onStandIn.run()

const fleet = suite("session.fetch: the fleet's count")

/**
 * A share hook that renews here and answers `take` from `answers`, recording each call; with `window`, `window()`
 * answers it. `steps` records the order of the token's arrival, the reads of the window and the counts.
 */
function countingShare(answers, { window } = {}) {
  const takes = []
  const steps = []
  const share = () => ({
    renew: (renewHere) => renewHere().finally(() => steps.push('token')),
    settled: async () => {},
    async take(kind, { limit, endsAt, windowMs }) {
      steps.push('take')
      takes.push({ kind, allowed: limit, endsAt, windowMs })
      const answer = answers.shift()
      if (answer instanceof Error) throw answer
      return answer
    },
    ...(window && {
      async window(kind) {
        steps.push(`window ${kind}`)
        return window
      },
    }),
  })
  return { share, takes, steps }
}

/** A fetch that holds the answer of its `nth` resource request until `release()`. */
function holdingNth(api, nth) {
  let release
  const gate = new Promise((resolve) => (release = resolve))
  let seen = 0
  const fetch = async (request) => {
    const answer = api.fetch(request)
    if (!new URL(request.url).pathname.startsWith('/auth/') && ++seen === nth) await gate
    return answer
  }
  return { fetch, release: () => release() }
}

fleet(
  'the first call is counted once its answer says the window, the next before they go, against the limit',
  async () => {
    const api = budgeted({ limits: { read: 5, write: 5 } })
    const startedAt = Date.now()
    const { share, takes } = countingShare([true, true, true])
    const { session } = sessionOn(api, { share })
    await session.fetch('/videos')
    assert.equal(
      takes.map(({ kind, allowed, windowMs }) => [kind, allowed, windowMs]),
      [['read', 5, 1_000]],
      'the first call, sent before any answer, is counted after it',
    )
    await session.fetch('/videos')
    await session.fetch('/videos')
    assert.equal(
      takes.map(({ kind, allowed }) => [kind, allowed]),
      [
        ['read', 5],
        ['read', 5],
        ['read', 5],
      ],
    )
    // The window's end, a whole second: every instance of a fleet names the window alike.
    const endedBy = Date.now() + 1_000
    assert.ok(takes.every(({ endsAt }) => endsAt % 1_000 === 0 && endsAt > startedAt && endsAt <= endedBy))
  },
)

fleet(
  "a session's first call, once it has its token, takes the fleet's window and is counted before it goes",
  async () => {
    const api = budgeted({ limits: { read: 5, write: 5 } })
    const endsAt = Math.floor(Date.now() / 1000) * 1000 + 1_000
    const { share, takes, steps } = countingShare([false, true], { window: { limit: 5, endsAt, windowMs: 1_000 } })
    const sentAt = []
    const watched = { fetch: (request) => (sentAt.push(Date.now()), api.fetch(request)) }
    const { session } = sessionOn(watched, { share })
    assert.is((await session.fetch('/videos')).status, 200)
    assert.equal(steps.slice(0, 3), ['token', 'window read', 'take'], 'the window read after the token, then counted')
    assert.equal(takes[0], { kind: 'read', allowed: 5, endsAt, windowMs: 1_000 }, "counted in the fleet's window")
    // The fleet had spent that window: nothing went before it ended, and the call was counted in the next one.
    assert.is(sentAt.filter((at) => at < endsAt).length, 1, 'only the auth request before the window ended')
    assert.is(takes[1].endsAt, endsAt + 1_000)
    assert.is(takes.length, 2, 'the call counted once it knew the window is not counted again after its answer')
  },
)

fleet(
  'the calls in flight when a window begins are counted in it by the fleet, as api.video may take them then',
  async () => {
    const api = budgeted({ limits: { read: 50, write: 50 } })
    const held = holdingNth(api, 2)
    const { share, takes } = countingShare(Array(10).fill(true))
    const { session } = sessionOn({ ...api, fetch: held.fetch }, { share })
    await session.fetch('/videos')
    const inFlight = session.fetch('/videos')
    for (let i = 0; takes.length < 2 && i < 1_000; i++) await settle()
    assert.is(takes.length, 2, 'the first call and the one in flight are counted')
    const [first] = takes
    // The next window: its first call, and the call still in flight from the last one, are both counted in it. The
    // call in flight is not the new window's first: that goes at once, not after a wait for its answer (which would
    // count it in the window after).
    while (Date.now() < first.endsAt) await new Promise((resolve) => setTimeout(resolve, first.endsAt - Date.now()))
    assert.is((await session.fetch('/videos')).status, 200)
    held.release()
    assert.is((await inFlight).status, 200)
    const ends = takes.map(({ endsAt }) => endsAt)
    assert.equal(ends, [first.endsAt, first.endsAt, first.endsAt + 1_000, first.endsAt + 1_000])
  },
)

fleet('a fleet that has spent the window holds the call; a count that fails lets it go', async () => {
  const api = budgeted({ limits: { read: 50, write: 50 } })
  const { share, takes } = countingShare([false, true, new Error('store down'), undefined])
  const { session, waits } = sessionOn(api, { share })
  await session.fetch('/videos')
  assert.is((await session.fetch('/videos')).status, 200)
  assert.is(takes.length, 2, 'asked again once the fleet said spent')
  assert.equal(
    waits().map((w) => w.reason),
    ['budget-spent'],
  )
  assert.is((await session.fetch('/videos')).status, 200, 'a rejected count: sent')
  assert.is((await session.fetch('/videos')).status, 200, 'an unknown count: sent')
  assert.is(api.seen.requests.length, 4)
})

fleet('calls that waited for a first answer that was a 429 are counted by the fleet before they go', async () => {
  const api = budgeted({ limits: { read: 3, write: 3 } })
  // Another instance spends the window; this one's first answer is then a 429.
  const other = sessionOn(api)
  await Promise.all([1, 2, 3].map(() => other.session.fetch('/videos')))
  const { share, takes } = countingShare(Array(20).fill(true))
  const { session } = sessionOn(api, { share })
  const answers = await Promise.all(Array.from({ length: 5 }, () => session.fetch('/videos')))
  assert.equal(statuses(answers), Array(5).fill(200))
  // The first call went alone, before any answer: its resend and the 4 that waited for it are counted (a call sent
  // again after a 429 of a window's last instant is counted again).
  assert.ok(takes.length >= 5, `${takes.length} of the 5 calls after the first answer counted`)
})

fleet('a call the fleet refuses waits for the window to end before the fleet is asked again', async () => {
  const api = budgeted({ limits: { read: 50, write: 50 } })
  const { share, takes } = countingShare(Array(1_000).fill(false))
  const { session } = sessionOn(api, { share, rateLimitWait: 2_500 })
  await session.fetch('/videos')
  assert.is((await session.fetch('/videos')).status, 200, 'sent once the wait it may have has gone')
  // One ask a window in the 2.5 s the call may wait, each of the next window: never a loop of asks.
  assert.ok(takes.length <= 4, `${takes.length} asks`)
  const ends = takes.map(({ endsAt }) => endsAt)
  assert.equal(ends, [...new Set(ends)], 'each ask of another window')
})

fleet(
  "the caller's signal ends a wait on the fleet's count at once, and the call is not counted in flight",
  async () => {
    const api = budgeted({ limits: { read: 5, write: 5 } })
    const answers = [new Promise(() => {}), true]
    const takes = []
    const share = () => ({
      renew: (renewHere) => renewHere(),
      settled: async () => {},
      async take(kind) {
        takes.push(kind)
        return answers.shift()
      },
    })
    const { session } = sessionOn(api, { share })
    await session.fetch('/videos')
    const controller = new AbortController()
    const reason = new Error('the caller gave up')
    let settled = false
    const ended = session.fetch('/videos', { signal: controller.signal }).then(
      () => 'a response',
      (error) => error,
    )
    void ended.finally(() => (settled = true))
    while (takes.length === 0) await settle()
    controller.abort(reason)
    for (let i = 0; i < 5; i++) await settle()
    assert.ok(settled, 'the call ended with the abort, not with the store')
    assert.is(await ended, reason)
    assert.is(api.seen.requests.length, 1, 'nothing more was sent')
    // Not left in flight: the next calls of the window are all let go.
    const next = await Promise.all([1, 2, 3, 4].map(() => session.fetch('/videos')))
    assert.equal(statuses(next), [200, 200, 200, 200])
  },
)

fleet.run()

const attribution = suite('attribution: AV-Origin-Sdk')
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))

attribution('every request to the API names the package and its version, unless the caller named one', async () => {
  assert.is(authenticateRequest(KEY).headers.get('av-origin-sdk'), `apivideo-auth:${version}`)
  const own = authenticateRequest(KEY, { headers: { 'AV-Origin-Sdk': 'wrapper:2.0.0' } })
  assert.is(own.headers.get('av-origin-sdk'), 'wrapper:2.0.0')
  const sent = []
  const fetch = async (request) => {
    sent.push(request.headers.get('av-origin-sdk'))
    return new URL(request.url).pathname.startsWith('/auth/') ? json(200, tokenBody(1)) : json(200, {})
  }
  const session = createSession({ apiKey: KEY, fetch })
  await session.fetch('/videos')
  await session.fetch('/videos', { headers: { 'av-origin-sdk': 'wrapper:2.0.0' } })
  assert.equal(sent, [`apivideo-auth:${version}`, `apivideo-auth:${version}`, 'wrapper:2.0.0'])
})

attribution.run()

const options = suite('session: the rateLimitWait option')

options('rateLimitWait is a number of ms from 0; anything else is a TypeError naming it', async () => {
  for (const value of [-1, NaN, '1000', Infinity, 2 ** 31]) {
    assertArgumentError(await thrownBy(() => createSession({ apiKey: KEY, rateLimitWait: value })), 'rateLimitWait')
  }
  const error = await thrownBy(() => createSession({ apiKey: KEY, rateLimitWaitMs: 5 }))
  assert.is(error.code, 'ERR_UNKNOWN_OPTION')
  assert.match(error.message, 'did you mean rateLimitWait?')
})

options.run()

const notFound = suite('errors: a 404 on an auth endpoint')

notFound("says to check the base URL's path", async () => {
  const fetch = async () => json(404, { title: 'Not Found', status: 404 })
  const error = await failure(createSession({ apiKey: KEY, fetch, retries: 0 }).token())
  assert.is(error.code, 'UNEXPECTED_STATUS')
  assert.match(error.message, 'check the base URL and its path')
})

notFound.run()
