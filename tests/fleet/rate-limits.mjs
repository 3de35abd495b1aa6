// The rate-limit fleet proof: 6 Node processes on one real Redis send 360 reads to a stand-in whose read budget is
// 40 a second, sharing their tokens, once sharing their budget too and once each pacing on its own. Run by
// `npm run test:fleet`, which needs REDIS_URL or a redis-server binary.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { findRedis } from './redis.mjs'
import { rateFleet } from './rate-fleet.mjs'

const SHAPE = { processes: 6, reads: 360, budget: 40, concurrency: 10 }
const redis = await findRedis()
const fleet = suite('fleet: a budget shared through Redis')
const runs = {}

fleet(
  'with the share: every caller a 200, at most two 429s a process a window, the budget used, one auth',
  async () => {
    const run = (runs.shared = await rateFleet({ ...SHAPE, redisUrl: redis.url, share: true }))
    console.log(`  with the share: ${JSON.stringify(run)}`)
    assert.is(run.notOk, 0, 'callers without a 200')
    assert.ok(run.used >= 0.6, `budget used ${(run.used * 100).toFixed(0)}%`)
    assert.ok(run.mostInAWindow <= 2, `${run.mostInAWindow} 429s for one process in one window`)
    assert.ok(run.auth <= 2, `${run.auth} auth requests`)
    assert.equal(run.failures, [], 'no store call failed')
  },
)

fleet('without the share: every caller a 200 too, and at least twice the 429s', async () => {
  const run = (runs.alone = await rateFleet({ ...SHAPE, redisUrl: redis.url, share: false }))
  console.log(`  without: ${JSON.stringify(run)}`)
  assert.is(run.notOk, 0, 'callers without a 200')
  assert.ok(runs.shared.tooMany * 2 <= run.tooMany, `${runs.shared.tooMany} 429s shared, ${run.tooMany} without`)
})

fleet.after(() => redis.stop())
fleet.run()
