// Import cost: wall time and peak RSS of a Node process that imports a module, against one that imports an empty
// ES module file (what Node charges for any first ES module is then in both).
import { median, rotate, timed } from './lib.mjs'

const RSS = 'process.stdout.write(String(process.resourceUsage().maxRSS))'

/** What each process runs (`node -e …`): the timing runs run exactly this; the memory runs then print maxRSS. */
export const VARIANTS = {
  empty: '',
  emptyModule: "import('./bench/fixtures/empty.mjs')",
  ours: "import('./dist/index.js')",
  oursCjs: "require('./dist/index.cjs')",
  official: "import('@api.video/nodejs-client')",
}

/**
 * The environment of a plain Node: without NODE_OPTIONS, and without NODE_EXTRA_CA_CERTS, which makes
 * every Node process read and parse a CA bundle at startup (tens of ms on some machines).
 */
export function plainEnv() {
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  delete env.NODE_EXTRA_CA_CERTS
  return env
}

function withRss(code) {
  if (!code) return RSS
  return code.startsWith('require') ? `${code}; ${RSS}` : `${code}.then(() => ${RSS})`
}

/**
 * Interleaved rounds (order rotated each round, two warm-up rounds dropped): medians, and ratios as
 * medians of per-round ratios. Peak RSS comes from separate runs that print it, when `memory` is set.
 */
export async function measureImportCost({ rounds = 40, env = plainEnv(), memory = true } = {}) {
  const names = Object.keys(VARIANTS)
  const ms = Object.fromEntries(names.map((n) => [n, []]))
  const rss = Object.fromEntries(names.map((n) => [n, []]))
  for (let round = -2; round < rounds; round++) {
    for (const name of rotate(names, round + 2)) {
      const t = await timed(['-e', VARIANTS[name]], env)
      const m = memory && (await timed(['-e', withRss(VARIANTS[name])], env))
      if (round < 0) continue
      ms[name].push(t.ms)
      if (m) rss[name].push(Number(m.stdout) / 1024)
    }
  }
  const over = (name, base) => median(ms[name].map((v, i) => v / ms[base][i]))
  return {
    rounds,
    ms: Object.fromEntries(names.map((n) => [n, median(ms[n])])),
    rssMB: memory ? Object.fromEntries(names.map((n) => [n, median(rss[n])])) : undefined,
    ratio: Object.fromEntries(names.map((n) => [n, over(n, 'empty')])),
    overEmptyModule: Object.fromEntries(names.map((n) => [n, over(n, 'emptyModule')])),
  }
}
