// docs/webhooks.md shows each receiver of examples/webhooks/ in full: the block whose first line names a file,
// `// examples/webhooks/<file>: …`, is that file, byte for byte, under the heading of its framework.
import { readdirSync, readFileSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { extractBlocks } from './run.mjs'

const root = new URL('../../', import.meta.url)
const read = (path) => readFileSync(new URL(path, root), 'utf8')
const NAMED = /^\/\/ (examples\/webhooks\/[\w-]+\.mjs):/

/** The framework each file is for, as the heading above its block names it. */
const HEADINGS = {
  'node-http.mjs': 'node:http',
  'express.mjs': 'Express',
  'fastify.mjs': 'Fastify',
  'hono-node.mjs': 'Hono on Node',
  'koa.mjs': 'Koa',
  'next-route.mjs': 'Next.js (App Router)',
}

/** The blocks of a Markdown text that name an example file on their first line, by that file. */
export function namedBlocks(markdown) {
  const found = new Map()
  for (const block of extractBlocks(markdown, 'docs/webhooks.md')) {
    const path = NAMED.exec(block.code)?.[1]
    if (path) found.set(path, [...(found.get(path) ?? []), block])
  }
  return found
}

const examples = suite('docs/webhooks.md shows examples/webhooks/ as it is')

examples('each receiver file is one block of the doc, identical, under its framework heading', () => {
  const files = readdirSync(new URL('examples/webhooks/', root)).filter((file) => file.endsWith('.mjs'))
  assert.equal(files.sort(), Object.keys(HEADINGS).sort(), 'a receiver without its heading here, or one missing')
  const blocks = namedBlocks(read('docs/webhooks.md'))
  for (const file of files) {
    const path = `examples/webhooks/${file}`
    const shown = blocks.get(path) ?? []
    assert.is(shown.length, 1, `docs/webhooks.md shows ${path} ${shown.length} times`)
    assert.is(shown[0].language, 'js', path)
    assert.is(shown[0].heading, HEADINGS[file], `the heading above ${path}`)
    // The doc's block, as extracted, has no final newline; the file has one.
    assert.fixture(`${shown[0].code}\n`, read(path), `${path} differs from its block in docs/webhooks.md`)
  }
  assert.equal(
    [...blocks.keys()].filter((path) => !files.includes(path.replace('examples/webhooks/', ''))),
    [],
    'blocks naming files that do not exist',
  )
})

examples('the check reads both sides: a changed line, a second copy, or a block for no file is caught', () => {
  const markdown = [
    '### Koa',
    '```js',
    '// examples/webhooks/koa.mjs: one',
    'const a = 1',
    '```',
    '### Koa again',
    '```js',
    '// examples/webhooks/koa.mjs: two',
    '```',
    '```js',
    '// examples/webhooks/none.mjs: three',
    '```',
    '```js',
    '// not named',
    '```',
  ].join('\n')
  const blocks = namedBlocks(markdown)
  assert.equal([...blocks.keys()], ['examples/webhooks/koa.mjs', 'examples/webhooks/none.mjs'])
  assert.equal(
    blocks.get('examples/webhooks/koa.mjs').map((b) => [b.heading, b.code]),
    [
      ['Koa', '// examples/webhooks/koa.mjs: one\nconst a = 1'],
      ['Koa again', '// examples/webhooks/koa.mjs: two'],
    ],
  )
})

examples.run()
