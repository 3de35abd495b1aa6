// How the tests reach a recipe's `increment` while running the recipe as written: the recipe imports
// 'apivideo-auth/share', and in the test's workspace that name is a module written here, which wraps the real
// shareTokens. Before the session's first renewal it runs the test's plan of increments through the very store the
// recipe built, posts what each increment answered to a collector on 127.0.0.1, and then lets the renewal go on as
// the add-on does it. The same module text serves Node, Deno and a Worker bundled by esbuild.
import { createServer } from 'node:http'

/**
 * The text of the counting module. `shareUrl` is the real add-on (a file: URL, or a path the bundler resolves);
 * `plan` is `{ collector, steps }`, each step `{ key, ttlMs }` and either `{ increments, concurrency }` (that many
 * increments, so many at a time) or `{ untilResetMs }` (one after another until one answers 1 again, for at most
 * that long). Its report: `{ steps: [counts…], error? }`, the answers of each step in the order they came.
 * @example
 * writeFileSync('share.mjs', countingShare(pathToFileURL('dist/share.js').href, { collector, steps }))
 */
export function countingShare(shareUrl, plan) {
  return `import { shareTokens as shareTokensOf } from ${JSON.stringify(shareUrl)}

const PLAN = ${JSON.stringify(plan)}

export function shareTokens(store, options) {
  const hook = shareTokensOf(store, options)
  return (context) => {
    const share = hook(context)
    let planned
    return {
      ...share,
      async renew(...args) {
        planned ??= runPlan(store)
        await planned
        return share.renew(...args)
      },
    }
  }
}

async function runPlan(store) {
  const report = { steps: [] }
  try {
    for (const step of PLAN.steps) {
      const counts = []
      report.steps.push(counts)
      const increment = () => store.increment(step.key, step.ttlMs)
      if (step.untilResetMs) {
        const deadline = Date.now() + step.untilResetMs
        counts.push(await increment())
        for (let count = 0; count !== 1 && Date.now() < deadline; ) counts.push((count = await increment()))
      } else {
        for (let done = 0; done < step.increments; done += step.concurrency) {
          const batch = Array.from({ length: Math.min(step.concurrency, step.increments - done) }, increment)
          counts.push(...(await Promise.all(batch)))
        }
      }
    }
  } catch (error) {
    report.error = String(error && error.message ? error.message : error)
  }
  const answer = await fetch(PLAN.collector, { method: 'POST', body: JSON.stringify(report) })
  await answer.arrayBuffer()
}
`
}

/**
 * A server on 127.0.0.1 that keeps the reports posted to it, in `reports`; `url` to post to, `close()`.
 * @example
 * const collector = await startCollector()
 * // … run the recipes with plans posting to collector.url, then:
 * collector.reports.splice(0)
 */
export async function startCollector() {
  const reports = []
  const server = createServer((request, response) => {
    let body = ''
    request.setEncoding('utf8')
    request.on('data', (chunk) => (body += chunk))
    request.on('end', () => {
      reports.push(JSON.parse(body))
      response.end('ok')
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}/`
  return { reports, url, close: () => new Promise((resolve) => server.close(resolve)) }
}
