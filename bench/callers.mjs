// Who sends the API key (child process): the same workload through an apivideo-auth session and through the
// official @api.video/nodejs-client as its users call it, each against its own stand-in on 127.0.0.1, counted by
// the stand-ins. The workload: 5,000 concurrent API calls (GET /videos) on a cold start, and 5,000 more one
// minute before the token expires (the stand-ins' clock is injected).
import ApiVideoClient from '@api.video/nodejs-client'
import { createSession } from '../dist/index.js'
import { createStandIn } from '../dist/testing.js'
import { listen } from '../scripts/loopback.mjs'

const CALLS = 5_000
const LIFETIME = 3600
const KEY = 'bench-key'

let time = 1_700_000_000_000
const now = () => time

/** Runs the workload with `call` against a fresh stand-in; the stand-in's counts and the callers who got an error. */
async function measure(makeCall) {
  const standIn = createStandIn({ apiKeys: [KEY], now, expiresIn: LIFETIME, keepRequests: 0 })
  const server = await listen(standIn.handler, { backlog: 2 * CALLS })
  const call = makeCall(server.url)
  let errors = 0
  try {
    for (const at of [0, (LIFETIME - 60) * 1000]) {
      time = 1_700_000_000_000 + at
      const results = await Promise.allSettled(Array.from({ length: CALLS }, call))
      errors += results.filter((r) => r.status === 'rejected' || r.value === false).length
    }
  } finally {
    await server.close()
  }
  const { carriedApiKey, auth, resource, credentials } = standIn.counts
  return {
    carriedApiKey,
    auth,
    resource,
    apiKeyRequests: credentials['api-key'],
    refreshRequests: credentials['refresh-token'],
    errors,
  }
}

const ours = await measure((baseUrl) => {
  const session = createSession({ apiKey: KEY, baseUrl, now })
  return async () => {
    const response = await session.fetch('/videos') // a path relative to baseUrl: apivideo-auth 1.0
    await response.arrayBuffer()
    return response.status === 200
  }
})
const official = await measure((baseUri) => {
  const client = new ApiVideoClient({ apiKey: KEY, baseUri })
  return () => client.videos.list()
})

console.log(JSON.stringify({ calls: 2 * CALLS, ours, official }))
