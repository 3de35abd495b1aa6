// The rate-limit fleet, shared by the fleet test and the bench: PROCESSES Node processes send READS reads in all,
// CONCURRENCY at a time each, to one stand-in on 127.0.0.1 whose read budget is BUDGET a second, sharing tokens (and,
// with `share`, their budget) through one real Redis. What the fleet saw: every caller's status, the 429 answers the
// stand-in gave (in all, per process, and the most one process got in one window), the budget used, the auth requests.
import { execFile } from 'node:child_process'
import { createStandIn } from '../../dist/testing.js'
import { serve } from '../helpers/index.mjs'

const INSTANCE = new URL('./rate-instance.mjs', import.meta.url).pathname

/** One run of the fleet; `share`: the budget shared through the store, or each process pacing on its own. */
export async function rateFleet({ redisUrl, share, processes = 6, reads = 360, budget = 40, concurrency = 10 }) {
  const apiKey = `fleet-key-${Math.random().toString(36).slice(2)}`
  const standIn = createStandIn({ apiKeys: [apiKey], rateLimits: { reads: budget, windowMs: 1000 } })
  const server = await serve(standIn.handler)
  const startAt = Date.now() + 1_000
  const env = {
    ...process.env,
    REDIS_URL: redisUrl,
    STAND_IN_URL: server.url,
    API_KEY: apiKey,
    SHARE: share ? '1' : '0',
    READS: String(reads / processes),
    CONCURRENCY: String(concurrency),
    START_AT: String(startAt),
  }
  try {
    const runs = await Promise.all(
      Array.from(
        { length: processes },
        () =>
          new Promise((resolve, reject) =>
            execFile(process.execPath, [INSTANCE], { env, timeout: 60_000 }, (error, stdout, stderr) =>
              error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
            ),
          ),
      ),
    )
    const { counts } = standIn
    const seconds = (Math.max(...runs.map((run) => run.finishedAt)) - startAt) / 1000
    return {
      notOk: runs.reduce((sum, run) => sum + reads / processes - (run.statuses[200] ?? 0), 0),
      tooMany: counts.rateLimited,
      tooManyPerProcess: runs.map((run) => run.waits['too-many-requests']),
      mostInAWindow: Math.max(0, ...runs.flatMap((run) => Object.values(run.tooManyByWindow))),
      seconds,
      used: reads / budget / seconds,
      auth: counts.auth,
      failures: runs.flatMap((run) => run.failures),
    }
  } finally {
    await server.close()
  }
}
