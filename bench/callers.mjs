// Requests per callers (child process): 10,000 concurrent callers on a cold session and again at renewal
// (fake clock), counted by the stand-in; the official client's getAccessToken() for the same callers,
// counted by a loopback server in another process.
import ApiVideoClient from '@api.video/nodejs-client'
import { createSession } from 'apivideo-auth'
import { createStandIn } from 'apivideo-auth/testing'
import { loopbackServer } from './lib.mjs'

const CALLERS = 10_000
const LIFETIME = 3600

async function ours() {
  let t = 1_700_000_000_000
  const now = () => t
  const standIn = createStandIn({ now, expiresIn: LIFETIME })
  const session = createSession({ apiKey: 'test-key', fetch: standIn.fetch, now })
  const burst = async () => {
    const before = standIn.requests.length
    const tokens = new Set(await Promise.all(Array.from({ length: CALLERS }, () => session.token())))
    return { requests: standIn.requests.length - before, distinctTokens: tokens.size, paths: [...new Set(standIn.requests.slice(before).map((r) => r.path))] }
  }
  const cold = await burst()
  t += (LIFETIME - 60) * 1000 // one minute before expiry: past any renewal point (margin at least 5 minutes)
  const renewal = await burst()
  return { cold, renewal }
}

async function official() {
  const server = await loopbackServer()
  const client = new ApiVideoClient({ apiKey: 'test-key', baseUri: server.url })
  const burst = async () => {
    server.reset()
    const start = performance.now()
    const results = await Promise.allSettled(Array.from({ length: CALLERS }, () => client.getAccessToken()))
    const ms = performance.now() - start
    const { counts, basic } = await server.ask('counts')
    const failed = results.filter((r) => r.status === 'rejected')
    return {
      requests: Object.values(counts).reduce((a, b) => a + b, 0),
      paths: Object.keys(counts),
      basicAuth: basic,
      failed: failed.length,
      failure: failed[0]?.reason?.code ?? failed[0]?.reason?.message,
      distinctTokens: new Set(results.filter((r) => r.status === 'fulfilled').map((r) => r.value.accessToken)).size,
      ms,
    }
  }
  const cold = await burst()
  const renewal = await burst() // it keeps no token: every call is a request, at renewal as on a cold start
  await server.close()
  return { cold, renewal }
}

console.log(JSON.stringify({ callers: CALLERS, ours: await ours(), official: await official() }))
