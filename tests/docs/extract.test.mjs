import { existsSync, readFileSync } from 'node:fs'
import * as assert from 'uvu/assert'
import { suite } from 'uvu'
import { extractBlocks, kindOf, optOut, playsPrivateVideos, receivesWebhooks } from './run.mjs'

const extraction = suite('doc test: block extraction')

extraction(
  'takes js, javascript, mjs, ts and typescript blocks, with their line and heading, and nothing else',
  () => {
    const markdown = [
      '# Title',
      '```sh',
      'npm install apivideo-auth',
      '```',
      '## Quick start',
      '```js',
      "console.log('js')",
      '```',
      '```TypeScript',
      'const n: number = 1',
      '```',
      '```mjs',
      '```',
      '```json',
      '{}',
      '```',
      '```',
      'plain',
      '```',
    ].join('\n')
    const blocks = extractBlocks(markdown, 'README.md')
    assert.equal(
      blocks.map(({ line, heading, language, code }) => [line, heading, language, code]),
      [
        [6, 'Quick start', 'js', "console.log('js')"],
        [9, 'Quick start', 'typescript', 'const n: number = 1'],
        [12, 'Quick start', 'mjs', ''],
      ],
    )
  },
)

extraction('a block indented in a list item loses its indent; a longer fence holds a shorter one', () => {
  const markdown = [
    '- item:',
    '',
    '  ```ts',
    '  const a = 1',
    '    const b = 2',
    '  ```',
    '````js',
    '```',
    '````',
  ].join('\n')
  assert.equal(
    extractBlocks(markdown, 'x.md').map((b) => b.code),
    ['const a = 1\n  const b = 2', '```'],
  )
})

extraction.run()

const runtimes = suite('doc test: runtime of a block')

runtimes(
  'follows the code: Deno, Bun, a Worker, a Lambda handler, an Edge or Next route, a Node server, else Node',
  () => {
    assert.equal(kindOf("import { createSession } from 'npm:apivideo-auth'"), { runtime: 'deno', server: false })
    assert.equal(kindOf("const key = Deno.env.get('X')"), { runtime: 'deno', server: false })
    assert.equal(kindOf('Deno.serve(() => new Response())'), { runtime: 'deno', server: true })
    assert.equal(kindOf('Bun.serve({ fetch: () => new Response() })'), { runtime: 'bun', server: true })
    assert.equal(kindOf('export default {\n  async fetch(request, env) {}\n}'), { runtime: 'workerd' })
    assert.equal(kindOf('export const handler = async () => ({})'), { runtime: 'node', drive: 'lambda' })
    assert.equal(kindOf("export const runtime = 'edge'\nexport async function GET() {}"), {
      runtime: 'node',
      drive: 'edge',
    })
    assert.equal(
      kindOf("// main.ts: deno run --allow-env main.ts\nimport { createSession } from './apivideo-auth.ts'"),
      { runtime: 'deno', server: false },
    )
    assert.equal(kindOf("// main.ts: bun run main.ts\nimport { createSession } from './apivideo-auth.ts'"), {
      runtime: 'bun',
      server: false,
    })
    assert.equal(kindOf("import { createSession } from 'apivideo-auth'"), { runtime: 'node' })
    // A Node program that listens on PORT (Express, Fastify, Hono, Koa, node:http) is a server, driven like Bun's.
    assert.equal(kindOf('const server = app.listen(Number(process.env.PORT ?? 3000), host)'), {
      runtime: 'node',
      server: true,
    })
    assert.equal(kindOf('const port = process.env.PORTS'), { runtime: 'node' })
    // A Next.js route file: its POST is called as the route.
    assert.equal(kindOf('export async function POST(request) {}'), { runtime: 'node', drive: 'edge' })
    assert.equal(kindOf("const note = 'deno run is not a comment here'"), { runtime: 'node' })
  },
)

runtimes('a block that calls verifyWebhook is a webhook receiver, driven with signed deliveries', () => {
  assert.ok(receivesWebhooks('const event = await verifyWebhook(request, { secret })'))
  assert.not.ok(receivesWebhooks("import { webhookSecrets } from 'apivideo-auth/webhooks'"))
  assert.not.ok(receivesWebhooks('const verifyWebhooks = 1'))
})

runtimes('a block that imports apivideo-auth/private plays private videos, under each name it is imported by', () => {
  assert.ok(playsPrivateVideos("import { privateVideo } from 'apivideo-auth/private'"))
  assert.ok(playsPrivateVideos('import { privateVideo } from "npm:apivideo-auth/private"'))
  assert.ok(playsPrivateVideos("import { privateVideo } from 'jsr:@apivideo-auth/apivideo-auth/private'"))
  assert.not.ok(playsPrivateVideos("import { createSession } from 'apivideo-auth'"))
  assert.not.ok(playsPrivateVideos('const privateVideo = 1'))
})

runtimes.run()

const optOuts = suite('doc test: opting out')

optOuts('a block opts out only with a comment that says why', () => {
  assert.equal(optOut('// doc-test: skip (needs a real Upstash database)\nconst a = 1'), {
    reason: 'needs a real Upstash database',
  })
  assert.equal(optOut('// doc-test: skip\nconst a = 1'), { reason: '' })
  assert.equal(optOut('// doc-test: skip ()'), { reason: '' })
  assert.equal(optOut('const a = 1 // a comment about doc tests'), undefined)
})

optOuts.run()

const readme = suite('doc test: the README')

readme('is at most 10 KB and links the six docs pages, CONTRIBUTING, CHANGELOG and SECURITY, which exist', () => {
  const root = new URL('../../', import.meta.url)
  const text = readFileSync(new URL('README.md', root), 'utf8')
  const bytes = Buffer.byteLength(text)
  assert.ok(bytes <= 10 * 1024, `README.md is ${bytes} B`)
  const pages = ['session', 'sharing', 'testing', 'cli', 'runtimes', 'observability'].map((page) => `docs/${page}.md`)
  for (const file of [...pages, 'CONTRIBUTING.md', 'CHANGELOG.md', 'SECURITY.md']) {
    assert.ok(text.includes(`](${file})`), `README.md does not link ${file}`)
    assert.ok(existsSync(new URL(file, root)), `${file} is missing`)
  }
  // Every relative link resolves to a file of the repository.
  for (const [, target] of text.matchAll(/\]\((?!https?:|#)([^)#\s]+)/g))
    assert.ok(existsSync(new URL(target, root)), `README.md links ${target}, which does not exist`)
})

readme.run()
