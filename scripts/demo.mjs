// The demo: one session through a scripted working day against the api.video stand-in on 127.0.0.1.
// The clock is injected (the same one for the session and the stand-in), so ten hours pass in seconds.
// Tokens last 60 min and fall due 5 to 7.5 min before expiry; callers come every 5 min, so each
// token is renewed 55 min after it was issued. The scripted faults land on those renewals.
import { createSession } from 'apivideo-auth'
import { createStandIn } from 'apivideo-auth/testing'
import { listen } from './loopback.mjs'

const MINUTE = 60_000
const START = Date.UTC(2026, 0, 5, 8, 0)
const END = START + 10 * 60 * MINUTE
const CALLERS = 50
const REJECTED = { type: 'https://docs.api.video/reference/authentication-invalid-user-credentials', title: 'The user credentials were incorrect.', name: '', status: 400 }

let time = START
const now = () => time
const hhmm = (ms) => new Date(ms).toISOString().slice(11, 16)
const count = (n) => n.toLocaleString('en-US')

const lines = []
const totals = { tokenCalls: 0, callers: 0, errors: 0, resource: 0, authFailures: 0 }

const standIn = createStandIn({ apiKeys: ['demo-key'], now })
const server = await listen(async (request) => {
  const { pathname } = new URL(request.url)
  const response = await standIn.handler(request).catch((error) => {
    lines.push(`${request.method} ${pathname}  connection dropped`)
    throw error
  })
  if (!pathname.startsWith('/auth/')) totals.resource++
  else if (response.status !== 200) totals.authFailures++
  lines.push(`${request.method} ${pathname}  ${response.status}`)
  return response
})

const session = createSession({ apiKey: 'demo-key', baseUrl: server.url, now, onEvent: (e) => lines.push(describe(e)) })

/** What a session event means, in words; events carry codes and times, never a secret. */
function describe(event) {
  switch (event.type) {
    case 'authenticated':
      return `  authenticated with the API key: a token until ${hhmm(event.expiresAt)}`
    case 'refreshed':
      return `  refreshed: a token until ${hhmm(event.expiresAt)}; the refresh token rotated, the old one is spent`
    case 'refresh-rejected':
      return '  refresh token rejected: falling back to the API key, in the same renewal'
    case 'retry':
      return `  ${event.code}: retry ${event.attempt} in ${(event.delay / 1000).toFixed(2)} s${event.code === 'RATE_LIMITED' ? ', as the server asked' : ''}`
    case 'failed':
      return `  ${event.code}: the renewal failed after ${event.attempt + 1} attempts`
    case 'served-stale':
      return `  served the current token instead (valid until ${hhmm(event.expiresAt)}): callers see no error`
    default:
      return `  ${event.type}`
  }
}

/** `n` concurrent callers asking for a token; returns how many got one. */
async function callers(n) {
  totals.tokenCalls += n
  totals.callers += n
  const results = await Promise.allSettled(Array.from({ length: n }, () => session.token()))
  const failed = results.filter((r) => r.status === 'rejected').length
  totals.errors += failed
  return n - failed
}

/** `n` concurrent API calls through session.fetch; returns their statuses. */
async function apiCalls(n) {
  totals.callers += n
  const before = totals.resource
  const responses = await Promise.all(Array.from({ length: n }, () => session.fetch(`${server.url}/videos`)))
  totals.tokenCalls += totals.resource - before
  totals.errors += responses.filter((r) => r.status !== 200).length
  return responses.map((r) => r.status)
}

/**
 * Lines of one moment, repeats counted: an API call's line where it first appeared (concurrent calls
 * finish in any order), any other line when it repeats the one before.
 */
function squeeze(list) {
  const out = []
  for (const line of list) {
    const same = line.startsWith('GET /videos') ? out.find((o) => o.line === line) : out.at(-1)?.line === line && out.at(-1)
    if (same) same.n++
    else out.push({ line, n: 1 })
  }
  return out.map(({ line, n }) => (n > 1 ? `${line}  x${n}` : line))
}

let quiet = { from: undefined, to: undefined, served: 0 }

