// The default clock and what a session does when the wall clock jumps.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createSession } from '../dist/index.js'
import { createStandIn } from '../dist/testing.js'
import { KEY, clock } from './helpers/index.mjs'

const HOUR = 3_600_000

// ---------------------------------------------------------------------------------------------
const clocks = suite('clock: the default is performance.now(), catching up with Date.now()')

/**
 * Stubs the two clocks: `wall` for Date.now, `elapsed` for performance.now (ms since timeOrigin).
 * The core must read performance.now at call time (not a reference captured at import).
 */
async function withClocks(run) {
  const realDateNow = Date.now
  const start = performance.now()
  const state = { wall: realDateNow(), elapsed: start }
  Date.now = () => state.wall
  performance.now = () => state.elapsed
  try {
    await run(state)
  } finally {
    Date.now = realDateNow
    delete performance.now
  }
}

/** A stand-in granting 60 s tokens on the monotonic clock, and a session with its default clock, no retries. */
function minuteTokens() {
  const standIn = createStandIn({
    apiKeys: [KEY],
    expiresIn: 60,
    now: () => performance.timeOrigin + performance.now(),
  })
  return { standIn, session: createSession({ apiKey: KEY, fetch: standIn.fetch, retries: 0 }) }
}

clocks(
  'a wall clock stepped back by exactly the time elapsed does not make token() serve an expired token',
  async () => {
    // What this proves: the token's age comes from the monotonic clock. 61 s pass on performance.now()
    // (a 60 s token has expired) while Date.now() shows the moment the token arrived (an NTP step back of 61 s).
    // A session that ages tokens on Date.now sees a token 0 s old and serves it; one on performance.now renews.
    await withClocks(async (clocks) => {
      const { standIn, session } = minuteTokens()
      const first = await session.token()
      clocks.elapsed += 61_000
      const second = await session.token()
      assert.is(standIn.requests.length, 2, 'the expired token was renewed')
      assert.is.not(second, first)
    })
  },
)

clocks('regression: a wall clock stepped back 2 hours after expiry still renews', async () => {
  await withClocks(async (clocks) => {
    const { standIn, session } = minuteTokens()
    await session.token()
    clocks.elapsed += 61_000
    clocks.wall -= 2 * HOUR
    await session.token()
    assert.is(standIn.requests.length, 2)
  })
})

clocks('a machine that slept: performance.now() stood still while Date.now() moved on 2 hours: renewed', async () => {
  // A monotonic clock stops during suspend (CLOCK_MONOTONIC, mach_absolute_time); api.video's clock does not.
  await withClocks(async (clocks) => {
    const { standIn, session } = minuteTokens()
    const first = await session.token()
    clocks.wall += 2 * HOUR
    assert.is.not(await session.token(), first)
    assert.is(standIn.requests.length, 2)
  })
})

clocks(
  'a wall clock ahead (after a sleep) then stepped back 1 s: the clock does not run back, no clock-jump',
  async () => {
    await withClocks(async (clocks) => {
      const { standIn } = minuteTokens()
      clocks.wall += 2 * HOUR
      const events = []
      const watched = createSession({ apiKey: KEY, fetch: standIn.fetch, onEvent: (e) => events.push(e.type) })
      // A renewal's start, then its outcome.
      const first = await watched.token()
      clocks.wall -= 1000
      assert.is(await watched.token(), first)
      assert.equal(events, ['renewal-started', 'authenticated'])
    })
  },
)

clocks('a pause between its two reads does not put the clock ahead of the wall clock', async () => {
  await withClocks(async (clocks) => {
    const { standIn } = minuteTokens()
    // The two clocks agree; then the thread loses the CPU for 7 ms just after its first read of performance.now().
    clocks.elapsed = clocks.wall - performance.timeOrigin
    let paused = false
    performance.now = () => {
      const elapsed = clocks.elapsed
      if (!paused) {
        paused = true
        clocks.elapsed += 7
        clocks.wall += 7
      }
      return elapsed
    }
    const ahead = []
    const session = createSession({
      apiKey: KEY,
      fetch: standIn.fetch,
      onEvent: (e) => ahead.push(e.at - Date.now()),
    })
    await session.token()
    clocks.elapsed += 1_000
    clocks.wall += 1_000
    await session.token({ forceRefresh: true })
    assert.ok(ahead.length >= 2, `${ahead.length} events`)
    assert.ok(
      ahead.every((ms) => ms < 1),
      `ms ahead of Date.now(): ${ahead.map((ms) => ms.toFixed(1))}`,
    )
  })
})

clocks('without performance (or its timeOrigin), the default clock is Date.now', async () => {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'performance')
  for (const stand of [undefined, { now: () => 0 }]) {
    Object.defineProperty(globalThis, 'performance', { configurable: true, value: stand })
    try {
      const time = clock()
      const realDateNow = Date.now
      Date.now = time.now
      try {
        const standIn = createStandIn({ apiKeys: [KEY], expiresIn: 60, now: time.now })
        const session = createSession({ apiKey: KEY, fetch: standIn.fetch, retries: 0 })
        const first = await session.token()
        assert.is(await session.token(), first)
        time.tick(61_000)
        assert.is.not(await session.token(), first)
      } finally {
        Date.now = realDateNow
      }
    } finally {
      Object.defineProperty(globalThis, 'performance', descriptor)
    }
  }
})

clocks('a cached token() reads its clock once: one performance.now() and one Date.now(), no timeOrigin', async () => {
  await withClocks(async () => {
    const { session } = minuteTokens()
    const first = await session.token()
    const reads = { now: 0, timeOrigin: 0, dateNow: 0 }
    const { now } = performance
    const origin = performance.timeOrigin
    const dateNow = Date.now
    performance.now = () => (reads.now++, now())
    Object.defineProperty(performance, 'timeOrigin', {
      configurable: true,
      get: () => (reads.timeOrigin++, origin),
    })
    Date.now = () => (reads.dateNow++, dateNow())
    try {
      assert.is(await session.token(), first)
    } finally {
      delete performance.timeOrigin
      Date.now = dateNow
    }
    assert.equal(reads, { now: 1, timeOrigin: 0, dateNow: 1 })
  })
})

clocks.run()
