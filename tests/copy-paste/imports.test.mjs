import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { codeOnly, importsByEsbuild, importsByRegex } from './imports.mjs'

const detector = suite('copy-paste import detector')

detector('finds every form of import and require, with its line', async () => {
  const text = [
    "import { a } from './a.js'",
    "import './side-effect.js'",
    "import type { T } from './types.js'",
    "export { b } from './b.js'",
    "export * from './c.js'",
    "const d = await import('./d.js')",
    "const e = require('e')",
    'const f = await import(`./${name}.js`)',
  ].join('\n')
  assert.equal(
    importsByRegex(text).map((found) => found.split(':')[0]),
    ['line 1', 'line 2', 'line 3', 'line 4', 'line 5', 'line 6', 'line 7', 'line 8'],
  )
})

detector('ignores comments, strings, templates and regex literals that mention imports, and import.meta', () => {
  const text = [
    '/**',
    ' * @example',
    " * import { createSession } from 'apivideo-auth'",
    ' */',
    "// const x = require('x')",
    'const message = \'no import() here, and no require("x") either\'',
    'const hint = `import ${"from \'y\'"} here: ${`nested import("z")`}`',
    "const accept = { accept: '*/*' } // not a comment opener",
    'const pattern = /import\\(|require\\(/g',
    'const ratio = total / 2 / count',
    'const url = import.meta.url',
  ].join('\n')
  assert.equal(importsByRegex(text), [])
})

detector('blanks contents but keeps the code around them, line for line', () => {
  const text = "a('import') // require\nb(`x${c('from \"d\"')}y`)"
  const code = codeOnly(text)
  assert.is(code.split('\n').length, 2)
  assert.is(code, "a('      ')           \nb(` ${c('        ')} `)")
})

detector('esbuild sees static, dynamic and require imports, and nothing in a file without any', async () => {
  const text = [
    "import { a } from './a.js'",
    "export * from 'node:fs'",
    "const d = () => import('./d.js')",
    "const e = require('e')",
  ]
  assert.equal(await importsByEsbuild(text.join('\n'), 'js'), [
    'import-statement ./a.js',
    'import-statement node:fs',
    'dynamic-import ./d.js',
    'require-call e',
  ])
  assert.equal(await importsByEsbuild("/** import { x } from 'y' */\nexport const z = 'import(\"w\")'\n", 'ts'), [])
})

detector.run()
