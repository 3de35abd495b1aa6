// The demo: a scripted working day of API calls against the api.video stand-in on 127.0.0.1, made twice: once
// through an apivideo-auth session, once through the official @api.video/nodejs-client as its users call it
// (`client.videos.list()`, which sends the API key in a Basic header). Each client has its own stand-in, and the
// summary is read from the stand-ins' own counts.
// The clock is injected (the same one for the session and the stand-ins), so ten hours pass in seconds.
// Tokens last 60 min and fall due 5 to 7.5 min before expiry; callers come every 5 min, so each token is
// renewed 55 min after it was issued. The scripted faults land on those renewals.
import ApiVideoClient from '@api.video/nodejs-client'
import { createSession } from 'apivideo-auth'
import { createStandIn } from 'apivideo-auth/testing'
import { listen } from './loopback.mjs'

const MINUTE = 60_000
const START = Date.UTC(2026, 0, 5, 8, 0)
const END = START + 10 * 60 * MINUTE
const CALLERS = 50
const COLD_START = 1000
const KEY = 'demo-key'
const REJECTED = {
  type: 'https://docs.api.video/reference/authentication-invalid-user-credentials',
  title: 'The user credentials were incorrect.',
  name: '',
  status: 400,
}

let time = START
const now = () => time
const hhmm = (ms) => new Date(ms).toISOString().slice(11, 16)
const count = (n) => n.toLocaleString('en-US')

/** Serves a stand-in on 127.0.0.1; `lines` gets one line per request while `logging` is on. */
async function serveStandIn() {
  const standIn = createStandIn({ apiKeys: [KEY], now })
  const served = { standIn, lines: [], logging: true }
  const server = await listen(
    async (request) => {
      const line = `${request.method} ${new URL(request.url).pathname}`
      const response = await standIn.handler(request).catch((error) => {
        if (served.logging) served.lines.push(`${line}  connection dropped`)
        throw error
      })
      if (served.logging) served.lines.push(`${line}  ${response.status}`)
      return response
    },
    { backlog: 2 * COLD_START },
  )
  return Object.assign(served, server)
}

const ours = await serveStandIn()
const theirs = await serveStandIn()
theirs.logging = false
// A renewal's start is not a line of its own: its outcome is.
const onEvent = (e) => e.type !== 'renewal-started' && ours.lines.push(describe(e))
const session = createSession({ apiKey: KEY, baseUrl: ours.url, now, onEvent })
const official = new ApiVideoClient({ apiKey: KEY, baseUri: theirs.url })
const errors = { ours: 0, theirs: 0 }
let calls = 0

/** What a session event means, in words; events carry codes and times, never a secret. */
function describe(event) {
  switch (event.type) {
    case 'authenticated':
      return `  authenticated with the API key: a token until ${hhmm(event.expiresAt)}`
    case 'refreshed':
      return `  refreshed: a token until ${hhmm(event.expiresAt)}; the refresh token rotated, the old one is spent`
    case 'refresh-rejected':
      return '  refresh token rejected: falling back to the API key, in the same renewal'
    case 'retrying':
      return (
        `  ${event.code}: retry ${event.attempt} in ${(event.delayMs / 1000).toFixed(2)} s` +
        (event.code === 'RATE_LIMITED' ? ', as the server asked' : '')
      )
    case 'renewal-failed':
      return `  ${event.code}: the renewal failed after ${event.attempt + 1} attempts`
    case 'served-stale':
      return `  served the current token instead (valid until ${hhmm(event.expiresAt)}): callers see no error`
    default:
      return `  ${event.type}`
  }
}

/**
 * `n` concurrent callers, each making one API call (GET /videos), through the session and through the official
 * client; returns how many of the session's callers got a 200. A caller who gets no 200 counts as an error.
 * The session takes a path relative to its base URL (apivideo-auth 1.0).
 */
async function apiCalls(n) {
  calls += n
  const [mine, theirsDone] = await Promise.all([
    Promise.allSettled(Array.from({ length: n }, () => session.fetch('/videos'))),
    Promise.allSettled(Array.from({ length: n }, () => official.videos.list())),
  ])
  // A renewal that started in the background ends within this moment, before the clock moves on.
  await session.settled()
  const served = mine.filter((r) => r.status === 'fulfilled' && r.value.status === 200).length
  await Promise.all(mine.map((r) => r.status === 'fulfilled' && r.value.body?.cancel()))
  errors.ours += n - served
  errors.theirs += theirsDone.filter((r) => r.status === 'rejected').length
  return served
}

/**
 * Lines of one moment, repeats counted: an API call's line where it first appeared (concurrent calls finish in any
 * order), any other line when it repeats the one before.
 */
function squeeze(list) {
  const out = []
  for (const line of list) {
    const same = line.startsWith('GET /videos')
      ? out.find((o) => o.line === line)
      : out.at(-1)?.line === line && out.at(-1)
    if (same) same.n++
    else out.push({ line, n: 1 })
  }
  return out.map(({ line, n }) => (n > 1 ? `${line}  x${n}` : line))
}

let quiet = { from: undefined, to: undefined, served: 0 }