function flushQuiet() {
  if (!quiet.served) return
  const span = quiet.from === quiet.to ? hhmm(quiet.from) : `${hhmm(quiet.from)}-${hhmm(quiet.to)}`
  console.log(`${span.padEnd(12)} ${count(quiet.served)} callers served from memory, no request`)
  quiet = { from: undefined, to: undefined, served: 0 }
}

/** Runs one moment of the day; prints it, or folds it into a quiet stretch when nothing was sent. */
async function moment(title, work) {
  lines.length = 0
  const note = await work()
  if (!lines.length && !title) {
    quiet.from ??= time
    quiet.to = time
    quiet.served += note
    return
  }
  flushQuiet()
  console.log(`${hhmm(time).padEnd(12)} ${title ?? `${CALLERS} callers; the token is due, 5 min before expiry`}`)
  for (const line of squeeze(lines)) console.log(`${' '.repeat(15)}${line}`)
  if (typeof note === 'string') console.log(`${' '.repeat(15)}${note}`)
}

/** The faults and surprises of the day, by time; every other 5 min, 50 callers ask for a token. */
const script = {
  '08:00': ['cold start: 1,000 callers ask for a token at once', async () => `=> ${count(await callers(1000))} callers served by ${standIn.requests.length} request`],
  '12:35': ['the token is due, and api.video refuses the refresh token (another process spent it, say)', () => (standIn.fail('/auth/refresh', { status: 400, body: REJECTED }), routine())],
  '13:30': ['the token is due, and api.video answers 429 with X-RateLimit-Retry-After: 1', () => (standIn.fail('/auth/refresh', { status: 429, headers: { 'x-ratelimit-retry-after': '1' } }), routine())],
  '14:25': ['the token is due, 5 min before expiry, and api.video is down (503)', () => (standIn.fail('/auth/refresh', { status: 503 }), standIn.fail('/auth/api-key', { status: 503 }, { status: 503 }), routine())],
  '14:30': ['the token has expired; api.video is back', routine],
  '15:00': ['api.video revokes the access token early; 10 API calls go through session.fetch', revoked],
}

async function routine() {
  const served = await callers(CALLERS)
  return lines.length ? `=> ${served} of ${CALLERS} callers served` : served
}

async function revoked() {
  standIn.revoke()
  const statuses = await apiCalls(10)
  return `=> ${statuses.filter((s) => s === 200).length} of 10 calls answered 200: one renewal for ten 401s, each call replayed once`
}

const started = performance.now()
console.log(`apivideo-auth demo: a session through a scripted day, against the api.video stand-in at ${server.url}`)
console.log('(the clock is injected: ten hours pass in a few seconds; nothing leaves this machine)\n')
try {
  for (; time <= END; time += 5 * MINUTE) {
    const [title, work] = script[hhmm(time)] ?? [undefined, routine]
    await moment(title, work)
  }
  flushQuiet()
} finally {
  await server.close()
}

const sent = (path) => standIn.requests.filter((r) => r.path === path).length
const requests = sent('/auth/api-key') + sent('/auth/refresh')
const rows = [
  ['callers served', totals.callers],
  ['token calls (one per caller, one per replay)', totals.tokenCalls],
  ['auth requests made', requests],
  ['  POST /auth/api-key', sent('/auth/api-key')],
  ['  POST /auth/refresh', sent('/auth/refresh')],
  ['  answered with an error', totals.authFailures],
  ['auth requests, official client, same work *', totals.tokenCalls],
  ['callers who got an error', totals.errors],
]
console.log('\nSummary')
for (const [label, value] of rows) console.log(`  ${label.padEnd(46)}${count(value).padStart(7)}`)
console.log('  * @api.video/nodejs-client makes one POST /auth/api-key per getAccessToken() call, and caches nothing.')
console.log(`  ${Math.floor(totals.tokenCalls / requests)}x fewer auth requests; ${((performance.now() - started) / 1000).toFixed(1)} s of wall time for ten hours.`)
if (totals.errors) {
  console.error(`\ndemo: ${totals.errors} caller(s) got an error`)
  process.exitCode = 1
}
