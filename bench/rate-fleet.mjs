// The rate-limit fleet in the bench: the same fleet as tests/fleet/rate-limits.mjs, with the share and without, on
// one real Redis (REDIS_URL, or a redis-server started for the run).
import { findRedis } from '../tests/fleet/redis.mjs'

const SHAPE = { processes: 6, reads: 360, budget: 40, concurrency: 10 }

export async function measureRateFleet() {
  // Imported once dist/ is built: the fleet reads the stand-in from it.
  const { rateFleet } = await import('../tests/fleet/rate-fleet.mjs')
  const redis = await findRedis()
  try {
    const runs = {}
    runs['with the share'] = await rateFleet({ ...SHAPE, redisUrl: redis.url, share: true })
    runs['without'] = await rateFleet({ ...SHAPE, redisUrl: redis.url, share: false })
    return { ...SHAPE, runs }
  } finally {
    await redis.stop()
  }
}