function flushQuiet() {
  if (!quiet.served) return
  const span = quiet.from === quiet.to ? hhmm(quiet.from) : `${hhmm(quiet.from)}-${hhmm(quiet.to)}`
  console.log(`${span.padEnd(12)} ${count(quiet.served)} API calls with the cached token, no auth request`)
  quiet = { from: undefined, to: undefined, served: 0 }
}

/**
 * Runs one moment of the day; prints it, or folds it into a quiet stretch
 * when it made no auth request and no call failed.
 */
async function moment(title, work) {
  ours.lines.length = 0
  const note = await work()
  const eventful = ours.lines.some((line) => !line.startsWith('GET /videos  200'))
  if (!eventful && !title) {
    quiet.from ??= time
    quiet.to = time
    quiet.served += note
    return
  }
  flushQuiet()
  console.log(`${hhmm(time).padEnd(12)} ${title ?? `${CALLERS} API calls; the token is due, 5 min before expiry`}`)
  for (const line of squeeze(ours.lines)) console.log(`${' '.repeat(15)}${line}`)
  if (typeof note === 'string') console.log(`${' '.repeat(15)}${note}`)
}

/** The faults and surprises of the day, by time; every other 5 min, 50 callers make an API call each. */
const script = {
  '08:00': [
    `cold start: ${count(COLD_START)} API calls at once`,
    async () =>
      `=> ${count(await apiCalls(COLD_START))} calls answered 200, after ${ours.standIn.counts.auth} auth request`,
  ],
  '12:35': [
    'the token is due, and api.video refuses the refresh token (another process spent it, say)',
    () => (ours.standIn.fail('/auth/refresh', { status: 400, body: REJECTED }), routine()),
  ],
  '13:30': [
    'the token is due, and api.video answers 429 with X-RateLimit-Retry-After: 1',
    () => (
      ours.standIn.fail('/auth/refresh', { status: 429, headers: { 'x-ratelimit-retry-after': '1' } }),
      routine()
    ),
  ],
  '14:25': [
    'the token is due, 5 min before expiry, and the auth endpoints are down (503)',
    () => (
      ours.standIn.fail('/auth/refresh', { status: 503 }),
      ours.standIn.fail('/auth/api-key', { status: 503 }, { status: 503 }),
      routine()
    ),
  ],
  '14:30': ['the token has expired; the auth endpoints are back', routine],
  '15:00': ['api.video revokes the access tokens early; 10 API calls', revoked],
}

async function routine() {
  const served = await apiCalls(CALLERS)
  return ours.lines.some((line) => !line.startsWith('GET /videos  200'))
    ? `=> ${served} of ${CALLERS} calls answered 200`
    : served
}

async function revoked() {
  ours.standIn.revoke()
  theirs.standIn.revoke()
  const served = await apiCalls(10)
  return `=> ${served} of 10 calls answered 200: one renewal for ten 401s, each call replayed once`
}

const started = performance.now()
console.log('apivideo-auth demo: a scripted day of API calls against the api.video stand-in on 127.0.0.1,')
console.log('made through an apivideo-auth session and, for comparison, through @api.video/nodejs-client')
console.log('(the clock is injected: ten hours pass in a few seconds; nothing leaves this machine)\n')
try {
  for (; time <= END; time += 5 * MINUTE) {
    const [title, work] = script[hhmm(time)] ?? [undefined, routine]
    await moment(title, work)
  }
  flushQuiet()
} finally {
  await Promise.all([ours.close(), theirs.close()])
}

const mine = ours.standIn.counts
const their = theirs.standIn.counts
const rows = [
  ['requests that carried the API key', mine.carriedApiKey, their.carriedApiKey],
  ['auth requests', mine.auth, their.auth],
  ['  POST /auth/api-key', mine.credentials['api-key'], their.credentials['api-key']],
  ['  POST /auth/refresh', mine.credentials['refresh-token'], their.credentials['refresh-token']],
  ['resource requests (GET /videos)', mine.resource, their.resource],
  ['callers who got an error', errors.ours, errors.theirs],
]
if (their.auth !== 0)
  throw new Error('the official client made an auth request: the record is not what this demo expects')
console.log(`\nSummary: ${count(calls)} API calls, each client against its own stand-in, counted by the stand-ins`)
console.log(`  ${''.padEnd(36)}${'apivideo-auth'.padStart(15)}${'official client'.padStart(18)}`)
for (const [label, a, b] of rows) console.log(`  ${label.padEnd(36)}${count(a).padStart(15)}${count(b).padStart(18)}`)
console.log(
  '  The official client sent the API key itself, in a Basic header, ' +
    `with every call: ${count(their.carriedApiKey)} times.`,
)
console.log(
  `  apivideo-auth sent it ${count(mine.carriedApiKey)} times, ` +
    'only when it had no usable refresh token (retries during the',
)
console.log(
  '  outage included); every other request carried a short-lived access token or a single-use refresh token.',
)
console.log(`  ${((performance.now() - started) / 1000).toFixed(1)} s of wall time for ten hours.`)
if (errors.ours || errors.theirs) {
  console.error(`\ndemo: ${errors.ours + errors.theirs} caller(s) got an error`)
  process.exitCode = 1
}
